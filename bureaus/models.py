"""Credit bureaus (個人信用情報機関) of clause Art. 3."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from bureaus.rules import RecordType as RT
from consentoffice.core.tracking import AuditedHistory


class BureauKind(models.TextChoices):
    MEMBER = "member", _("加盟個人信用情報機関")
    PARTNER = "partner", _("提携個人信用情報機関")


class Bureau(models.Model):
    """CIC and JICC (member bureaus) and KSC (partner bureau), created by a migration."""

    code = models.CharField(_("コード"), max_length=8, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("区分"), max_length=8, choices=BureauKind.choices)
    legal_basis = models.CharField(_("法的位置づけ"), max_length=200, blank=True)
    postal_code = models.CharField(_("郵便番号"), max_length=7)
    address = models.CharField(_("所在地"), max_length=200)
    phone = models.CharField(_("電話番号"), max_length=11)
    phone_alt = models.CharField(_("電話番号（その他）"), max_length=11, blank=True)
    website = models.URLField(_("ホームページ"))
    registered_items = models.TextField(_("登録情報"), blank=True)
    history = AuditedHistory()

    class Meta:
        verbose_name = pgettext_lazy("model", "個人信用情報機関")
        verbose_name_plural = pgettext_lazy("plural", "個人信用情報機関")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_member_bureau(self) -> bool:
        return self.kind == BureauKind.MEMBER


class InquiryPurpose(models.TextChoices):
    """割賦販売法・貸金業法: bureau data may be used only to examine the ability to pay."""

    ABILITY_TO_PAY = "ability_to_pay", _("支払能力の調査")


class Inquiry(models.Model):
    """照会 (clause Art. 3(1)): every look-up at a bureau, who made it, for which application."""

    bureau = models.ForeignKey(
        Bureau, verbose_name=_("照会先"), on_delete=models.PROTECT, related_name="inquiries"
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("会員"),
        on_delete=models.PROTECT,
        related_name="bureau_inquiries",
        db_index=False,
    )
    contract = models.ForeignKey(
        "members.Contract",
        verbose_name=_("契約（申込）"),
        on_delete=models.PROTECT,
        related_name="bureau_inquiries",
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("照会者"), on_delete=models.PROTECT, related_name="+"
    )
    purpose = models.CharField(_("照会の目的"), max_length=24, choices=InquiryPurpose.choices)
    inquired_at = models.DateTimeField(_("照会日時"), default=timezone.now)
    history = AuditedHistory()

    class Meta:
        verbose_name = pgettext_lazy("model", "照会記録")
        verbose_name_plural = pgettext_lazy("plural", "照会記録")
        ordering = ["-inquired_at", "-id"]
        indexes = [models.Index(fields=["member", "-inquired_at"], name="inquiry_member_idx")]

    def __str__(self) -> str:
        return f"{self.bureau.code} {timezone.localtime(self.inquired_at):%Y-%m-%d %H:%M}"


class RecordType(models.TextChoices):
    APPLICATION = RT.APPLICATION, _("申込みをした事実")
    CONTRACT = RT.CONTRACT, _("契約内容（契約成立）")
    PAYMENT = RT.PAYMENT, _("返済状況（月次）")
    DELINQUENCY = RT.DELINQUENCY, _("延滞（異動）")
    DELINQUENCY_RESOLVED = RT.DELINQUENCY_RESOLVED, _("延滞解消")
    CONTRACT_END = RT.CONTRACT_END, _("契約終了")
    COLLECTION = RT.COLLECTION, _("債権回収")
    DEBT_SETTLEMENT = RT.DEBT_SETTLEMENT, _("債務整理")
    GUARANTEE_PERFORMANCE = RT.GUARANTEE_PERFORMANCE, _("保証履行")
    FORCED_CANCELLATION = RT.FORCED_CANCELLATION, _("強制解約")
    BANKRUPTCY = RT.BANKRUPTCY, _("破産申立")
    CREDIT_TRANSFER = RT.CREDIT_TRANSFER, _("債権譲渡")
    IDENTITY = RT.IDENTITY, _("本人を特定するための情報")
    CORRECTION = RT.CORRECTION, _("訂正")
    DELETION = RT.DELETION, _("削除")


class SubmissionStatus(models.TextChoices):
    PENDING = "pending", _("送信待ち")
    BATCHED = "batched", _("送信済み（結果待ち）")
    ACCEPTED = "accepted", _("登録済み")
    REJECTED = "rejected", _("返却（要修正）")
    EXPIRED = "expired", _("登録期間満了")
    SUPERSEDED = "superseded", _("再送・削除により置換")


# Registered at the bureau or on the way there.
LIVE_STATUSES = (SubmissionStatus.PENDING, SubmissionStatus.BATCHED, SubmissionStatus.ACCEPTED)


class BatchStatus(models.TextChoices):
    CREATED = "created", _("作成済み（結果待ち）")
    ANSWERED = "answered", _("結果取込済み")


class SubmissionBatch(models.Model):
    """One registration file sent to a member bureau (fixed-width, CP932; docs/bureau-file-format.md)."""

    bureau = models.ForeignKey(
        Bureau, verbose_name=_("登録先"), on_delete=models.PROTECT, related_name="batches", db_index=False
    )
    created_at = models.DateTimeField(_("作成日時"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("作成者"), on_delete=models.PROTECT, related_name="+"
    )
    file_name = models.CharField(_("ファイル"), max_length=200, blank=True)
    record_count = models.PositiveIntegerField(_("件数"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    status = models.CharField(
        _("状態"), max_length=12, choices=BatchStatus.choices, default=BatchStatus.CREATED
    )
    answered_at = models.DateTimeField(_("結果取込日時"), null=True, blank=True)
    accepted_count = models.PositiveIntegerField(_("登録件数"), default=0)
    rejected_count = models.PositiveIntegerField(_("返却件数"), default=0)
    history = AuditedHistory()

    class Meta:
        verbose_name = pgettext_lazy("model", "登録ファイル")
        verbose_name_plural = pgettext_lazy("plural", "登録ファイル")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["bureau", "-created_at"], name="batch_bureau_idx")]

    def __str__(self) -> str:
        return f"{self.bureau_id}-{self.pk:06d}" if self.pk else "-"


class SubmissionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if "payload" in kwargs:
            _check_payload_change(kwargs["payload"])
        return super().update(**kwargs)


def _check_payload_change(payload) -> None:
    from members.services import ERASED_PAYLOAD

    if payload != ERASED_PAYLOAD:
        raise ValueError("a submission's payload is written once and changed only by erasure")


class Submission(models.Model):
    """One registration record (登録情報) for a member bureau, with its lapse date and response."""

    # Indexes (Meta): bureau and member lead composite indexes, inquiry and original are mostly
    # empty, so none of them has an index of its own (each index costs every batch run a write per row).
    bureau = models.ForeignKey(
        Bureau, verbose_name=_("登録先"), on_delete=models.PROTECT, related_name="submissions", db_index=False
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("会員"),
        on_delete=models.PROTECT,
        related_name="bureau_submissions",
        db_index=False,
    )
    contract = models.ForeignKey(
        "members.Contract",
        verbose_name=_("契約"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bureau_submissions",
    )
    inquiry = models.ForeignKey(
        Inquiry,
        verbose_name=_("照会"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    record_type = models.CharField(_("登録種別"), max_length=24, choices=RecordType.choices)
    event_date = models.DateField(_("発生日"))
    registered_until = models.DateField(
        _("登録期限"), null=True, blank=True, help_text=_("空欄は契約期間中（終了後に期限が決まります）")
    )
    payload = models.JSONField(_("登録内容"), default=dict)
    status = models.CharField(
        _("状態"), max_length=12, choices=SubmissionStatus.choices, default=SubmissionStatus.PENDING
    )
    batch = models.ForeignKey(
        SubmissionBatch,
        verbose_name=_("登録ファイル"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="submissions",
    )
    response_code = models.CharField(_("結果コード"), max_length=2, blank=True)
    response_message = models.CharField(_("結果"), max_length=200, blank=True)
    answered_at = models.DateTimeField(_("結果取込日時"), null=True, blank=True)
    original = models.ForeignKey(
        "self",
        verbose_name=_("元の登録"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="followups",
        db_index=False,
    )
    created_at = models.DateTimeField(_("作成日時"), default=timezone.now)

    objects = SubmissionQuerySet.as_manager()

    # The payload is the snapshot sent to the bureau: written once, changed only by erasure (to
    # ERASED_PAYLOAD, bureaus.erasure), so the history does not copy it into every status change — a
    # copy per batch, answer and lapse was 3.5 KB per member at a million members (issue 18). The
    # history still records each change and its reason; ``save`` and ``update`` refuse other changes.
    history = AuditedHistory(excluded_fields=["payload"])

    class Meta:
        verbose_name = pgettext_lazy("model", "登録情報")
        verbose_name_plural = pgettext_lazy("plural", "登録情報")
        ordering = ["-id"]
        indexes = [
            # Led by the status: a bureau's queue by status (both columns given), and the open
            # rejects of every bureau (the home's alert, the metrics), which led by the bureau read
            # the whole index — 3,370 pages for no rejects at a million members.
            models.Index(fields=["status", "bureau"], name="submission_queue_idx"),
            # The lapse run (registered_until < today): a record without a lapse date (a running
            # contract's facts, most of a batch) is not in it, so a claim does not write it.
            models.Index(
                fields=["status", "registered_until"],
                condition=Q(registered_until__isnull=False),
                name="submission_expiry_idx",
            ),
            models.Index(fields=["member", "bureau"], name="submission_member_idx"),
            # The queue of each bureau (counts, whether a run has anything to send); rows leave it when sent.
            models.Index(
                fields=["bureau", "id"], condition=Q(status="pending"), name="submission_pending_idx"
            ),
            # The queue a batch run claims in id order: led by the id, whose order is the table's,
            # so PostgreSQL takes it over the primary key (which it took before, reading three
            # rows of other bureaus and statuses for every row claimed).
            models.Index(
                fields=["id"],
                include=["bureau"],
                condition=Q(status="pending"),
                name="submission_pending_id_idx",
            ),
            models.Index(
                fields=["inquiry"], condition=Q(inquiry__isnull=False), name="submission_inquiry_idx"
            ),
            models.Index(
                fields=["original"], condition=Q(original__isnull=False), name="submission_original_idx"
            ),
        ]
        constraints = [
            # A fact is registered once per contract, bureau and day (tasks may run twice).
            models.UniqueConstraint(
                fields=["contract", "bureau", "record_type", "event_date"],
                condition=Q(status__in=["pending", "batched", "accepted"])
                & ~Q(record_type__in=["identity", "correction", "deletion"]),
                name="submission_one_live_fact",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bureau_id} {self.get_record_type_display()} {self.event_date}"

    def save(self, *args, **kwargs):
        stored = getattr(self, "_stored_payload", self.payload)
        if self.payload != stored:
            _check_payload_change(self.payload)
        super().save(*args, **kwargs)
        self._stored_payload = self.payload

    @classmethod
    def from_db(cls, db, field_names, values):
        submission = super().from_db(db, field_names, values)
        if "payload" in field_names:
            submission._stored_payload = submission.payload
        return submission
