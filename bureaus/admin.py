"""The operators' bureau pages: what is pending per bureau, the files sent, the records returned.

Thin: every change goes through ``bureaus.services``. Registration records and batch files are
read-only here; the next steps (resubmit, import a response, make an inquiry) are buttons and
actions that call services.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import storages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from bureaus import selectors, services
from bureaus.display import payload_html
from bureaus.models import (
    LIVE_STATUSES,
    Bureau,
    Inquiry,
    InquiryPurpose,
    RecordType,
    Submission,
    SubmissionBatch,
    SubmissionStatus,
)
from consentoffice.core import roles
from consentoffice.core.admin import (
    ReadOnlyInline,
    ReadOnlyModelAdmin,
    ServiceModelAdmin,
    add_validation_error,
)
from members.admin import register_member_inline
from members.admin_search import MemberNoSearchMixin
from members.models import AccessAction
from members.services import record_access, record_access_set


def _submissions_url(**filters) -> str:
    return reverse("admin:bureaus_submission_changelist") + "?" + urlencode(filters)


@admin.register(Bureau)
class BureauAdmin(ReadOnlyModelAdmin):
    paginator = Paginator  # a register of a few rows: one exact count, no estimate
    list_display = ("code", "name", "kind", "pending", "rejected", "batched_count", "last_batch_at")
    fieldsets = (
        (None, {"fields": ("code", "name", "kind", "legal_basis", "registered_items")}),
        (_("連絡先"), {"fields": ("postal_code", "address", "phone", "phone_alt", "website")}),
        (_("送信状況"), {"fields": ("pending_summary", "recent_batches", "open_rejects")}),
    )
    readonly_fields = (
        "code",
        "name",
        "kind",
        "legal_basis",
        "registered_items",
        "postal_code",
        "address",
        "phone",
        "phone_alt",
        "website",
        "pending_summary",
        "recent_batches",
        "open_rejects",
    )

    def get_queryset(self, request):
        return selectors.bureaus_overview()

    @admin.display(description=_("送信待ち"), ordering="pending_count")
    def pending(self, obj: Bureau):
        return format_html(
            '<a href="{}">{}</a>',
            _submissions_url(bureau__id__exact=obj.pk, status__exact=SubmissionStatus.PENDING),
            obj.pending_count,
        )

    @admin.display(description=_("返却（要修正）"), ordering="rejected_count")
    def rejected(self, obj: Bureau):
        return format_html(
            '<a href="{}">{}</a>',
            _submissions_url(bureau__id__exact=obj.pk, status__exact=SubmissionStatus.REJECTED),
            obj.rejected_count,
        )

    @admin.display(description=_("結果待ち"))
    def batched_count(self, obj: Bureau):
        return obj.batched_count

    @admin.display(description=_("最後の登録ファイル"))
    def last_batch_at(self, obj: Bureau):
        return obj.last_batch_at or "-"

    @admin.display(description=_("送信待ちの内訳"))
    def pending_summary(self, obj: Bureau):
        rows = selectors.pending_by_record_type(obj)
        if not rows:
            return gettext("送信待ちはありません。")
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "", "<li>{}: {}</li>", ((RecordType(r["record_type"]).label, r["n"]) for r in rows)
            ),
        )

    @admin.display(description=_("最近の登録ファイル"))
    def recent_batches(self, obj: Bureau):
        batches = selectors.recent_batches(obj)
        if not batches:
            return gettext("登録ファイルはまだありません。")
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                '<li><a href="{}">{}</a> {} {} ({})</li>',
                (
                    (
                        reverse("admin:bureaus_submissionbatch_change", args=[b.pk]),
                        b,
                        b.created_at.strftime("%Y-%m-%d %H:%M"),
                        b.get_status_display(),
                        b.record_count,
                    )
                    for b in batches
                ),
            ),
        )

    @admin.display(description=_("返却された登録情報"))
    def open_rejects(self, obj: Bureau):
        return format_html(
            '<a href="{}">{}</a>',
            _submissions_url(bureau__id__exact=obj.pk, status__exact=SubmissionStatus.REJECTED),
            gettext("返却された登録情報の一覧を開く"),
        )


@admin.register(Submission)
class SubmissionAdmin(MemberNoSearchMixin, ReadOnlyModelAdmin):
    list_display = (
        "id",
        "bureau_code",
        "record_type",
        "member_no",
        "contract_no",
        "event_date",
        "registered_until",
        "status",
        "response",
        "batch",
    )
    list_filter = ("status", "bureau", "record_type")
    linked_filters = ("batch",)  # a batch page links to its submissions
    list_select_related = ("bureau", "member", "contract", "batch")
    search_fields = ("=member__member_no", "=contract__contract_no")
    search_help_text = _("会員番号または契約番号（完全一致）")
    list_per_page = 100
    date_hierarchy = "event_date"
    model_change_permission = True  # for resubmitting rejected records from the list
    actions = ("resubmit_rejected",)
    fieldsets = (
        (None, {"fields": ("bureau", "record_type", "status", "member", "contract", "inquiry")}),
        (_("登録期間"), {"fields": ("event_date", "registered_until")}),
        (_("登録内容"), {"fields": ("payload_display",)}),
        (_("送信と結果"), {"fields": ("batch", "response_code", "response_message", "answered_at")}),
        (_("経緯"), {"fields": ("original", "created_at")}),
    )
    readonly_fields = (
        "bureau",
        "record_type",
        "status",
        "member",
        "contract",
        "inquiry",
        "event_date",
        "registered_until",
        "payload_display",
        "batch",
        "response_code",
        "response_message",
        "answered_at",
        "original",
        "created_at",
    )

    @admin.display(description=_("登録先"), ordering="bureau__code")
    def bureau_code(self, obj: Submission) -> str:
        return obj.bureau.code

    @admin.display(description=_("会員番号"), ordering="member__member_no")
    def member_no(self, obj: Submission) -> str:
        return obj.member.member_no

    @admin.display(description=_("契約番号"))
    def contract_no(self, obj: Submission) -> str:
        return obj.contract.contract_no if obj.contract else "-"

    @admin.display(description=_("結果"))
    def response(self, obj: Submission) -> str:
        return f"{obj.response_code} {obj.response_message}".strip() or "-"

    @admin.display(description=_("登録内容"))
    def payload_display(self, obj: Submission):
        return payload_html(obj.payload)

    def get_urls(self):
        urls = [
            path(
                "<int:pk>/resubmit/",
                self.admin_site.admin_view(self.resubmit_view),
                name="bureaus_submission_resubmit",
            )
        ]
        return urls + super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["resubmit"] = self._resubmit_panel(request, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _resubmit_panel(self, request, submission: Submission | None) -> dict | None:
        """What a returned record offers (修正して再送): the bureau's reason, where to correct the
        member or contract, and the button that queues it again through ``services.resubmit``."""
        if submission is None or submission.status != SubmissionStatus.REJECTED:
            return None
        if not request.user.has_perm("bureaus.change_submission"):
            return None
        return {
            "url": reverse("admin:bureaus_submission_resubmit", args=[submission.pk]),
            "member_url": reverse("admin:members_member_change", args=[submission.member_id]),
            "contract_url": (
                reverse("admin:members_contract_change", args=[submission.contract_id])
                if submission.contract_id
                else ""
            ),
            "form": ResubmitForm(),
        }

    def resubmit_view(self, request, pk: int):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not request.user.has_perm("bureaus.change_submission"):
            raise PermissionDenied
        submission = get_object_or_404(Submission, pk=pk)
        form = ResubmitForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        try:
            again = services.resubmit(actor=request.user, submission=submission, reason=reason)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(reverse("admin:bureaus_submission_change", args=[submission.pk]))
        self.message_user(
            request,
            gettext("最新の会員情報で登録内容を作り直し、再送待ちにしました。"),
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:bureaus_submission_change", args=[again.pk]))

    @admin.action(description=_("選択した返却済みの登録情報を再送する"), permissions=("change",))
    def resubmit_rejected(self, request, queryset):
        done = skipped = 0
        for submission in queryset.filter(status=SubmissionStatus.REJECTED):
            try:
                services.resubmit(actor=request.user, submission=submission)
                done += 1
            except ValidationError:
                skipped += 1
        skipped += queryset.exclude(status=SubmissionStatus.REJECTED).count()
        self.message_user(request, gettext("%(n)d件を再送待ちにしました。") % {"n": done}, messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                gettext("%(n)d件は返却済みでないため再送しませんでした。") % {"n": skipped},
                messages.WARNING,
            )


class ResubmitForm(forms.Form):
    reason = forms.CharField(
        label=_("修正した内容"),
        required=False,
        max_length=200,
        help_text=_("空欄のときは「返却された登録情報を修正して再送」と記録します。"),
    )


class ResponseUploadForm(forms.Form):
    file = forms.FileField(label=_("結果ファイル"))


@admin.register(SubmissionBatch)
class SubmissionBatchAdmin(ReadOnlyModelAdmin):
    list_display = (
        "__str__",
        "bureau",
        "created_at",
        "record_count",
        "status",
        "accepted_count",
        "rejected_count",
        "short_sha256",
        "file_actions",
    )
    list_filter = ("bureau", "status")
    list_select_related = ("bureau",)
    model_change_permission = True  # as before: importing a response file is a change of the batch
    readonly_fields = (
        "bureau",
        "created_at",
        "created_by",
        "file_name",
        "record_count",
        "sha256",
        "status",
        "answered_at",
        "accepted_count",
        "rejected_count",
        "file_actions",
        "submissions_link",
    )
    fields = readonly_fields

    @admin.display(description=_("SHA-256"))
    def short_sha256(self, obj: SubmissionBatch) -> str:
        return obj.sha256[:12]

    def get_list_display(self, request):
        return self._file_for_supervisors(request, super().get_list_display(request))

    def get_fields(self, request, obj=None):
        return self._file_for_supervisors(request, super().get_fields(request, obj))

    @staticmethod
    def _file_for_supervisors(request, names):
        """The file and its import are for supervisors: operators see the batches, not the records."""
        if request.user.has_perm(roles.DOWNLOAD_BUREAU_FILE):
            return names
        return [name for name in names if name != "file_actions"]

    @admin.display(description=_("ファイル"))
    def file_actions(self, obj: SubmissionBatch):
        return format_html(
            '<a href="{}">{}</a> | <a href="{}">{}</a>',
            reverse("admin:bureaus_submissionbatch_download", args=[obj.pk]),
            gettext("ダウンロード"),
            reverse("admin:bureaus_submissionbatch_import", args=[obj.pk]),
            gettext("結果ファイルを取り込む"),
        )

    @admin.display(description=_("登録情報"))
    def submissions_link(self, obj: SubmissionBatch):
        return format_html(
            '<a href="{}">{}</a>',
            _submissions_url(batch__id__exact=obj.pk),
            gettext("このファイルの登録情報を表示"),
        )

    def get_urls(self):
        urls = [
            path(
                "<int:pk>/download/",
                self.admin_site.admin_view(self.download_view),
                name="bureaus_submissionbatch_download",
            ),
            path(
                "<int:pk>/import-response/",
                self.admin_site.admin_view(self.import_view),
                name="bureaus_submissionbatch_import",
            ),
        ]
        return urls + super().get_urls()

    def download_view(self, request, pk: int):
        if not request.user.has_perm(roles.DOWNLOAD_BUREAU_FILE):
            raise PermissionDenied
        batch = get_object_or_404(SubmissionBatch, pk=pk)
        storage = storages[services.PRIVATE_STORAGE]
        if not batch.file_name or not storage.exists(batch.file_name):
            raise Http404(gettext("ファイルが見つかりません。"))
        # One row per member whose records the file holds (and one for the file itself).
        detail = f"bureau batch {batch.pk} ({batch.record_count})"
        record_access_set(
            user=request.user,
            action=AccessAction.DOWNLOAD,
            member_ids=Submission.objects.filter(batch=batch, member__isnull=False).values("member_id"),
            request=request,
            detail=detail,
        )
        record_access(
            user=request.user, action=AccessAction.DOWNLOAD, member=None, request=request, detail=detail
        )
        return FileResponse(
            storage.open(batch.file_name, "rb"),
            as_attachment=True,
            filename=batch.file_name.rsplit("/", 1)[-1],
            content_type="application/octet-stream",
        )

    def import_view(self, request, pk: int):
        if not request.user.has_perm("bureaus.change_submissionbatch"):
            raise PermissionDenied
        batch = get_object_or_404(SubmissionBatch, pk=pk)
        form = ResponseUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                batch = services.import_response(
                    actor=request.user, batch=batch, stream=form.cleaned_data["file"]
                )
            except ValidationError as exc:
                add_validation_error(form, exc, field="file")
            else:
                self.message_user(
                    request,
                    gettext("結果を取り込みました（登録 %(a)d件、返却 %(r)d件）。")
                    % {"a": batch.accepted_count, "r": batch.rejected_count},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:bureaus_submissionbatch_change", args=[batch.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": batch,
            "form": form,
            "title": gettext("結果ファイルの取り込み"),
        }
        return TemplateResponse(request, "admin/bureaus/submissionbatch/import_response.html", context)


class InquiryForm(forms.ModelForm):
    purpose = forms.ChoiceField(
        label=_("照会の目的"), choices=InquiryPurpose.choices, initial=InquiryPurpose.ABILITY_TO_PAY
    )

    class Meta:
        model = Inquiry
        fields = ("contract", "bureau", "purpose")


@admin.register(Inquiry)
class InquiryAdmin(MemberNoSearchMixin, ServiceModelAdmin):
    form = InquiryForm
    editable = False
    list_display = ("inquired_at", "bureau", "member_no", "contract_no", "operator", "purpose")
    list_filter = ("bureau", "purpose")
    list_select_related = ("bureau", "member", "contract", "operator")
    search_fields = ("=member__member_no", "=contract__contract_no")
    raw_id_fields = ("contract",)
    list_per_page = 100
    date_hierarchy = "inquired_at"

    @admin.display(description=_("会員番号"))
    def member_no(self, obj: Inquiry) -> str:
        return obj.member.member_no

    @admin.display(description=_("契約番号"))
    def contract_no(self, obj: Inquiry) -> str:
        return obj.contract.contract_no

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("bureau", "member", "contract", "operator", "purpose", "inquired_at")

    def get_fields(self, request, obj=None):
        return ("contract", "bureau", "purpose") if obj is None else self.get_readonly_fields(request, obj)

    def perform_save(self, request, obj: Inquiry, form, change: bool) -> Inquiry:
        created = services.make_inquiry(
            actor=request.user,
            contract=form.cleaned_data["contract"],
            bureau=form.cleaned_data["bureau"],
            purpose=form.cleaned_data["purpose"],
        )
        obj.inquired_at = created.inquired_at
        obj.member = created.member
        return created


class MemberRegistrationsInline(ReadOnlyInline):
    """What is registered at which bureau until when, for the member page.

    Hook in with ``inlines = [..., MemberRegistrationsInline]`` on the Member admin.
    """

    model = Submission
    fk_name = "member"
    verbose_name = _("個人信用情報機関への登録")
    verbose_name_plural = _("個人信用情報機関への登録")
    fields = ("bureau", "record_type", "contract", "event_date", "registered_until", "status")
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(status__in=LIVE_STATUSES)
            .exclude(record_type=RecordType.DELETION)
            .select_related("bureau", "contract")
        )

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.has_perm("bureaus.view_submission")


register_member_inline(MemberRegistrationsInline)
