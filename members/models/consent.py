"""Consent (Art. 2, 5, 9): the clause versions, the purposes and one consent per purpose."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext, pgettext_lazy

from consentoffice.core.tracking import AuditedHistory
from members.models.member import Member


class ConsentVersion(models.Model):
    """同意条項の版 (Art. 9): immutable once published; a second person publishes it."""

    code = models.CharField(_("版コード"), max_length=32, unique=True)
    title = models.CharField(_("表題"), max_length=200)
    body = models.TextField(_("本文"))
    body_sha256 = models.CharField(_("本文SHA-256"), max_length=64, editable=False)
    effective_from = models.DateField(_("適用開始日"))
    published_at = models.DateTimeField(_("公開日時"), null=True, blank=True, editable=False)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("作成者"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("公開承認者"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    history = AuditedHistory()

    class Meta:
        verbose_name = pgettext_lazy("model", "同意条項の版")
        verbose_name_plural = pgettext_lazy("plural", "同意条項の版")
        ordering = ["-effective_from", "-id"]
        permissions = [("publish_consentversion", _("同意条項の版を公開できる"))]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @staticmethod
    def digest(body: str) -> str:
        return hashlib.sha256(body.encode("utf-8")).hexdigest()

    def clean(self) -> None:
        self.body_sha256 = self.digest(self.body or "")
        if self.pk:
            stored = (
                ConsentVersion.objects.filter(pk=self.pk)
                .values("published_at", "body_sha256", "title", "effective_from", "code")
                .first()
            )
            if stored and stored["published_at"] is not None:
                changed = (
                    stored["body_sha256"] != self.body_sha256
                    or stored["title"] != self.title
                    or stored["effective_from"] != self.effective_from
                    or stored["code"] != self.code
                )
                if changed:
                    raise ValidationError(
                        _("公開済みの同意条項は変更できません。新しい版を作成してください。")
                    )


class Purpose(models.Model):
    """利用目的: Art. 1 (credit), 2(1)①②③ (marketing, research), Art. 3 (bureau)."""

    code = models.CharField(_("コード"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    clause = models.CharField(_("根拠条項"), max_length=32)
    description = models.TextField(_("説明"), blank=True)
    categories = models.JSONField(_("利用できる情報の区分"), default=list)
    refusable = models.BooleanField(_("拒否できる"), default=False)
    stoppable = models.BooleanField(_("中止の申出ができる"), default=False)
    history = AuditedHistory()

    class Meta:
        verbose_name = pgettext_lazy("model", "利用目的")
        verbose_name_plural = pgettext_lazy("plural", "利用目的")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class ConsentSource(models.TextChoices):
    APPLICATION = "application", _("申込書")
    PHONE = "phone", _("電話")
    MAIL = "mail", _("郵送")
    WEB = "web", _("Web")
    COUNTER = "counter", _("窓口")
    TICKET = "ticket", _("申出（受付票）")
    AFFILIATE = "affiliate", _("提携先")


class Consent(models.Model):
    """Current consent per (member, purpose); its history is the proof of consent."""

    member = models.ForeignKey(
        Member, verbose_name=_("会員"), on_delete=models.PROTECT, related_name="consents", db_index=False
    )
    purpose = models.ForeignKey(
        Purpose, verbose_name=_("利用目的"), on_delete=models.PROTECT, related_name="+"
    )
    granted = models.BooleanField(_("同意"))
    version = models.ForeignKey(
        ConsentVersion, verbose_name=_("同意条項の版"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("記録日時"), default=timezone.now)
    source = models.CharField(_("経路"), max_length=16, choices=ConsentSource.choices)
    history = AuditedHistory()

    class Meta:
        verbose_name = pgettext_lazy("model", "同意")
        verbose_name_plural = pgettext_lazy("plural", "同意")
        ordering = ["member", "purpose"]
        constraints = [models.UniqueConstraint(fields=["member", "purpose"], name="consent_one_per_purpose")]

    def __str__(self) -> str:
        return f"{self.purpose}: {pgettext('consent state', '同意') if self.granted else pgettext('consent state', '不同意')}"

    def clean(self) -> None:
        if (
            self.version_id
            and not ConsentVersion.objects.filter(pk=self.version_id, published_at__isnull=False).exists()
        ):
            raise ValidationError({"version": _("未公開の同意条項の版には同意を記録できません。")})
