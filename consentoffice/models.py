"""Operational state that is not domain data (no personal data, no history)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Heartbeat(models.Model):
    """The last time a periodic process reported in; ``/healthz/`` reads the beat's."""

    name = models.CharField(_("名前"), max_length=50, unique=True)
    last_seen = models.DateTimeField(_("最終確認"))

    class Meta:
        verbose_name = pgettext_lazy("model", "稼働確認")
        verbose_name_plural = pgettext_lazy("plural", "稼働確認")

    def __str__(self) -> str:
        return self.name


class Notification(models.Model):
    """A message in a user's back-office notification list (reminders, rejects, dead sync events).

    Holds ticket or record numbers and links only, never personal data.
    """

    class Kind(models.TextChoices):
        DUE_SOON = "due_soon", _("期限間近")
        OVERDUE = "overdue", _("期限超過")
        ESCALATION = "escalation", _("エスカレーション")
        BUREAU_REJECT = "bureau_reject", _("信用情報機関の返却")
        SYNC_DEAD = "sync_dead", _("提携先連携の送信不能")
        PARTNER_SCOPE = "partner_scope", _("提携先からの対象外の変更通知")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("宛先"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("種類"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("件名"), max_length=200)
    url = models.CharField(_("リンク"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("日時"), auto_now_add=True)
    read_at = models.DateTimeField(_("既読日時"), null=True, blank=True)
    # What the notice is about ("requests.ticket:<pk>"), so that it is put away when that is settled
    # (a deadline reminder when its ticket closes); empty for notices about no one record.
    subject = models.CharField(_("対象"), max_length=64, blank=True, default="", editable=False)

    class Meta:
        verbose_name = pgettext_lazy("model", "通知")
        verbose_name_plural = pgettext_lazy("plural", "通知")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "read_at", "-created_at"], name="notification_user_idx"),
            # Only unread notices are looked up by subject; read ones stay out of the index.
            models.Index(
                fields=["subject"],
                condition=models.Q(read_at__isnull=True) & ~models.Q(subject=""),
                name="notification_open_subject_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class AuditSeal(models.Model):
    """One sealed audit row (a history row or an access-log row) and its place in the hash chain.

    ``row_hash`` is the SHA-256 of the row's canonical content; ``chain_hash`` is an HMAC-SHA256
    over the previous link and this row's hash, so a row changed, inserted or deleted after sealing
    shows up when ``manage.py verify_audit`` recomputes the chain (consentoffice.audit_seal).
    """

    seq = models.BigIntegerField(_("連番"), unique=True)
    table = models.CharField(_("テーブル"), max_length=100)
    row_id = models.BigIntegerField(_("行ID"))
    row_hash = models.CharField(_("行ハッシュ"), max_length=64)
    chain_hash = models.CharField(_("連鎖ハッシュ"), max_length=64)
    sealed_at = models.DateTimeField(_("封印日時"), default=timezone.now)
    # The row is dated before the previous seal run's cutoff yet was not there then: written
    # back-dated (or by a transaction that ran longer than the seal delay). ``verify_audit`` lists it.
    backdated = models.BooleanField(_("遡った日付"), default=False)

    class Meta:
        verbose_name = pgettext_lazy("model", "監査証跡の封印")
        verbose_name_plural = pgettext_lazy("plural", "監査証跡の封印")
        ordering = ["seq"]
        constraints = [models.UniqueConstraint(fields=["table", "row_id"], name="auditseal_one_per_row")]
        permissions = [
            ("view_audit_clear_values", _("監査証跡で暗号化項目を伏せ字なしで表示できる")),
        ]

    def __str__(self) -> str:
        return f"{self.seq} {self.table}#{self.row_id}"


class AuditAmendment(models.Model):
    """A sanctioned change of an already sealed audit row (erasure, anonymization: APPI Art. 35).

    The services that scrub history rows record which row changed from which hash to which, why and
    by whom; ``verify_audit`` accepts a row whose content matches the last amendment of an unbroken
    chain of amendments starting at its sealed hash. ``mac`` protects the amendment itself.
    """

    table = models.CharField(_("テーブル"), max_length=100)
    row_id = models.BigIntegerField(_("行ID"))
    old_hash = models.CharField(_("変更前ハッシュ"), max_length=64)
    new_hash = models.CharField(_("変更後ハッシュ"), max_length=64)
    reason = models.TextField(_("理由"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("実施者"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("日時"), default=timezone.now)
    mac = models.CharField(_("改ざん検知符号"), max_length=64)

    class Meta:
        verbose_name = pgettext_lazy("model", "監査証跡の正規の修正")
        verbose_name_plural = pgettext_lazy("plural", "監査証跡の正規の修正")
        ordering = ["id"]
        indexes = [models.Index(fields=["table", "row_id", "id"], name="auditamend_row_idx")]

    def __str__(self) -> str:
        return f"{self.table}#{self.row_id}"
