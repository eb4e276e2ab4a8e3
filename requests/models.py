"""Information-center tickets (インフォメーションセンター受付票): clause Art. 2(2), 4, 6; APPI Art. 33–39.

Status only changes through ``requests.services`` following ``requests.rules.TRANSITIONS``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from consentoffice.core.tracking import AuditedHistory
from members.models import CATEGORY_1_FIELDS, Member
from requests import rules


class Ticket(models.Model):
    """One request or inquiry from a member (or their agent) and everything done about it."""

    number = models.CharField(_("受付番号"), max_length=20, unique=True)
    member = models.ForeignKey(
        Member,
        verbose_name=_("会員"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
        db_index=False,
    )
    kind = models.CharField(_("種別"), max_length=16, choices=rules.KIND_CHOICES)
    channel = models.CharField(_("受付経路"), max_length=8, choices=rules.CHANNEL_CHOICES)
    summary = models.TextField(_("申出の内容"), blank=True)
    requester_type = models.CharField(
        _("請求者"), max_length=24, choices=rules.REQUESTER_CHOICES, default="self"
    )
    agent_name = models.CharField(_("代理人氏名"), max_length=100, blank=True)
    agent_document_issued_on = models.DateField(_("代理権確認書類の発行日"), null=True, blank=True)
    agent_verified = models.BooleanField(_("代理権確認済み"), default=False)
    identity_method = models.CharField(
        _("本人確認方法"), max_length=20, choices=rules.IDENTITY_METHOD_CHOICES, blank=True
    )
    identity_documents_seen = models.PositiveSmallIntegerField(_("確認した書類の数"), default=0)
    identity_verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("本人確認者"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    identity_verified_at = models.DateTimeField(_("本人確認日時"), null=True, blank=True)
    received_at = models.DateTimeField(_("受付日時"), default=timezone.now)
    due_at = models.DateTimeField(_("法定期限"), editable=False)
    status = models.CharField(
        _("状態"), max_length=20, choices=rules.STATUS_CHOICES, default=rules.Status.RECEIVED, editable=False
    )
    outcome = models.CharField(
        _("結果"), max_length=12, choices=rules.OUTCOME_CHOICES, blank=True, editable=False
    )
    refusal_ground = models.CharField(
        _("不対応の根拠"),
        max_length=12,
        choices=[(k, v) for k, v in rules.REFUSAL_GROUNDS.items()],
        blank=True,
        editable=False,
    )
    outcome_reason = models.TextField(
        _("理由の説明"),
        blank=True,
        editable=False,
        help_text=_("不対応・一部対応の理由（個人情報保護法第36条）"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("担当者"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        db_index=False,
    )
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("起案者"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("承認者"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    approved_at = models.DateTimeField(_("承認日時"), null=True, blank=True, editable=False)
    # Why the last prepared outcome was sent back, shown on the ticket until it is submitted again.
    sent_back_reason = models.CharField(_("差し戻しの理由"), max_length=200, blank=True, editable=False)
    closed_at = models.DateTimeField(_("完了日時"), null=True, blank=True, editable=False)
    response_method = models.CharField(
        _("回答方法"), max_length=12, choices=rules.RESPONSE_METHOD_CHOICES, default="paper"
    )
    fee_amount = models.PositiveIntegerField(_("手数料（円）"), default=0)
    fee_paid_on = models.DateField(_("手数料入金日"), null=True, blank=True)
    on_hold = models.BooleanField(_("保留中"), default=False, editable=False)
    hold_reason = models.CharField(_("保留の理由"), max_length=200, blank=True, editable=False)
    hold_started_at = models.DateTimeField(_("保留開始"), null=True, blank=True, editable=False)
    held_seconds = models.PositiveIntegerField(_("保留時間（秒）"), default=0, editable=False)
    escalated_at = models.DateTimeField(_("エスカレーション日時"), null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(_("版"), default=1, editable=False)
    history = AuditedHistory()

    class Meta:
        verbose_name = pgettext_lazy("model", "受付票")
        verbose_name_plural = pgettext_lazy("plural", "受付票")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["status", "due_at"], name="ticket_status_due_idx"),
            models.Index(fields=["assignee", "status", "due_at"], name="ticket_assignee_idx"),
            models.Index(fields=["member", "kind", "status"], name="ticket_member_kind_idx"),
            models.Index(fields=["-received_at"], name="ticket_received_idx"),
            # The dashboard counts tickets closed per week and how many met their deadline
            # (consentoffice.home.dashboard) from this index alone (index-only scan).
            models.Index(fields=["closed_at", "kind", "due_at"], name="ticket_closed_idx"),
            # The open tickets only (a few percent of all, however many have closed): the queues
            # read them in deadline order and stop at a page, the home page and the dashboard count
            # them from these entries alone (index-only), so neither sorts nor visits every open
            # ticket's row (issue 18). Deadline queues (overdue, due soon, unassigned) by due_at;
            # an operator's own tickets by assignee, then due_at.
            models.Index(
                fields=["due_at", "id"],
                include=["status", "kind", "assignee", "on_hold"],
                condition=Q(status__in=sorted(rules.OPEN_STATUSES)),
                name="ticket_open_due_idx",
            ),
            models.Index(
                fields=["assignee", "due_at", "id"],
                include=["status", "kind"],
                condition=Q(status__in=sorted(rules.OPEN_STATUSES)),
                name="ticket_open_assignee_idx",
            ),
            # The outcomes waiting for approval, in deadline order to the last tie (due_at repeats
            # for every ticket received the same minute, more of them the bigger the center): the
            # approval queue and the supervisors' home read a page of them, and the queue counts
            # the ones the supervisor did not prepare, from these entries alone.
            models.Index(
                fields=["due_at", "id"],
                include=["prepared_by"],
                condition=Q(status="pending_approval"),
                name="ticket_approval_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="closed") | ~Q(outcome="") | Q(kind__in=["inquiry", "opinion"]),
                name="ticket_closed_request_has_outcome",
            ),
            models.CheckConstraint(
                condition=~Q(outcome="refused") | ~Q(refusal_ground=""), name="ticket_refusal_has_ground"
            ),
            models.CheckConstraint(
                condition=Q(approver__isnull=True) | ~Q(approver=models.F("prepared_by")),
                name="ticket_four_eyes",
            ),
        ]
        permissions = [("approve_ticket", _("受付票の結果を承認できる"))]

    def __str__(self) -> str:
        return f"{self.number} {self.get_kind_display()}"

    @property
    def is_request(self) -> bool:
        return self.kind in rules.REQUEST_KINDS

    @property
    def is_open(self) -> bool:
        return self.status in rules.OPEN_STATUSES

    def due_state(self, now=None) -> str:
        if not self.is_open or not self.is_request:
            return "ok"
        return rules.due_state(self.due_at, now or timezone.now())

    def held_total_seconds(self, now=None) -> int:
        running = 0
        if self.on_hold and self.hold_started_at:
            running = int(((now or timezone.now()) - self.hold_started_at).total_seconds())
        return self.held_seconds + running


class TicketParticipant(models.Model):
    """Who prepared a ticket's outcome (submitted it, decided one of its items) and who approved it.

    One row per (ticket, user), so the database itself refuses an approver who took part in the
    preparation (DESIGN, four eyes: across send-backs and resubmissions). Written by
    ``requests.services`` only; never changed.
    """

    class Role(models.TextChoices):
        PREPARED = "prepared", _("起案・判断")
        APPROVED = "approved", _("承認")

    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("受付票"),
        on_delete=models.PROTECT,
        related_name="participants",
        db_index=False,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("担当者"), on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(_("役割"), max_length=12, choices=Role.choices)
    at = models.DateTimeField(_("日時"), default=timezone.now)

    class Meta:
        verbose_name = pgettext_lazy("model", "受付票の関与者")
        verbose_name_plural = pgettext_lazy("plural", "受付票の関与者")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "user"], name="ticket_participant_once"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.user_id} {self.role}"


class CorrectionItem(models.Model):
    """One field of a correction request (APPI Art. 34): current value captured, decision per item."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("未決定")
        ACCEPTED = "accepted", _("訂正する")
        REJECTED = "rejected", _("訂正しない")

    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("受付票"),
        on_delete=models.PROTECT,
        related_name="correction_items",
        db_index=False,
    )
    field = models.CharField(_("項目"), max_length=32, choices=[(f, f) for f in CATEGORY_1_FIELDS])
    current_value = models.CharField(_("現在の内容"), max_length=300, blank=True)
    requested_value = models.CharField(_("訂正後の内容"), max_length=300)
    decision = models.CharField(_("判断"), max_length=10, choices=Decision.choices, default=Decision.PENDING)
    decision_note = models.CharField(_("判断の理由"), max_length=300, blank=True)
    history = AuditedHistory()

    class Meta:
        verbose_name = pgettext_lazy("model", "訂正項目")
        verbose_name_plural = pgettext_lazy("plural", "訂正項目")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["ticket", "field"], name="correction_one_per_field")]

    def __str__(self) -> str:
        return self.field


class DeletionItem(models.Model):
    """One kind of held data a deletion request asks to erase (APPI Art. 35), decided item by item."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("未決定")
        ACCEPTED = "accepted", _("削除・匿名化する")
        REFUSED = "refused", _("保存義務により削除しない")

    ticket = models.ForeignKey(
        Ticket,
        verbose_name=_("受付票"),
        on_delete=models.PROTECT,
        related_name="deletion_items",
        db_index=False,
    )
    target = models.CharField(_("対象"), max_length=32)
    decision = models.CharField(_("判断"), max_length=10, choices=Decision.choices, default=Decision.PENDING)
    ground = models.CharField(
        _("保存の根拠"),
        max_length=24,
        blank=True,
        choices=[(k, v) for k, v in rules.RETENTION_GROUNDS.items()],
    )
    erased_count = models.PositiveIntegerField(_("削除・匿名化した件数"), default=0)
    history = AuditedHistory()

    class Meta:
        verbose_name = pgettext_lazy("model", "削除項目")
        verbose_name_plural = pgettext_lazy("plural", "削除項目")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "target"], name="deletion_one_per_target"),
            models.CheckConstraint(
                condition=~Q(decision="refused") | ~Q(ground=""), name="deletion_refusal_ground"
            ),
        ]

    def __str__(self) -> str:
        return self.target


class DisclosurePackage(models.Model):
    """The disclosure ZIP (JSON, CSV per category, records, PDF letter) and its SHA-256."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("受付票"), on_delete=models.PROTECT, related_name="packages"
    )
    file = models.CharField(_("ファイル"), max_length=300)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveIntegerField(_("サイズ（バイト）"))
    files = models.JSONField(_("収録ファイル"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("作成者"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("作成日時"), default=timezone.now)
    delivered_at = models.DateTimeField(_("交付日時"), null=True, blank=True)
    history = AuditedHistory()

    class Meta:
        verbose_name = pgettext_lazy("model", "開示パッケージ")
        verbose_name_plural = pgettext_lazy("plural", "開示パッケージ")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.ticket.number} {self.sha256[:12]}"


class Reminder(models.Model):
    """A deadline reminder sent for a ticket: at most one per ticket, kind and day."""

    class Kind(models.TextChoices):
        DUE_SOON = "due_soon", _("期限間近")
        OVERDUE = "overdue", _("期限超過")
        ESCALATION = "escalation", _("エスカレーション")

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("受付票"), on_delete=models.PROTECT, related_name="reminders", db_index=False
    )
    kind = models.CharField(_("種類"), max_length=12, choices=Kind.choices)
    sent_on = models.DateField(_("送信日"))
    sent_at = models.DateTimeField(_("送信日時"), default=timezone.now)
    recipients = models.JSONField(_("宛先（利用者ID）"), default=list)

    class Meta:
        verbose_name = pgettext_lazy("model", "リマインダー")
        verbose_name_plural = pgettext_lazy("plural", "リマインダー")
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "kind", "sent_on"], name="reminder_once_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind} {self.sent_on}"
