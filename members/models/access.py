"""The access log (who saw or exported whose data) and the marketing-list extracts it backs."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from consentoffice.core.tracking import AuditedHistory
from members.models.member import Member


class AccessAction(models.TextChoices):
    VIEW = "view", _("閲覧")
    VIEW_SENSITIVE = "view_sensitive", _("暗号化項目の閲覧")
    SEARCH = "search", _("検索")
    EXPORT = "export", _("エクスポート")
    DOWNLOAD = "download", _("ダウンロード")


class AccessLog(models.Model):
    """Who viewed, searched, exported or downloaded whose data, when and from where.

    Append-only: written by ``members.services.record_access`` and never changed. It holds no
    personal data itself (search terms are not kept, only their kind and the hit count).
    """

    member = models.ForeignKey(
        Member,
        verbose_name=_("会員"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="access_logs",
        db_index=False,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("利用者"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    action = models.CharField(_("操作"), max_length=16, choices=AccessAction.choices)
    at = models.DateTimeField(_("日時"), default=timezone.now, db_index=True)
    ip_address = models.GenericIPAddressField(_("接続元IP"), null=True, blank=True)
    path = models.CharField(_("画面"), max_length=300, blank=True)
    detail = models.CharField(_("詳細"), max_length=300, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("model", "アクセス記録")
        verbose_name_plural = pgettext_lazy("plural", "アクセス記録")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["member", "-at"], name="accesslog_member_idx"),
            models.Index(fields=["user", "-at"], name="accesslog_user_idx"),
        ]
        permissions = [("view_audit_trail", _("監査証跡を閲覧できる"))]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()}"


class ExtractPurpose(models.TextChoices):
    """The purposes a marketing or research list is drawn for (clause Art. 2(1)①②③)."""

    MARKETING_OWN = "marketing_own", _("当社の営業案内（第2条(1)①）")
    MARKETING_PARTNER = "marketing_partner", _("第三者から受託した営業案内（第2条(1)②）")
    RESEARCH = "research", _("市場調査・商品開発（第2条(1)③）")


class ExtractChannel(models.TextChoices):
    POST = "post", _("郵送")
    PHONE = "phone", _("電話")
    EMAIL = "email", _("電子メール")
    SMS = "sms", _("SMS（携帯電話）")


class MarketingExtract(models.Model):
    """営業・調査リストの抽出記録: who drew which list, when, how many members, and the SHA-256 of
    the file as it was sent (``members.extracts``). Written when the download starts and finished
    when its last byte has gone; never changed after that. The members themselves are in the
    access log (one ``export`` row each), not here."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("抽出者"), on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(_("開始日時"), default=timezone.now)
    judged_on = models.DateField(_("判定日"))
    purpose = models.CharField(_("利用目的"), max_length=20, choices=ExtractPurpose.choices)
    channel = models.CharField(_("連絡方法"), max_length=8, choices=ExtractChannel.choices)
    logged = models.PositiveIntegerField(_("アクセス記録の件数"), default=0)
    count = models.PositiveIntegerField(_("出力件数"), default=0)
    sha256 = models.CharField(_("ファイルのSHA-256"), max_length=64, blank=True)
    finished = models.BooleanField(_("出力完了"), default=False)
    finished_at = models.DateTimeField(_("完了日時"), null=True, blank=True)
    history = AuditedHistory()

    class Meta:
        verbose_name = pgettext_lazy("model", "営業リスト抽出記録")
        verbose_name_plural = pgettext_lazy("plural", "営業リスト抽出記録")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(finished=False)
                | (Q(finished_at__isnull=False) & Q(sha256__regex=r"^[0-9a-f]{64}$")),
                name="marketingextract_finished_has_hash",
            ),
            models.CheckConstraint(
                condition=Q(count__lte=models.F("logged")), name="marketingextract_count_logged"
            ),
        ]
        permissions = [("extract_marketing", _("営業・調査用の会員リストを抽出できる"))]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.get_purpose_display()} {self.get_channel_display()}"

    @property
    def log_detail(self) -> str:
        """The access-log detail of this extract's rows (no personal data: codes and the id)."""
        return f"marketing extract {self.pk} purpose={self.purpose} channel={self.channel}"
