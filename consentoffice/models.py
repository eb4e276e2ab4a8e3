"""Operational state that is not domain data: heartbeats, notices, the audit seal, and the staff's
second factor (authenticator devices and the one-time codes that enrol them)."""

import secrets
import time
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_otp.models import Device, ThrottlingMixin, TimestampMixin
from django_otp.oath import TOTP

from consentoffice.core.crypto import SecretTextField
from consentoffice.core.tracking import AuditedHistory


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
        APPROVED = "approved", _("承認")
        SENT_BACK = "sent_back", _("差し戻し")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("宛先"),
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
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
    """One sealed block of audit rows: up to ``BLOCK_ROWS`` (10,000) consecutive rows of one history
    table (or the access log), and the block's place in the hash chain.

    ``digests`` holds the first 16 bytes of each row's SHA-256 (in id order) and ``ids`` the sealed ids as runs of
    consecutive ids; ``chain_hash`` is an HMAC-SHA256 over the previous block's link and this block's
    content, so a row changed, inserted or deleted after sealing, or a block altered, shows up when
    ``manage.py verify_audit`` recomputes the chain (consentoffice.audit.seal). One row per block
    instead of one per audit row: about 18 bytes per sealed row instead of about 300.
    """

    seq = models.BigIntegerField(_("連番"), unique=True)
    table = models.CharField(_("テーブル"), max_length=100)
    first_id = models.BigIntegerField(_("最初の行ID"))
    last_id = models.BigIntegerField(_("最後の行ID"))
    rows = models.PositiveIntegerField(_("行数"))
    ids = models.BinaryField(_("行ID"))
    digests = models.BinaryField(_("行ハッシュ"))
    chain_hash = models.CharField(_("連鎖ハッシュ"), max_length=64)
    sealed_at = models.DateTimeField(_("封印日時"), default=timezone.now)
    # Rows dated before the previous seal run's cutoff yet not there then: written back-dated (or by
    # a transaction that ran longer than the seal delay). ``verify_audit`` lists them. Packed ids.
    backdated = models.BinaryField(_("遡った日付の行"), default=b"")
    # False when the run that sealed this block stopped at its batch size before the table's newest
    # rows: the next run's older rows are its backlog, not back-dated writes. Not part of the link
    # (it only decides the next run's warnings).
    caught_up = models.BooleanField(_("追いついた"), default=True)

    class Meta:
        verbose_name = pgettext_lazy("model", "監査証跡の封印")
        verbose_name_plural = pgettext_lazy("plural", "監査証跡の封印")
        ordering = ["seq"]
        constraints = [models.UniqueConstraint(fields=["table", "last_id"], name="auditseal_table_last")]
        permissions = [
            ("view_audit_clear_values", _("監査証跡で暗号化項目を伏せ字なしで表示できる")),
        ]

    def __str__(self) -> str:
        return f"{self.seq} {self.table}#{self.first_id}-{self.last_id}"


class AuditVerification(models.Model):
    """The newest seal block a clean ``verify_audit`` reached: where the next incremental run starts.
    ``mac`` (keyed like the chain) keeps it from being moved forward past rows nobody verified."""

    seq = models.BigIntegerField(_("連番"))
    chain_hash = models.CharField(_("連鎖ハッシュ"), max_length=64)
    verified_at = models.DateTimeField(_("検証日時"))
    mac = models.CharField(_("改ざん検知符号"), max_length=64)

    class Meta:
        verbose_name = pgettext_lazy("model", "監査証跡の検証済み位置")
        verbose_name_plural = pgettext_lazy("plural", "監査証跡の検証済み位置")

    def __str__(self) -> str:
        return str(self.seq)


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


def new_totp_key() -> str:
    """20 random bytes, hex: the shared secret of a new authenticator (RFC 6238's SHA-1 size)."""
    return secrets.token_hex(20)


class AuthenticatorDevice(TimestampMixin, ThrottlingMixin, Device):
    """A staff member's authenticator app (TOTP, RFC 6238: 6 digits every 30 seconds).

    django-otp's own TOTP device keeps its key in clear; this one keeps it encrypted with the field
    keys (``SecretTextField``: never shown, rotated by ``reencrypt_fields``). django-otp finds it
    like any device (``persistent_id``, throttling, the session's verified device).
    """

    STEP = 30
    DIGITS = 6
    TOLERANCE = 1  # the code before and after this one are accepted too (clock skew)

    key = SecretTextField(_("秘密鍵"), default=new_totp_key)
    drift = models.SmallIntegerField(_("時刻のずれ（ステップ数）"), default=0)
    last_t = models.BigIntegerField(_("最後に使われたステップ"), default=-1)

    class Meta(Device.Meta):
        verbose_name = pgettext_lazy("model", "認証アプリ")
        verbose_name_plural = pgettext_lazy("plural", "認証アプリ")

    @property
    def bin_key(self) -> bytes:
        return bytes.fromhex(self.key)

    def totp(self) -> TOTP:
        totp = TOTP(self.bin_key, self.STEP, 0, self.DIGITS, self.drift)
        totp.time = time.time()
        return totp

    def verify_token(self, token) -> bool:
        """Each time step's code is accepted once (``last_t``); a wrong code throttles the next."""
        allowed, _details = self.verify_is_allowed()
        if not allowed:
            return False
        try:
            number = int(token)
        except (TypeError, ValueError):
            number = None
        totp = self.totp()
        if number is not None and totp.verify(number, self.TOLERANCE, self.last_t + 1):
            self.last_t = totp.t()
            self.drift = totp.drift
            self.throttle_reset(commit=False)
            self.set_last_used_timestamp(commit=False)
            self.save()
            return True
        self.throttle_increment(commit=True)
        return False

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)

    @property
    def config_url(self) -> str:
        """The ``otpauth://`` URI an authenticator app reads from the QR code."""
        from base64 import b32encode

        issuer = str(getattr(settings, "OTP_TOTP_ISSUER", "") or "").replace(":", "")
        label = self.user.get_username()
        params = {"secret": b32encode(self.bin_key).decode(), "algorithm": "SHA1", "digits": self.DIGITS}
        params["period"] = self.STEP
        if issuer:
            label = f"{issuer}:{label}"
            params["issuer"] = issuer
        return f"otpauth://totp/{quote(label)}?{urlencode(params, quote_via=quote)}"


class EnrolmentCode(models.Model):
    """A one-time code that lets a user enrol an authenticator app (二段階認証の登録コード).

    The password alone must not be enough to set up the second factor, so another supervisor or
    the privacy officer (or the system administrator, ``manage.py issue_enrolment_code``) issues
    a code for the user; it is shown once, kept only as a keyed hash, expires, and is spent by
    the enrolment it allows.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("対象者"),
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
    )
    code_hash = models.CharField(_("コードのハッシュ"), max_length=64, unique=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("発行者"), on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(_("発行日時"), default=timezone.now)
    expires_at = models.DateTimeField(_("有効期限"))
    used_at = models.DateTimeField(_("使用日時"), null=True, blank=True)

    history = AuditedHistory(excluded_fields=["code_hash"])

    class Meta:
        verbose_name = pgettext_lazy("model", "二段階認証の登録コード")
        verbose_name_plural = pgettext_lazy("plural", "二段階認証の登録コード")
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["user", "-issued_at"], name="enrolmentcode_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} {timezone.localtime(self.issued_at):%Y-%m-%d %H:%M}"
