"""Forms of the operators' ticket workplace (admin): opening a ticket and each next step.

Every step form carries the ticket ``version`` the operator saw, so of two people acting at once
one wins and the other is told to reload (``requests.services`` checks it under a row lock).
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from members.models import CATEGORY_1_FIELDS, PREFECTURES, Member
from requests import rules
from requests.models import Ticket


def correction_field_label(name: str) -> str:
    """A category ① field in the Member model's Japanese name."""
    return str(Member._meta.get_field(name).verbose_name) if name in CATEGORY_1_FIELDS else name


def correction_field_choices() -> list[tuple[str, str]]:
    """Category ① fields corrected one at a time: all but the address, which is one group."""
    return [
        (name, correction_field_label(name)) for name in CATEGORY_1_FIELDS if name not in rules.ADDRESS_FIELDS
    ]


def deletion_target_label(target: str) -> str:
    label, _ground = rules.DELETION_TARGETS.get(target, (target, None))
    return str(label)


class TicketOpenForm(forms.ModelForm):
    """受付: what ``requests.services.open_ticket`` needs; the due date is fixed by the service."""

    class Meta:
        model = Ticket
        fields = [
            "kind",
            "member",
            "channel",
            "received_at",
            "requester_type",
            "agent_name",
            "response_method",
            "summary",
        ]


class StepForm(forms.Form):
    """Base of every step: the version of the ticket the page showed."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, ticket: Ticket | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.ticket = ticket


class NoteForm(StepForm):
    note = forms.CharField(label=_("メモ"), max_length=200, required=False)


class VerifyIdentityForm(StepForm):
    method = forms.ChoiceField(label=_("本人確認方法"), choices=rules.IDENTITY_METHOD_CHOICES)
    documents_seen = forms.IntegerField(label=_("確認した書類の数"), min_value=1, max_value=9, initial=1)
    agent_document_issued_on = forms.DateField(
        label=_("代理権確認書類の発行日"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("代理人による請求の場合のみ（戸籍謄本・委任状等）"),
    )


class HoldForm(StepForm):
    reason = forms.CharField(label=_("保留の理由"), max_length=200)


class FeePaymentForm(StepForm):
    paid_on = forms.DateField(label=_("入金日"), widget=forms.DateInput(attrs={"type": "date"}))


class CorrectionItemForm(StepForm):
    field = forms.ChoiceField(label=_("訂正する項目"), choices=correction_field_choices)
    requested_value = forms.CharField(label=_("訂正後の内容"), max_length=300)


class AddressCorrectionForm(StepForm):
    """The new address as one group; a blank field keeps its current value (the page shows it
    beside), and a new postal code fills a blank prefecture and city."""

    postal_code = forms.CharField(
        label=_("郵便番号"),
        max_length=10,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off", "size": 10}),
    )
    prefecture = forms.ChoiceField(
        label=_("都道府県"), choices=[("", "---------"), *((p, p) for p in PREFECTURES)], required=False
    )
    city = forms.CharField(label=_("市区町村"), max_length=100, required=False)
    address_line = forms.CharField(label=_("番地・建物名"), max_length=200, required=False)


class DecisionForm(StepForm):
    """Base of the decision of one item; ``change`` is set by 「判断を変更」 only."""

    item = forms.IntegerField(widget=forms.HiddenInput)
    change = forms.BooleanField(widget=forms.HiddenInput, required=False)


class CorrectionDecisionForm(DecisionForm):
    accept = forms.TypedChoiceField(
        choices=[("1", _("訂正する")), ("0", _("訂正しない"))], coerce=lambda v: v == "1"
    )
    note = forms.CharField(
        label=_("判断の理由"),
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("訂正しない場合は理由を入力")}),
    )


class DeletionItemForm(StepForm):
    target = forms.ChoiceField(
        label=_("削除の対象"), choices=[(k, label) for k, (label, _g) in rules.DELETION_TARGETS.items()]
    )


class DeletionDecisionForm(DecisionForm):
    accept = forms.TypedChoiceField(
        choices=[("1", _("削除・匿名化する")), ("0", _("削除しない"))], coerce=lambda v: v == "1"
    )
    ground = forms.ChoiceField(
        label=_("削除しない根拠"),
        choices=[("", "---------"), *rules.RETENTION_GROUNDS.items()],
        required=False,
    )


class SubmitForApprovalForm(StepForm):
    outcome = forms.ChoiceField(label=_("結果"), choices=rules.OUTCOME_CHOICES)
    ground = forms.ChoiceField(
        label=_("不対応の根拠"),
        choices=[("", "---------"), *rules.REFUSAL_GROUNDS.items()],
        required=False,
        help_text=_("不対応（拒否）の場合は必須（個人情報保護法第33条第2項各号）"),
    )
    reason = forms.CharField(
        label=_("本人に通知する理由"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("不対応・一部対応の場合は必須（個人情報保護法第36条）"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.ticket is None:
            return
        # Only the outcomes this kind of request may end with (a marketing stop is never refused).
        self.fields["outcome"].choices = rules.outcome_choices(self.ticket.kind)
        if dict(self.fields["outcome"].choices).get(rules.Outcome.REFUSED) is None:
            self.fields["ground"].widget = forms.HiddenInput()


class SendBackForm(StepForm):
    reason = forms.CharField(label=_("差し戻しの理由"), max_length=200)
