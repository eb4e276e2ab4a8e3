"""The forms of the member workspace: each collects one act, a service performs it."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from members.forms import REASON_MAX_LENGTH, ContactRecordForm, MemberAdminForm
from members.models import Member
from members.services import NOTIFIABLE_FIELDS
from requests import rules

# The requests the workspace opens, in the order of its buttons.
WORKSPACE_KINDS = (
    rules.Kind.DISCLOSURE,
    rules.Kind.CORRECTION,
    rules.Kind.DELETION,
    rules.Kind.USAGE_STOP,
    rules.Kind.PROVISION_STOP,
    rules.Kind.MARKETING_STOP,
)


class ChangeNotificationForm(MemberAdminForm):
    """住所変更等の届出: the address as a group, phone and e-mail as the member reports them."""

    reason = forms.CharField(
        label=_("届出の理由"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.TextInput(attrs={"size": 40}),
        help_text=_("変更履歴に記録されます（例: 電話で転居の連絡）。個人情報は書かないでください。"),
    )

    class Meta:
        model = Member
        fields = NOTIFIABLE_FIELDS


class ContactNoteForm(ContactRecordForm):
    """応対記録: how the member was in touch and what was said, recorded now."""

    class Meta(ContactRecordForm.Meta):
        fields = ("channel", "inbound", "summary")
        widgets = {"summary": forms.Textarea(attrs={"rows": 2, "cols": 40})}


class OpenTicketForm(forms.Form):
    """受付: the kind (the button pressed) and how the request came in; the member is the page's."""

    kind = forms.ChoiceField(
        label=_("請求の種類"), choices=[(kind.value, kind.label) for kind in WORKSPACE_KINDS]
    )
    channel = forms.ChoiceField(label=_("受付経路"), choices=rules.Channel.choices)
