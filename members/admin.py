"""The operators' back-office for members data (会員・契約・同意・提携先).

Thin by design: forms collect input, ``members.services`` writes it, ``members.selectors`` reads.
Every member page view, search and export leaves an access-log row; search terms never do.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import SEARCH_VAR
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from consentoffice.core import roles
from consentoffice.core.admin import (
    ReadOnlyInline,
    ReadOnlyModelAdmin,
    ServiceModelAdmin,
    action_form_response,
)
from consentoffice.core.crypto import mask
from consentoffice.core.csv_export import csv_lines
from members import access_details, selectors, services
from members.admin_inlines import MEMBER_PAGE_INLINES
from members.admin_inlines import register_member_inline as register_member_inline
from members.admin_search import MemberNoSearchMixin
from members.display import describe_sync_error, sync_payload_html
from members.forms import (
    AffiliateForm,
    ConsentVersionForm,
    ContactRecordForm,
    ContractApplicationForm,
    DeclineForm,
    IdentityDocumentForm,
    MemberAdminForm,
    RotateSecretForm,
)
from members.models import (
    CATEGORY_1_FIELDS,
    AccessAction,
    AccessLog,
    Affiliate,
    Consent,
    ConsentVersion,
    ContactRecord,
    Contract,
    Contractor,
    ContractStatus,
    Entrustment,
    FinancialDeclaration,
    IdentityDocument,
    Member,
    PartnerSyncEvent,
    ProvisionRecord,
    Purpose,
)

# --- Sensitive values on a page ---------------------------------------------------------------


class ContractInline(ReadOnlyInline):
    model = Contract
    verbose_name_plural = pgettext_lazy("plural", "契約")
    fields = readonly_fields = (
        "contract_no",
        "kind",
        "product_name",
        "status",
        "applied_on",
        "contracted_on",
        "ended_on",
        "credit_limit",
        "installments",
        "settlement_account_display",
    )
    show_change_link = True

    @admin.display(description=_("決済口座"))
    def settlement_account_display(self, obj):
        return selectors.show_sensitive(
            self.request, obj.settlement_account, Contract._meta.get_field("settlement_account").verbose_name
        )


class PartnerCardInline(ReadOnlyInline):
    model = Contract
    verbose_name = pgettext_lazy("model", "提携カード")
    verbose_name_plural = pgettext_lazy("plural", "提携カード")
    fields = readonly_fields = (
        "contract_no",
        "affiliate",
        "product_name",
        "status",
        "applied_on",
        "contracted_on",
    )
    select_related = ("affiliate",)
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).filter(affiliate__isnull=False)


class ConsentInline(ReadOnlyInline):
    model = Consent
    fields = readonly_fields = ("purpose", "granted", "version", "recorded_at", "source")
    select_related = ("purpose", "version")


class ContactRecordInline(ReadOnlyInline):
    model = ContactRecord
    fields = readonly_fields = ("at", "channel", "inbound", "summary", "recording_ref", "recorded_by")
    select_related = ("recorded_by",)


class IdentityDocumentInline(ReadOnlyInline):
    model = IdentityDocument
    fields = readonly_fields = ("kind", "number_display", "verified_by", "verified_at", "note")
    select_related = ("verified_by",)

    @admin.display(description=_("記号番号"))
    def number_display(self, obj):
        return selectors.show_sensitive(
            self.request, obj.number, IdentityDocument._meta.get_field("number").verbose_name
        )


class FinancialDeclarationInline(ReadOnlyInline):
    model = FinancialDeclaration
    fields = readonly_fields = ("declared_on", "annual_income_display", "assets", "debts", "note")

    @admin.display(description=_("年収（円）"))
    def annual_income_display(self, obj):
        return selectors.show_sensitive(
            self.request,
            obj.annual_income,
            FinancialDeclaration._meta.get_field("annual_income").verbose_name,
        )


class ProvisionRecordInline(ReadOnlyInline):
    """Records of provision to third parties (第三者提供記録, APPI Art. 29): bureaus and partners."""

    model = ProvisionRecord
    fields = readonly_fields = ("provided_on", "recipient_kind", "recipient", "items", "basis", "kept_until")


# --- Member -----------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    _("会員番号"),
    _("氏名"),
    _("フリガナ"),
    _("生年月日"),
    _("性別"),
    _("郵便番号"),
    _("住所"),
    _("電話番号"),
    _("メールアドレス"),
    _("状態"),
    _("年収（円・最新の申告）"),
)


@admin.register(Member)
class MemberAdmin(ServiceModelAdmin):
    form = MemberAdminForm
    list_display = ("member_no_link", "name", "kana", "phone_display", "prefecture", "status")
    # A member's number leads to the member workspace, as every member link does; this form is one
    # click further, from the workspace.
    list_display_links = None
    list_filter = ("status", "prefecture", "gender")
    # The search itself is ``selectors.search_members``; this only turns the search box on.
    search_fields = ("member_no",)
    search_help_text = _(
        "会員番号・電話番号（どの書き方でも）・フリガナ（ひらがな・半角可、前方一致）・"
        "氏名（姓から前方一致）・メールアドレスのいずれかで検索します。"
    )
    actions = ("export_csv",)
    inlines = (
        ContractInline,
        PartnerCardInline,
        ConsentInline,
        ContactRecordInline,
        IdentityDocumentInline,
        FinancialDeclarationInline,
        ProvisionRecordInline,
    )
    change_readonly_fields = ("member_no", "provision_stopped", "created_at", "updated_at")

    @admin.display(description=_("会員番号"), ordering="member_no")
    def member_no_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("member_workspace", args=[obj.member_no]),
            obj.member_no,
        )

    @admin.display(description=_("氏名"), ordering="search_name")
    def name(self, obj):
        return obj.full_name

    @admin.display(description=_("フリガナ"), ordering="search_kana")
    def kana(self, obj):
        return obj.full_name_kana

    @admin.display(description=_("電話番号"), ordering="phone")
    def phone_display(self, obj):
        return obj.phone_display

    def get_fieldsets(self, request, obj=None):
        numbers = (
            ("member_no", "status", "provision_stopped", ("created_at", "updated_at"))
            if obj
            else ("member_no", "status")
        )
        return (
            (_("番号・状態"), {"fields": numbers}),
            (
                _("氏名・フリガナ"),
                {"fields": (("family_name", "given_name"), ("family_name_kana", "given_name_kana"))},
            ),
            (_("生年月日・性別"), {"fields": ("birth_date", "gender")}),
            (_("住所"), {"fields": ("postal_code", "prefecture", "city", "address_line")}),
            (_("連絡先"), {"fields": ("phone", "email")}),
            (
                _("勤務先・職業・家族構成・住居・取引目的"),
                {"fields": ("employer_name", "occupation", "household", "housing", "transaction_purpose")},
            ),
            (_("変更理由") if obj else _("登録理由"), {"fields": ("reason",)}),
        )

    def get_readonly_fields(self, request, obj=None):
        # Personal items (category ①) change through a change notification (住所変更等の届出) or
        # a correction request, both from the member workspace, never by editing this form.
        return (*self.change_readonly_fields, *CATEGORY_1_FIELDS) if obj else ()

    def get_inlines(self, request, obj):
        return (*self.inlines, *MEMBER_PAGE_INLINES) if obj else ()

    @admin.display(description=mark_safe('<input type="checkbox" id="action-toggle">'))
    def action_checkbox(self, obj):
        """The row's checkbox as Django renders it, written directly: rendering a form widget per
        row through the template engine was a quarter of the list page's time (issue 7)."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            admin.helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(gettext("Select this object for an action - {}"), obj),
        )

    def get_search_results(self, request, queryset, search_term):
        term = selectors.parse_search_term(search_term)
        if term is None:
            return queryset, False
        results = queryset.filter(term.as_q())
        match = getattr(request, "resolver_match", None)
        if match is not None and match.url_name == "autocomplete":
            # The changelist logs its searches with the count it shows; autocomplete counts here.
            self._log_search(request, term, results.count(), source="autocomplete")
        return results, False

    def _log_search(self, request, term, hits: int, source: str) -> None:
        services.record_search(user=request.user, term=term, hits=hits, via=source, request=request)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        context = getattr(response, "context_data", None) or {}
        term = selectors.parse_search_term(request.GET.get(SEARCH_VAR))
        if term is not None and "cl" in context:
            self._log_search(request, term, context["cl"].result_count, source="changelist")
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        member = (getattr(response, "context_data", None) or {}).get("original")
        if request.method == "GET" and member is not None:
            services.record_access(
                user=request.user, action=AccessAction.VIEW, member=member, request=request
            )
            response.render()
            services.record_sensitive_shown(request=request, member=member)
        return response

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["workspace_url"] = reverse("member_workspace", args=[obj.member_no])
            # Per purpose: may the data be used today, and why not (selectors.may_use's rule).
            context["uses"] = selectors.use_rows(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def perform_save(self, request, obj, form, change):
        reason = form.cleaned_data.get("reason", "")
        if change:
            return services.update_member(obj, actor=request.user, reason=reason, **form.changes())
        return services.create_member(actor=request.user, reason=reason, **form.member_fields())

    @admin.action(description=_("選択した会員をCSV出力"), permissions=["view"])
    def export_csv(self, request, queryset):
        limit = settings.MEMBER_EXPORT_LIMIT
        if (
            not request.user.has_perm(roles.EXPORT_MANY_MEMBERS)
            and queryset.order_by()[: limit + 1].count() > limit
        ):
            self.message_user(
                request,
                gettext(
                    "一度にCSV出力できるのは%(limit)d人までです。それより多い出力は個人情報保護管理者に依頼してください。"
                )
                % {"limit": limit},
                messages.ERROR,
            )
            return None
        members = list(selectors.members_for_export(queryset.values("pk")))
        rows = (
            [
                member.member_no,
                member.full_name,
                member.full_name_kana,
                member.birth_date.isoformat(),
                member.get_gender_display(),
                member.postal_code_display,
                member.address,
                member.phone_display,
                member.email,
                member.get_status_display(),
                selectors.sensitive_display(
                    member.declarations_newest_first[0].annual_income
                    if member.declarations_newest_first
                    else None,
                    viewer=request.user,
                ),
            ]
            for member in members
        )
        response = HttpResponse(
            "".join(csv_lines([str(column) for column in EXPORT_COLUMNS], rows)),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="members-{timezone.localdate():%Y%m%d}.csv"'
        response["Cache-Control"] = "no-store"
        clear = selectors.may_view_sensitive(request.user)
        services.record_access_bulk(
            user=request.user,
            action=AccessAction.EXPORT,
            members=members,
            request=request,
            detail="csv sensitive=clear" if clear else "csv sensitive=masked",
        )
        return response


# --- Contracts and applications (Art. 5) ----------------------------------------------------------


@admin.register(Contract)
class ContractAdmin(ServiceModelAdmin):
    form = ContractApplicationForm
    editable = False
    list_display = ("contract_no", "member", "kind", "product_name", "affiliate", "status", "applied_on")
    list_filter = ("status", "kind", "affiliate")
    list_select_related = ("member", "affiliate")
    search_fields = ("=contract_no",)
    search_help_text = _("契約番号で検索します。")
    autocomplete_fields = ("member",)
    readonly_fields = ("settlement_account_masked",)
    actions = ("approve_applications", "decline_applications")
    view_fields = (
        "contract_no",
        "member",
        "kind",
        "product_name",
        "affiliate",
        "consent_version",
        "status",
        "applied_on",
        "contracted_on",
        "ended_on",
        "decline_reason",
        "credit_limit",
        "installments",
        "settlement_account_masked",
    )

    def has_decide_permission(self, request):
        return request.user.has_perm(roles.DECIDE_APPLICATION)

    def get_fields(self, request, obj=None):
        return self.view_fields if obj else ContractApplicationForm._meta.fields

    @admin.display(description=_("決済口座"))
    def settlement_account_masked(self, obj):
        return mask(obj.settlement_account)

    def perform_save(self, request, obj, form, change):
        fields = {f: v for f, v in form.cleaned_data.items() if v is not None}
        return services.apply_for_contract(actor=request.user, **fields)

    @admin.action(description=_("選択した申込を承認"), permissions=["decide"])
    def approve_applications(self, request, queryset):
        done = self._decide(request, queryset, approve=True)
        if done:
            self.message_user(
                request, gettext("%(count)d件の申込を承認しました。") % {"count": done}, messages.SUCCESS
            )

    @admin.action(description=_("選択した申込を謝絶"), permissions=["decide"])
    def decline_applications(self, request, queryset):
        form = DeclineForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done = self._decide(request, queryset, approve=False, reason=form.cleaned_data["reason"])
            if done:
                self.message_user(
                    request, gettext("%(count)d件の申込を謝絶しました。") % {"count": done}, messages.SUCCESS
                )
            return None
        return action_form_response(
            self,
            request,
            template="admin/members/contract/decline_applications.html",
            title=_("申込の謝絶"),
            form=form,
            objects=queryset.select_related("member"),
            action_name="decline_applications",
        )

    def _decide(self, request, queryset, *, approve: bool, reason: str = "") -> int:
        done = 0
        for contract in queryset.filter(status=ContractStatus.APPLIED):
            try:
                services.decide_application(contract, approve=approve, actor=request.user, reason=reason)
            except ValidationError as exc:
                self.message_user(
                    request, f"{contract.contract_no}: {' '.join(exc.messages)}", messages.ERROR
                )
            else:
                done += 1
        skipped = queryset.exclude(status=ContractStatus.APPLIED).count()
        if skipped:
            self.message_user(
                request,
                gettext("申込中でない契約%(count)d件は対象外です。") % {"count": skipped},
                messages.WARNING,
            )
        return done


# --- Other categories with their own add pages -----------------------------------------------------


@admin.register(ContactRecord)
class ContactRecordAdmin(MemberNoSearchMixin, ServiceModelAdmin):
    form = ContactRecordForm
    editable = False
    list_display = ("at", "member", "channel", "inbound", "recorded_by")
    list_filter = ("channel", "inbound")
    list_select_related = ("member", "recorded_by")
    search_fields = ("=member__member_no",)
    search_help_text = _("会員番号で検索します。")
    autocomplete_fields = ("member",)

    def get_fields(self, request, obj=None):
        fields = ContactRecordForm._meta.fields
        return (*fields, "recorded_by") if obj else fields

    def perform_save(self, request, obj, form, change):
        return services.add_contact_record(actor=request.user, **form.cleaned_data)


@admin.register(IdentityDocument)
class IdentityDocumentAdmin(MemberNoSearchMixin, ServiceModelAdmin):
    form = IdentityDocumentForm
    editable = False
    list_display = ("verified_at", "member", "kind", "number_masked", "verified_by")
    list_filter = ("kind",)
    list_select_related = ("member", "verified_by")
    search_fields = ("=member__member_no",)
    search_help_text = _("会員番号で検索します。")
    autocomplete_fields = ("member",)
    readonly_fields = ("number_masked",)

    def get_fields(self, request, obj=None):
        if obj:
            return ("member", "kind", "number_masked", "verified_by", "verified_at", "note")
        return IdentityDocumentForm._meta.fields

    @admin.display(description=_("記号番号"))
    def number_masked(self, obj):
        return mask(obj.number)

    def perform_save(self, request, obj, form, change):
        fields = {f: v for f, v in form.cleaned_data.items() if v is not None}
        return services.add_identity_document(actor=request.user, **fields)


# --- Consent versions (Art. 9) ------------------------------------------------------------------


@admin.register(ConsentVersion)
class ConsentVersionAdmin(ServiceModelAdmin):
    paginator = Paginator  # a register of a few rows: one exact count, no estimate
    form = ConsentVersionForm
    editable = False  # a draft is replaced by a new version; a published one is frozen (Art. 9)
    list_display = (
        "code",
        "title",
        "effective_from",
        "is_published",
        "published_at",
        "prepared_by",
        "published_by",
    )
    list_select_related = ("prepared_by", "published_by")
    readonly_fields = ("is_published",)
    actions = ("publish_versions",)
    view_fields = (
        "code",
        "title",
        "effective_from",
        "body",
        "body_sha256",
        "published_at",
        "prepared_by",
        "published_by",
    )

    def has_publish_permission(self, request, obj=None):
        return request.user.has_perm(roles.PUBLISH_CONSENT_VERSION)

    def get_fields(self, request, obj=None):
        return self.view_fields if obj else ConsentVersionForm._meta.fields

    @admin.display(description=_("公開済み"), boolean=True)
    def is_published(self, obj):
        return obj.is_published

    def perform_save(self, request, obj, form, change):
        return services.create_consent_version(actor=request.user, **form.cleaned_data)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/publish/",
                self.admin_site.admin_view(self.publish_view),
                name=f"{info[0]}_{info[1]}_publish",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_publish"] = (
            obj is not None and not obj.is_published and self.has_publish_permission(request)
        )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def publish_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_publish_permission(request):
            raise PermissionDenied
        version = self.get_object(request, unquote(object_id))
        if version is None:
            raise Http404
        self._publish(request, version)
        return HttpResponseRedirect(reverse("admin:members_consentversion_change", args=[version.pk]))

    @admin.action(description=_("選択した版を公開"), permissions=["publish"])
    def publish_versions(self, request, queryset):
        for version in queryset:
            self._publish(request, version)

    def _publish(self, request, version) -> None:
        try:
            services.publish_consent_version(version, actor=request.user)
        except (ValidationError, PermissionDenied) as exc:
            refusal = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            self.message_user(request, f"{version.code}: {' '.join(refusal)}", messages.ERROR)
        else:
            self.message_user(
                request, gettext("%(code)sを公開しました。") % {"code": version.code}, messages.SUCCESS
            )


# --- Affiliates (Art. 10) -----------------------------------------------------------------------


@admin.register(Affiliate)
class AffiliateAdmin(ServiceModelAdmin):
    paginator = Paginator  # a register of a few rows: one exact count, no estimate
    form = AffiliateForm
    list_display = ("code", "name", "endpoint", "basis", "active")
    list_filter = ("active", "basis")
    search_fields = ("code", "name")
    change_form_template = "admin/members/affiliate/change_form.html"

    def get_fields(self, request, obj=None):
        fields = ("code", "name", "endpoint", "basis", "shared_items", "active")
        if obj is None or self.has_change_permission(request, obj):
            fields = (*fields, "reason")
        return fields

    def perform_save(self, request, obj, form, change):
        saved = services.save_affiliate(
            actor=request.user,
            affiliate=obj if change else None,
            reason=form.cleaned_data.get("reason", ""),
            **form.affiliate_fields(),
        )
        request._issued_secret = saved.issued_secret
        return saved

    def response_add(self, request, obj, post_url_continue=None):
        secret = getattr(request, "_issued_secret", None)
        if secret:  # shown this once, never stored anywhere but encrypted in the affiliate row
            return self._secret_page(request, obj, secret)
        return super().response_add(request, obj, post_url_continue)

    def get_urls(self):
        return [
            path(
                "<int:pk>/rotate-secret/",
                self.admin_site.admin_view(self.rotate_secret_view),
                name="members_affiliate_rotate_secret",
            ),
            *super().get_urls(),
        ]

    def rotate_secret_view(self, request, pk: int):
        affiliate = get_object_or_404(Affiliate, pk=pk)
        if not self.has_change_permission(request, affiliate):
            raise PermissionDenied
        form = RotateSecretForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            secret = services.rotate_affiliate_secret(
                affiliate, actor=request.user, reason=form.cleaned_data["reason"]
            )
            return self._secret_page(request, affiliate, secret)
        return TemplateResponse(
            request,
            "admin/members/affiliate/rotate_secret.html",
            {
                **self.admin_site.each_context(request),
                "title": _("共有シークレットの再発行"),
                "opts": self.model._meta,
                "original": affiliate,
                "form": form,
            },
        )

    def _secret_page(self, request, affiliate, secret: str):
        response = TemplateResponse(
            request,
            "admin/members/affiliate/secret_issued.html",
            {
                **self.admin_site.each_context(request),
                "title": _("共有シークレットを発行しました"),
                "opts": self.model._meta,
                "original": affiliate,
                "secret": secret,
            },
        )
        response["Cache-Control"] = "no-store, private"
        return response


# --- Read-only registers ------------------------------------------------------------------------


@admin.register(Purpose)
class PurposeAdmin(ReadOnlyModelAdmin):
    paginator = Paginator  # a register of a few rows: one exact count, no estimate
    list_display = ("code", "name", "clause", "refusable", "stoppable")


@admin.register(PartnerSyncEvent)
class PartnerSyncEventAdmin(MemberNoSearchMixin, ReadOnlyModelAdmin):
    list_display = (
        "occurred_at",
        "member",
        "affiliate",
        "direction",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
    )
    list_filter = ("status", "direction", "affiliate")
    list_select_related = ("member", "affiliate")
    search_fields = ("=member__member_no",)
    search_help_text = _("会員番号で検索します。")
    actions = ("replay_dead_events",)
    fieldsets = (
        (None, {"fields": ("occurred_at", "member", "affiliate", "direction", "status")}),
        (_("内容"), {"fields": ("payload_display",)}),
        (_("送信"), {"fields": ("attempts", "next_attempt_at", "sent_at", "last_error_text")}),
        # The id the affiliate quotes back (409 on a replay): for looking an event up with them.
        (_("提携先との照合用"), {"fields": ("event_id",), "classes": ("collapse",)}),
    )
    readonly_fields = (
        "occurred_at",
        "member",
        "affiliate",
        "direction",
        "status",
        "payload_display",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error_text",
        "event_id",
    )

    @admin.display(description=_("内容"))
    def payload_display(self, obj: PartnerSyncEvent):
        return sync_payload_html(obj.payload)

    @admin.display(description=_("最後のエラー"))
    def last_error_text(self, obj: PartnerSyncEvent) -> str:
        return describe_sync_error(obj.last_error)

    def has_replay_permission(self, request) -> bool:
        return request.user.has_perm(roles.REPLAY_SYNC_EVENT)

    @admin.action(description=_("選択した送信不能イベントを再送"), permissions=["replay"])
    def replay_dead_events(self, request, queryset):
        """Supervisors send dead outbound events again (``partner_sync.replay``), each on its own."""
        from members import partner_sync
        from members.models import SyncDirection, SyncStatus

        dead = list(
            queryset.filter(status=SyncStatus.DEAD, direction=SyncDirection.OUTBOUND).select_related("member")
        )
        skipped = queryset.count() - len(dead)
        done = 0
        for event in dead:
            try:
                partner_sync.replay(event, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, f"{event.event_id}: {' '.join(exc.messages)}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(
                request, gettext("%(count)d件を再送待ちにしました。") % {"count": done}, messages.SUCCESS
            )
        if skipped:
            self.message_user(
                request,
                gettext("送信不能でないイベント%(count)d件は対象外です。") % {"count": skipped},
                messages.WARNING,
            )


@admin.register(Contractor)
class ContractorAdmin(ReadOnlyModelAdmin):
    paginator = Paginator  # a register of a few rows: one exact count, no estimate
    list_display = ("name", "business", "active")
    list_filter = ("active",)


@admin.register(Entrustment)
class EntrustmentAdmin(MemberNoSearchMixin, ReadOnlyModelAdmin):
    list_display = ("provided_on", "contractor", "member", "purpose", "returned_on")
    list_filter = ("contractor",)
    list_select_related = ("contractor", "member")
    search_fields = ("=member__member_no",)
    search_help_text = _("会員番号で検索します。")


@admin.register(ProvisionRecord)
class ProvisionRecordAdmin(MemberNoSearchMixin, ReadOnlyModelAdmin):
    list_display = ("provided_on", "member", "recipient_kind", "recipient", "basis", "kept_until")
    list_filter = ("recipient_kind", "basis")
    list_select_related = ("member",)
    search_fields = ("=member__member_no",)
    search_help_text = _("会員番号で検索します。")


@admin.register(AccessLog)
class AccessLogAdmin(MemberNoSearchMixin, ReadOnlyModelAdmin):
    list_display = ("at", "user", "action", "member", "ip_address", "path", "detail_text")
    list_filter = ("action",)
    list_select_related = ("user", "member")
    search_fields = ("=member__member_no", "=user__username")
    search_help_text = _("会員番号または利用者名で検索します。")
    fields = ("at", "user", "action", "member", "ip_address", "path", "detail_text")
    readonly_fields = fields

    @admin.display(description=_("詳細"))
    def detail_text(self, obj: AccessLog) -> str:
        return access_details.describe(obj.detail)


from members import admin_holds  # noqa: E402, F401  (legal holds: their own module)
