"""Legal holds in the back-office (法的保全, clause Art. 7): the privacy officer places a hold from
the member page and releases it with a reason; both go through ``members.services``."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from consentoffice.core import roles
from consentoffice.core.admin import ReadOnlyInline, ServiceModelAdmin, action_form_response
from members import services
from members.admin_inlines import register_member_inline
from members.admin_search import MemberNoSearchMixin
from members.models import LegalHold


class LegalHoldForm(forms.ModelForm):
    class Meta:
        model = LegalHold
        fields = ("member", "reason_kind", "note")


class ReleaseForm(forms.Form):
    release_reason = forms.CharField(label=_("解除の理由"), max_length=300)


@admin.register(LegalHold)
class LegalHoldAdmin(MemberNoSearchMixin, ServiceModelAdmin):
    paginator = Paginator  # a register of a few rows: one exact count, no estimate
    form = LegalHoldForm
    editable = False  # placed and released through services, never edited
    list_display = ("member", "reason_kind", "placed_at", "placed_by", "released_at", "released_by")
    list_filter = ("reason_kind", ("released_at", admin.EmptyFieldListFilter))
    list_select_related = ("member", "placed_by", "released_by")
    search_fields = ("=member__member_no",)
    search_help_text = _("会員番号で検索します。")
    autocomplete_fields = ("member",)
    actions = ("release_holds",)
    view_fields = (
        "member",
        "reason_kind",
        "note",
        "placed_by",
        "placed_at",
        "released_by",
        "released_at",
        "release_reason",
    )

    def has_add_permission(self, request):
        return request.user.has_perm(roles.MANAGE_LEGAL_HOLD)

    def has_release_permission(self, request) -> bool:
        return request.user.has_perm(roles.MANAGE_LEGAL_HOLD)

    def get_fields(self, request, obj=None):
        return self.view_fields if obj else LegalHoldForm._meta.fields

    def perform_save(self, request, obj, form, change):
        data = form.cleaned_data
        return services.place_legal_hold(
            data["member"], actor=request.user, reason_kind=data["reason_kind"], note=data["note"]
        )

    @admin.action(description=_("選択した保全を解除"), permissions=["release"])
    def release_holds(self, request, queryset):
        form = ReleaseForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done = 0
            for hold in queryset.filter(released_at__isnull=True).select_related("member"):
                try:
                    services.release_legal_hold(
                        hold, actor=request.user, reason=form.cleaned_data["release_reason"]
                    )
                except ValidationError as exc:
                    self.message_user(
                        request, f"{hold.member.member_no}: {' '.join(exc.messages)}", messages.ERROR
                    )
                else:
                    done += 1
            self.message_user(
                request, gettext("%(count)d件の保全を解除しました。") % {"count": done}, messages.SUCCESS
            )
            return None
        return action_form_response(
            self,
            request,
            template="admin/members/legalhold/release_holds.html",
            title=_("法的保全の解除"),
            form=form,
            objects=queryset.select_related("member"),
            action_name="release_holds",
        )


class LegalHoldInline(ReadOnlyInline):
    """The member's holds on the member page, with the way to place a new one."""

    model = LegalHold
    verbose_name_plural = pgettext_lazy("plural", "法的保全")
    fields = readonly_fields = ("reason_kind", "note", "placed_at", "placed_by", "released_at", "link")
    select_related = ("placed_by",)

    @admin.display(description=_("操作"))
    def link(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:members_legalhold_change", args=[obj.pk]),
            gettext("詳細・解除"),
        )


register_member_inline(LegalHoldInline)
