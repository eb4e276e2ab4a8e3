"""Legal holds (法的保全, clause Art. 7, APPI Art. 35): what keeps the nightly erasure away."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from consentoffice.core.tracking import AuditedHistory
from members.models.member import Member


class HoldReason(models.TextChoices):
    LITIGATION = "litigation", _("訴訟・紛争")
    AML_INQUIRY = "aml_inquiry", _("犯罪収益移転防止法に基づく照会・調査")
    AUTHORITY = "authority", _("監督官庁・捜査機関からの照会")
    OTHER = "other", _("その他")


class LegalHold(models.Model):
    """A hold a privacy officer places on a member's data: the nightly erasure skips the member
    until the hold is released (open requests of the member hold erasure without a row here).

    The note names the matter (case number, inquiry reference), never the member's data.
    """

    member = models.ForeignKey(
        Member, verbose_name=_("会員"), on_delete=models.PROTECT, related_name="legal_holds"
    )
    reason_kind = models.CharField(_("保全の理由"), max_length=16, choices=HoldReason.choices)
    note = models.CharField(_("内容（事件番号・照会番号等）"), max_length=300)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("設定者"), on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField(_("設定日時"), default=timezone.now)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("解除者"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    released_at = models.DateTimeField(_("解除日時"), null=True, blank=True)
    release_reason = models.CharField(_("解除の理由"), max_length=300, blank=True)
    history = AuditedHistory()

    class Meta:
        verbose_name = pgettext_lazy("model", "法的保全")
        verbose_name_plural = pgettext_lazy("plural", "法的保全")
        ordering = ["-placed_at", "-id"]
        indexes = [
            models.Index(fields=["member"], condition=Q(released_at__isnull=True), name="legalhold_open_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(released_at__isnull=True, released_by__isnull=True, release_reason="")
                    | (Q(released_at__isnull=False, released_by__isnull=False) & ~Q(release_reason=""))
                ),
                name="legalhold_release_complete",
            )
        ]
        permissions = [("manage_legalhold", _("法的保全を設定・解除できる"))]

    def __str__(self) -> str:
        return f"{self.get_reason_kind_display()} {self.placed_at:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.released_at is None
