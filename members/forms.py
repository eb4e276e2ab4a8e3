"""Back-office forms for members data. They collect and check input; ``members.services`` writes it."""

from __future__ import annotations

from functools import partial
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from members.models import (
    CATEGORY_1_FIELDS,
    MEMBER_NORMALIZERS,
    Affiliate,
    ConsentVersion,
    ContactRecord,
    Contract,
    DeclineReason,
    IdentityDocument,
    Member,
)
from members.services import MEMBER_EDITABLE_FIELDS

REASON_MAX_LENGTH = 200


def reason_field(*, required: bool) -> forms.CharField:
    return forms.CharField(
        label=_("変更理由"),
        required=required,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text=_("変更履歴に記録されます。個人情報は書かないでください。"),
    )


def _raw_input_field(field: forms.Field) -> forms.CharField:
    """A text field that accepts input as typed (０９０－… , ﾊﾅｺ, full-width e-mail).

    Length and format are checked by the model after normalization (``Member.clean_fields``),
    so the form must not judge the raw text by the stored length or format.
    """
    return forms.CharField(
        label=field.label,
        required=field.required,
        help_text=field.help_text,
        widget=forms.TextInput(attrs={"class": "vTextField"}),
    )


class MemberAdminForm(forms.ModelForm):
    """会員の登録・変更. The change reason is required for every change (audit trail)."""

    reason = reason_field(required=True)

    class Meta:
        model = Member
        fields = ("member_no", *CATEGORY_1_FIELDS, "status")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in MEMBER_NORMALIZERS:
            if name in self.fields:
                self.fields[name] = _raw_input_field(self.fields[name])
        if self.instance.pk is None:
            self.fields["reason"].required = False
            self.fields["reason"].label = _("登録理由")
            if "member_no" in self.fields:
                self.fields["member_no"].required = False
                self.fields["member_no"].help_text = _("空欄のときは自動で採番します。")

    def member_fields(self) -> dict[str, Any]:
        """Every entered field, for ``create_member``."""
        fields = {f: self.cleaned_data[f] for f in MEMBER_EDITABLE_FIELDS if f in self.cleaned_data}
        if self.cleaned_data.get("member_no"):
            fields["member_no"] = self.cleaned_data["member_no"]
        return fields

    def changes(self) -> dict[str, Any]:
        """Only the fields the operator changed, for ``update_member``."""
        return {f: self.cleaned_data[f] for f in self.changed_data if f in MEMBER_EDITABLE_FIELDS}


class ContractApplicationForm(forms.ModelForm):
    """取引の申込: the consent version in force and the contract number are set by the service."""

    class Meta:
        model = Contract
        fields = (
            "member",
            "kind",
            "product_name",
            "affiliate",
            "applied_on",
            "credit_limit",
            "installments",
            "settlement_account",
        )
        widgets = {"settlement_account": forms.TextInput(attrs={"autocomplete": "off"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "applied_on" in self.fields:
            self.fields["applied_on"].required = False
            self.fields["applied_on"].help_text = _("空欄のときは本日です。")


class DeclineForm(forms.Form):
    """謝絶の理由 (Art. 5)."""

    reason = forms.ChoiceField(label=_("不成立の理由"), choices=DeclineReason.choices)


class ContactRecordForm(forms.ModelForm):
    """応対記録 (category ⑤)."""

    class Meta:
        model = ContactRecord
        fields = ("member", "at", "channel", "inbound", "summary", "recording_ref")


class IdentityDocumentForm(forms.ModelForm):
    """本人確認書類: the number is entered once and never shown back in clear."""

    class Meta:
        model = IdentityDocument
        fields = ("member", "kind", "number", "verified_at", "note")
        widgets = {"number": forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"})}


class ConsentVersionForm(forms.ModelForm):
    """同意条項の新しい版 (Art. 9); another privacy officer publishes it."""

    class Meta:
        model = ConsentVersion
        fields = ("code", "title", "body", "effective_from")


def _category_1_choices() -> list[tuple[str, Any]]:
    return [(name, Member._meta.get_field(name).verbose_name) for name in CATEGORY_1_FIELDS]


AFFILIATE_FIELDS = ("code", "name", "endpoint", "basis", "shared_items", "active")


class AffiliateForm(forms.ModelForm):
    """提携先. The shared secret is issued by the system and shown once; it is never typed in."""

    shared_items = forms.MultipleChoiceField(
        label=_("共有する項目"),
        choices=_category_1_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("選ばない場合は属性情報①のすべての項目を共有します。"),
    )
    reason = reason_field(required=False)

    class Meta:
        model = Affiliate
        fields = AFFILIATE_FIELDS
        field_classes = {"endpoint": partial(forms.URLField, assume_scheme="https")}

    def affiliate_fields(self) -> dict[str, Any]:
        return {f: self.cleaned_data[f] for f in AFFILIATE_FIELDS if f in self.cleaned_data}


class RotateSecretForm(forms.Form):
    reason = reason_field(required=True)
