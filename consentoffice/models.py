"""Operational state that is not domain data (no personal data, no history)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Heartbeat(models.Model):
    """The last time a periodic process reported in; ``/healthz/`` reads the beat's."""

    name = models.CharField(_("名前"), max_length=50, unique=True)
    last_seen = models.DateTimeField(_("最終確認"))

    class Meta:
        verbose_name = _("稼働確認")
        verbose_name_plural = _("稼働確認")

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

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at", "-created_at"], name="notification_user_idx")]

    def __str__(self) -> str:
        return self.title
