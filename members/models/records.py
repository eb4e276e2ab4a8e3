"""What else is held on a member: contacts (⑤), identity and income documents (⑥⑦⑧),
online authentication (⑨) and public records (⑩)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from consentoffice.core.crypto import EncryptedTextField
from consentoffice.core.tracking import AuditedHistory
from members import normalize
from members.models.member import DataCategory, Member


class ContactChannel(models.TextChoices):
    PHONE = "phone", _("電話")
    VISIT = "visit", _("来店")
    MAIL = "mail", _("郵便")
    EMAIL = "email", _("メール")
    WEB = "web", _("Web")


class ContactRecord(models.Model):
    """⑤ What the company learned from calls, visits and mail (recordings by reference)."""

    member = models.ForeignKey(
        Member, verbose_name=_("会員"), on_delete=models.PROTECT, related_name="contacts", db_index=False
    )
    at = models.DateTimeField(_("日時"), default=timezone.now)
    channel = models.CharField(_("経路"), max_length=8, choices=ContactChannel.choices)
    inbound = models.BooleanField(_("会員からの連絡"), default=True)
    summary = models.TextField(_("内容"))
    recording_ref = models.CharField(_("録音・映像の参照"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("記録者"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    history = AuditedHistory()

    class Meta:
        verbose_name = pgettext_lazy("model", "応対記録")
        verbose_name_plural = pgettext_lazy("plural", "応対記録")
        ordering = ["-at"]
        indexes = [models.Index(fields=["member", "-at"], name="contact_member_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_channel_display()}"


class IdentityDocumentKind(models.TextChoices):
    DRIVER_LICENSE = "driver_license", _("運転免許証")
    PASSPORT = "passport", _("パスポート")
    INSURANCE_CARD = "insurance_card", _("健康保険証")
    RESIDENCE_CARD = "residence_card", _("在留カード")
    RESIDENT_RECORD = "resident_record", _("住民票の写し")
    INCOME_CERTIFICATE = "income_certificate", _("源泉徴収票・所得証明書")
    OTHER = "other", _("その他")


DOCUMENT_CATEGORY = {
    IdentityDocumentKind.RESIDENT_RECORD: DataCategory.PUBLIC_DOCUMENT,
    IdentityDocumentKind.INCOME_CERTIFICATE: DataCategory.INCOME_PROOF,
}


def looks_like_individual_number(value: str) -> bool:
    """True for a 12-digit number whose check digit is valid (マイナンバー): never stored."""
    digits = normalize.digits(value)
    if len(digits) != 12 or not digits.isdigit():
        return False
    body = [int(c) for c in digits[:11]][::-1]
    total = sum(d * (n + 1 if n <= 6 else n - 5) for n, d in enumerate(body, start=1))
    check = 0 if total % 11 <= 1 else 11 - total % 11
    return check == int(digits[11])


class IdentityDocument(models.Model):
    """⑥⑦⑧ Documents seen to verify identity or income. The number is encrypted.

    An individual number (マイナンバー) is never stored: the card may be seen, its number not kept.
    """

    member = models.ForeignKey(
        Member, verbose_name=_("会員"), on_delete=models.PROTECT, related_name="documents"
    )
    kind = models.CharField(_("書類の種類"), max_length=20, choices=IdentityDocumentKind.choices)
    number = EncryptedTextField(_("記号番号"), blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("確認者"), on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(_("確認日時"), default=timezone.now)
    note = models.CharField(_("備考"), max_length=200, blank=True)
    history = AuditedHistory()

    class Meta:
        verbose_name = pgettext_lazy("model", "本人確認書類")
        verbose_name_plural = pgettext_lazy("plural", "本人確認書類")
        ordering = ["-verified_at"]

    def __str__(self) -> str:
        return self.get_kind_display()

    @property
    def category(self) -> DataCategory:
        return DOCUMENT_CATEGORY.get(self.kind, DataCategory.IDENTITY)

    def clean(self) -> None:
        if self.number:
            self.number = normalize.text(self.number)
            if looks_like_individual_number(self.number):
                raise ValidationError(
                    {
                        "number": _(
                            "個人番号（マイナンバー）は記録できません。番号を入力せずに確認だけを記録してください。"
                        )
                    }
                )


class OnlineAuthEvent(models.Model):
    """⑨ Online authentication facts (3-D Secure, one-time passwords, logins)."""

    class Kind(models.TextChoices):
        LOGIN = "login", _("会員サイトログイン")
        THREE_D_SECURE = "3ds", _("3Dセキュア認証")
        OTP = "otp", _("ワンタイムパスワード")

    member = models.ForeignKey(
        Member, verbose_name=_("会員"), on_delete=models.PROTECT, related_name="auth_events", db_index=False
    )
    at = models.DateTimeField(_("日時"), default=timezone.now)
    kind = models.CharField(_("種類"), max_length=8, choices=Kind.choices)
    succeeded = models.BooleanField(_("成功"), default=True)
    ip_address = models.GenericIPAddressField(_("IPアドレス"), null=True, blank=True)
    device = models.CharField(_("端末情報"), max_length=200, blank=True)
    merchant = models.CharField(_("加盟店"), max_length=100, blank=True)
    history = AuditedHistory()

    class Meta:
        verbose_name = pgettext_lazy("model", "オンライン認証記録")
        verbose_name_plural = pgettext_lazy("plural", "オンライン認証記録")
        ordering = ["-at"]
        indexes = [models.Index(fields=["member", "-at"], name="authevent_member_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()}"


class PublicRecord(models.Model):
    """⑩ Published information judged to concern the member (gazette, directories)."""

    class Source(models.TextChoices):
        GAZETTE = "gazette", _("官報")
        DIRECTORY = "directory", _("電話帳")
        INTERNET = "internet", _("インターネット")
        OTHER = "other", _("その他")

    member = models.ForeignKey(
        Member, verbose_name=_("会員"), on_delete=models.PROTECT, related_name="public_records"
    )
    source = models.CharField(_("出典"), max_length=12, choices=Source.choices)
    summary = models.TextField(_("概要"))
    found_on = models.DateField(_("確認日"))
    history = AuditedHistory()

    class Meta:
        verbose_name = pgettext_lazy("model", "公開情報")
        verbose_name_plural = pgettext_lazy("plural", "公開情報")
        ordering = ["-found_on"]

    def __str__(self) -> str:
        return f"{self.found_on} {self.get_source_display()}"
