"""Contracts and applications (② Art. 5), monthly payments (③) and declared finances (④)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from consentoffice.core.crypto import EncryptedIntegerField, EncryptedTextField
from consentoffice.core.tracking import AuditedHistory
from members.models.consent import ConsentVersion
from members.models.member import Member
from members.models.partners import Affiliate


class ContractKind(models.TextChoices):
    SHOPPING = "shopping", _("ショッピング")
    CASHING = "cashing", _("キャッシング")
    CARD_LOAN = "card_loan", _("カードローン")
    INSTALLMENT = "installment", _("個別割賦")


class ContractStatus(models.TextChoices):
    APPLIED = "applied", _("申込")
    FORMED = "formed", _("成立")
    DECLINED = "declined", _("不成立")
    ENDED = "ended", _("終了")


class DeclineReason(models.TextChoices):
    """Why an application was refused (Art. 5). ``consent_refused`` never for Art. 2(1)①② alone."""

    CONSENT_REFUSED = "consent_refused", _("同意条項に同意がない")
    MISSING_INFORMATION = "missing_information", _("必要事項の記載がない")
    CREDIT_JUDGEMENT = "credit_judgement", _("与信判断による")
    IDENTITY_UNVERIFIED = "identity_unverified", _("本人確認ができない")
    OTHER = "other", _("その他")


class Contract(models.Model):
    """各取引 (category ②). A partner card has an ``affiliate``."""

    member = models.ForeignKey(
        Member, verbose_name=_("会員"), on_delete=models.PROTECT, related_name="contracts", db_index=False
    )
    contract_no = models.CharField(_("契約番号"), max_length=20, unique=True)
    kind = models.CharField(_("取引の種類"), max_length=16, choices=ContractKind.choices)
    product_name = models.CharField(_("商品名"), max_length=100)
    affiliate = models.ForeignKey(
        Affiliate,
        verbose_name=_("提携先"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contracts",
    )
    consent_version = models.ForeignKey(
        ConsentVersion, verbose_name=_("同意条項の版"), on_delete=models.PROTECT, related_name="+"
    )
    applied_on = models.DateField(_("申込日"))
    contracted_on = models.DateField(_("契約日"), null=True, blank=True)
    credit_limit = models.PositiveIntegerField(_("契約額（円）"), default=0)
    installments = models.PositiveSmallIntegerField(_("支払回数"), default=1)
    settlement_account = EncryptedTextField(_("決済口座"), blank=True)
    status = models.CharField(
        _("状態"), max_length=12, choices=ContractStatus.choices, default=ContractStatus.APPLIED
    )
    ended_on = models.DateField(_("終了日"), null=True, blank=True)
    decline_reason = models.CharField(
        _("不成立の理由"), max_length=24, choices=DeclineReason.choices, blank=True
    )
    history = AuditedHistory()

    class Meta:
        verbose_name = pgettext_lazy("model", "契約")
        verbose_name_plural = pgettext_lazy("plural", "契約")
        ordering = ["-applied_on", "-id"]
        indexes = [
            models.Index(fields=["member", "-applied_on"], name="contract_member_idx"),
            models.Index(fields=["status", "ended_on"], name="contract_status_end_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="formed") | Q(contracted_on__isnull=False),
                name="contract_formed_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status="ended") | Q(ended_on__isnull=False), name="contract_ended_has_date"
            ),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decline_reason=""), name="contract_declined_has_reason"
            ),
        ]
        permissions = [("decide_application", _("申込の成否を決定できる"))]

    def __str__(self) -> str:
        return f"{self.contract_no} {self.product_name}"

    @property
    def is_partner_card(self) -> bool:
        return self.affiliate_id is not None


class PaymentStatus(models.TextChoices):
    """CIC monthly payment status codes (入金状況)."""

    PAID = "$", _("$ 請求どおり入金")
    PARTLY = "P", _("P 一部入金")
    OTHER_PAYER = "R", _("R 本人以外から入金")
    UNPAID_MEMBER = "A", _("A 未入金（本人の事情）")
    UNPAID_OTHER = "B", _("B 未入金（本人以外の事情）")
    UNPAID_UNKNOWN = "C", _("C 未入金（事由不明）")
    NOT_BILLED = "-", _("- 請求なし")


class PaymentRecord(models.Model):
    """③ Monthly balance and repayment status of a contract."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("契約"), on_delete=models.PROTECT, related_name="payments", db_index=False
    )
    month = models.DateField(_("対象月"), help_text=_("月初日"))
    billed_amount = models.PositiveIntegerField(_("請求額"), default=0)
    paid_amount = models.PositiveIntegerField(_("入金額"), default=0)
    balance = models.PositiveIntegerField(_("残高"), default=0)
    status_code = models.CharField(_("入金状況"), max_length=1, choices=PaymentStatus.choices)
    days_overdue = models.PositiveSmallIntegerField(_("延滞日数"), default=0)
    # The audit (date, id) index covers the date (0011); nothing reads one payment record's history by
    # its id (the contract's timeline reads (contract, date, id)).
    history = AuditedHistory(date_index=False, object_index=False)

    class Meta:
        verbose_name = pgettext_lazy("model", "支払状況")
        verbose_name_plural = pgettext_lazy("plural", "支払状況")
        ordering = ["contract", "-month"]
        constraints = [models.UniqueConstraint(fields=["contract", "month"], name="payment_one_per_month")]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.month:%Y-%m} {self.status_code}"


class FinancialDeclaration(models.Model):
    """④ Assets, debts and income the member declared; income is encrypted."""

    member = models.ForeignKey(
        Member, verbose_name=_("会員"), on_delete=models.PROTECT, related_name="declarations"
    )
    declared_on = models.DateField(_("申告日"))
    annual_income = EncryptedIntegerField(_("年収（円）"))
    assets = models.PositiveBigIntegerField(_("資産（円）"), default=0)
    debts = models.PositiveBigIntegerField(_("負債（円）"), default=0)
    note = models.CharField(_("備考"), max_length=200, blank=True)
    history = AuditedHistory()

    class Meta:
        verbose_name = pgettext_lazy("model", "資産・収入等の申告")
        verbose_name_plural = pgettext_lazy("plural", "資産・収入等の申告")
        ordering = ["member", "-declared_on"]

    def __str__(self) -> str:
        return f"{self.declared_on} {self._meta.verbose_name}"
