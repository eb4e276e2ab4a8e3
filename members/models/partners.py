"""Affiliates and their partner sync (Art. 10), contractors and entrustment (Art. 1(2)) and
third-party provision records (APPI Art. 29)."""

from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from consentoffice.core.crypto import SecretTextField
from consentoffice.core.tracking import AuditedHistory
from members.models.member import CATEGORY_1_FIELDS, Member


class AffiliateBasis(models.TextChoices):
    CONSENT = "consent", _("本人同意に基づく第三者提供")
    JOINT_USE = "joint_use", _("共同利用")


class Affiliate(models.Model):
    """提携先 (Art. 10): a partner-card company kept in sync through the partner protocol."""

    code = models.SlugField(_("提携先コード"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    endpoint = models.URLField(_("連携先URL"), max_length=300)
    shared_secret = SecretTextField(_("共有シークレット"))
    active = models.BooleanField(_("有効"), default=True)
    basis = models.CharField(
        _("提供の根拠"), max_length=16, choices=AffiliateBasis.choices, default=AffiliateBasis.CONSENT
    )
    shared_items = models.JSONField(
        _("共有する項目"),
        default=list,
        blank=True,
        help_text=_("属性情報①のうち提携先と共有する項目名の一覧"),
    )
    history = AuditedHistory()

    class Meta:
        verbose_name = pgettext_lazy("model", "提携先")
        verbose_name_plural = pgettext_lazy("plural", "提携先")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from members.endpoints import check_endpoint

        if self.endpoint:
            try:
                check_endpoint(self.endpoint)
            except ValidationError as exc:
                raise ValidationError({"endpoint": exc.messages}) from None
        unknown = sorted(set(self.shared_items or []) - set(CATEGORY_1_FIELDS))
        if unknown:
            raise ValidationError(
                {
                    "shared_items": _("属性情報①以外の項目は共有できません: %(items)s")
                    % {"items": ", ".join(unknown)}
                }
            )


class SyncStatus(models.TextChoices):
    PENDING = "pending", _("未送信")
    SENT = "sent", _("送信済み")
    DEAD = "dead", _("送信不能")


class SyncDirection(models.TextChoices):
    OUTBOUND = "outbound", _("当社→提携先")
    INBOUND = "inbound", _("提携先→当社")


class PartnerSyncEvent(models.Model):
    """Transactional outbox row per (change, affiliate) of Art. 10 partner sync."""

    event_id = models.UUIDField(_("イベントID"), default=uuid.uuid4, unique=True, editable=False)
    member = models.ForeignKey(
        Member, verbose_name=_("会員"), on_delete=models.PROTECT, related_name="sync_events"
    )
    affiliate = models.ForeignKey(
        Affiliate,
        verbose_name=_("提携先"),
        on_delete=models.PROTECT,
        related_name="sync_events",
        db_index=False,
    )
    direction = models.CharField(
        _("方向"), max_length=8, choices=SyncDirection.choices, default=SyncDirection.OUTBOUND
    )
    payload = models.JSONField(_("内容"))
    status = models.CharField(_("状態"), max_length=8, choices=SyncStatus.choices, default=SyncStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("試行回数"), default=0)
    next_attempt_at = models.DateTimeField(_("次回試行"), default=timezone.now)
    last_error = models.CharField(_("最後のエラー"), max_length=300, blank=True)
    occurred_at = models.DateTimeField(_("発生日時"), default=timezone.now)
    sent_at = models.DateTimeField(_("送信日時"), null=True, blank=True)
    history = AuditedHistory()

    class Meta:
        verbose_name = pgettext_lazy("model", "提携先連携イベント")
        verbose_name_plural = pgettext_lazy("plural", "提携先連携イベント")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="sync_due_idx"),
            # The pending outbound events of a member, to find the first of each (affiliate,
            # member) (``members.partner_sync.due_events``); sent events leave it.
            models.Index(
                fields=["member", "affiliate", "id"],
                condition=Q(status="pending", direction="outbound"),
                name="sync_pending_order_idx",
            ),
        ]
        permissions = [("replay_partnersyncevent", _("送信不能の連携イベントを再送できる"))]

    def __str__(self) -> str:
        when = timezone.localtime(self.occurred_at).strftime("%Y-%m-%d %H:%M")
        return f"{self.get_direction_display()} {when} {self.get_status_display()}"


class Contractor(models.Model):
    """委託先 (Art. 1(2)), e.g. a debt-collection company."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    business = models.CharField(_("委託業務"), max_length=200)
    address = models.CharField(_("所在地"), max_length=200, blank=True)
    active = models.BooleanField(_("有効"), default=True)
    history = AuditedHistory()

    class Meta:
        verbose_name = pgettext_lazy("model", "委託先")
        verbose_name_plural = pgettext_lazy("plural", "委託先")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Entrustment(models.Model):
    """Which member's data went to which contractor, for what, when, and when it came back."""

    contractor = models.ForeignKey(
        Contractor, verbose_name=_("委託先"), on_delete=models.PROTECT, related_name="entrustments"
    )
    member = models.ForeignKey(
        Member, verbose_name=_("会員"), on_delete=models.PROTECT, related_name="entrustments", db_index=False
    )
    purpose = models.CharField(_("委託の目的"), max_length=200)
    items = models.JSONField(_("提供した項目"), default=list)
    provided_on = models.DateField(_("提供日"))
    returned_on = models.DateField(_("返却・廃棄日"), null=True, blank=True)
    history = AuditedHistory()

    class Meta:
        verbose_name = pgettext_lazy("model", "委託記録")
        verbose_name_plural = pgettext_lazy("plural", "委託記録")
        ordering = ["-provided_on"]
        indexes = [models.Index(fields=["member", "-provided_on"], name="entrustment_member_idx")]

    def __str__(self) -> str:
        return f"{self.provided_on} {self.purpose}"


class ProvisionBasis(models.TextChoices):
    CONSENT = "consent", _("本人の同意")
    LAW = "law", _("法令に基づく")
    CONTRACT = "contract", _("契約書等による記録の代替")


class RecipientKind(models.TextChoices):
    BUREAU = "bureau", _("個人信用情報機関")
    AFFILIATE = "affiliate", _("提携先")
    OTHER = "other", _("その他")


class ProvisionRecord(models.Model):
    """第三者提供記録 (APPI Art. 29; rules Art. 19–21): kept 3 years (1 year if the contract records it)."""

    member = models.ForeignKey(
        Member,
        verbose_name=_("会員"),
        on_delete=models.PROTECT,
        related_name="provision_records",
        db_index=False,
    )
    recipient_kind = models.CharField(_("提供先の種類"), max_length=12, choices=RecipientKind.choices)
    recipient = models.CharField(_("提供先"), max_length=200)
    items = models.JSONField(_("提供した項目"), default=list)
    provided_on = models.DateField(_("提供日"))
    basis = models.CharField(_("根拠"), max_length=12, choices=ProvisionBasis.choices)
    consent_recorded = models.BooleanField(_("本人同意を得ている"), default=True)
    kept_until = models.DateField(_("保存期限"))
    reference = models.CharField(_("参照"), max_length=100, blank=True)
    history = AuditedHistory()

    class Meta:
        verbose_name = pgettext_lazy("model", "第三者提供記録")
        verbose_name_plural = pgettext_lazy("plural", "第三者提供記録")
        ordering = ["-provided_on", "-id"]
        indexes = [models.Index(fields=["member", "-provided_on"], name="provision_member_idx")]

    def __str__(self) -> str:
        return f"{self.provided_on} {self.recipient}"
