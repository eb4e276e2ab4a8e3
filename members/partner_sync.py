"""Partner sync (clause Art. 10): delivering outbox events to affiliates and taking theirs in.

Protocol (DESIGN.md, docs/partner-protocol.md): ``POST {endpoint}/member-changes`` with JSON
``{event_id, occurred_at, member_no, changes}`` — or ``stops`` instead of ``changes`` for a stop
passed on — ``X-Consentoffice-Timestamp`` (unix seconds) and
``X-Consentoffice-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">``.
2xx or 409 → sent; other 4xx → dead; 5xx, timeout, refused → retry with exponential backoff and
jitter, dead after the last attempt. Events of one member reach an affiliate in order.
Each delivery to, and each change accepted from, a consent-basis affiliate leaves a provision
record (第三者提供記録, APPI Art. 29). Signing, parsing and backoff are ``members.partner_protocol``
(no database); this module does the reads and writes.
"""

from __future__ import annotations

import logging
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Min
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from consentoffice.core import roles
from consentoffice.core.history import affiliate_user, copy_to_history, save_tracked, system_user
from consentoffice.core.i18n import record_text
from consentoffice.core.notifications import notify_roles
from consentoffice.models import Notification
from members import selectors, services
from members.endpoints import check_endpoint
from members.models import (
    Affiliate,
    AffiliateBasis,
    Contract,
    ContractStatus,
    Member,
    MemberStatus,
    PartnerSyncEvent,
    ProvisionBasis,
    RecipientKind,
    SyncDirection,
    SyncStatus,
)
from members.partner_protocol import (
    MAX_BODY_BYTES,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    InboundError,
    backoff_seconds,
    parse_change,
    sign,
    verify_signature,
    wire_body,
)
from members.partner_protocol import TIMESTAMP_WINDOW_SECONDS as TIMESTAMP_WINDOW_SECONDS

logger = logging.getLogger(__name__)


# --- outbound -------------------------------------------------------------------------------


def due_events(now: datetime, limit: int) -> list[PartnerSyncEvent]:
    """Up to ``limit`` pending outbound events whose time has come, in id order, each the first
    pending event of its (affiliate, member): that keeps one member's changes in order at each
    affiliate.

    Two plain reads per window of due events — the window, then the first pending id of each of
    its members' (affiliate, member) pairs — instead of one anti-join: right after a burst of new
    events the statistics still say nothing is pending, and PostgreSQL then ran the anti-join's
    inner side unparameterized, once per candidate over every pending event (2,000 events: 4
    million rows compared, 1–2 s). A window whose events all wait behind earlier ones is passed
    over for the next, so one affiliate's backlog cannot starve the others."""
    pending = PartnerSyncEvent.objects.filter(status=SyncStatus.PENDING, direction=SyncDirection.OUTBOUND)
    chosen: list[PartnerSyncEvent] = []
    after = 0
    while len(chosen) < limit:
        window = list(
            pending.filter(next_attempt_at__lte=now, id__gt=after)
            .select_related("affiliate")
            .order_by("id")[:limit]
        )
        if not window:
            break
        firsts = set(
            pending.filter(member_id__in={event.member_id for event in window})
            .values("member_id", "affiliate_id")
            .annotate(first=Min("id"))
            .values_list("first", flat=True)
        )
        chosen += [event for event in window if event.pk in firsts][: limit - len(chosen)]
        after = window[-1].pk
    return chosen


DRAIN_BATCH = 50
SEND_CONCURRENCY = 8  # requests in flight per drain


@dataclass(frozen=True)
class Lease:
    """A drain's hold on a claimed batch until ``until``; each row's ``next_attempt_at`` is the token,
    so no event is sent or recorded twice (docs/postgresql.md, "The partner sync drain")."""

    until: datetime
    ids: frozenset[int]

    def held(self) -> bool:
        """Still time to send: a request's timeout (at most half the lease) before it runs out."""
        margin = timedelta(
            seconds=min(settings.PARTNER_SYNC_TIMEOUT_SECONDS, settings.PARTNER_SYNC_LEASE_SECONDS / 2)
        )
        return timezone.now() + margin < self.until


def _claim_batch(event_ids: list[int], now: datetime) -> Lease:
    """Take a lease on a batch: rows another worker holds or has handled are skipped."""
    with transaction.atomic():
        ids = list(
            PartnerSyncEvent.objects.select_for_update(skip_locked=True)
            .filter(pk__in=event_ids, status=SyncStatus.PENDING, next_attempt_at__lte=now)
            .values_list("pk", flat=True)
        )
        until = timezone.now() + timedelta(seconds=settings.PARTNER_SYNC_LEASE_SECONDS)
        if ids:
            PartnerSyncEvent.objects.filter(pk__in=ids).update(next_attempt_at=until)
    return Lease(until=until, ids=frozenset(ids))


@dataclass
class DrainResult:
    sent: int = 0
    retried: int = 0
    dead: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.dead


def deliver_due_events(*, limit: int = 500, client: httpx.Client | None = None) -> DrainResult:
    """Deliver what is due, at most ``limit`` events; safe to run on several workers at once."""
    result = DrainResult()
    pool = None
    actor = system_user()
    owns_client = client is None
    client = client or httpx.Client(timeout=settings.PARTNER_SYNC_TIMEOUT_SECONDS, verify=tls_verification())
    try:
        now = timezone.now()
        # One read per drain, one lease and one write per batch (issue 7: ≥ 300 events/s); a dead
        # worker's lease runs out and its events go again: docs/postgresql.md.
        candidates = due_events(now, limit)
        pool = ThreadPoolExecutor(max_workers=SEND_CONCURRENCY) if candidates else None
        for start in range(0, len(candidates), DRAIN_BATCH):
            batch = candidates[start : start + DRAIN_BATCH]
            lease = _claim_batch([event.pk for event in batch], timezone.now())
            events = [event for event in batch if event.pk in lease.ids]
            # Sent side by side: a drain holds at most one event per (affiliate, member)
            # (``due_events``), so the order of one member's changes is kept. An event whose
            # lease has run out by its turn is left to whoever holds it now.
            outcomes = list(pool.map(partial(_send_while_held, lease=lease, client=client), events))
            handled = [(event, outcome) for event, outcome in zip(events, outcomes, strict=True) if outcome]
            for _event, outcome in _record_batch(handled, lease=lease, actor=actor):
                setattr(result, outcome.kind, getattr(result, outcome.kind) + 1)
    finally:
        if pool is not None:
            pool.shutdown()
        if owns_client:
            client.close()
    if result.dead:
        _notify_dead(result.dead)
    return result


def tls_verification() -> ssl.SSLContext | bool:
    """How affiliates' certificates are checked: against ``PARTNER_ENDPOINT_CA_BUNDLE`` when set
    (the CA of a private line), else against the public CAs. Never switched off."""
    bundle = getattr(settings, "PARTNER_ENDPOINT_CA_BUNDLE", "")
    return ssl.create_default_context(cafile=bundle) if bundle else True


def _send_while_held(event: PartnerSyncEvent, *, lease: Lease, client: httpx.Client) -> _Outcome | None:
    return _deliver(event, client) if lease.held() else None


def _notify_dead(count: int) -> None:
    """Supervisors see newly dead events on their home page (one notice per run, counts only)."""
    notify_roles(
        kind=Notification.Kind.SYNC_DEAD,
        title=record_text(
            "提携先連携 %(count)d件が送信不能になりました。内容を確認して再送してください。", count=count
        ),
        url=reverse("admin:members_partnersyncevent_changelist") + "?status__exact=dead",
        role_names=(roles.SUPERVISOR, roles.PRIVACY_OFFICER),
    )


@dataclass
class _Outcome:
    kind: str  # sent, retried, dead
    error: str = ""


def _deliver(event: PartnerSyncEvent, client: httpx.Client) -> _Outcome:
    affiliate = event.affiliate
    if not affiliate.active:
        return _Outcome("dead", "affiliate inactive")
    try:  # again at sending: the name may resolve elsewhere now than when it was saved
        check_endpoint(affiliate.endpoint)
    except ValidationError:
        return _Outcome("dead", "endpoint refused")
    body = wire_body(event)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(affiliate.shared_secret, timestamp, body),
    }
    url = affiliate.endpoint.rstrip("/") + "/member-changes"
    try:
        response = client.post(url, content=body, headers=headers)
    except httpx.TimeoutException:
        return _retry_or_dead(event, "timeout")
    except httpx.TransportError as exc:
        return _retry_or_dead(event, f"transport error: {type(exc).__name__}")
    status = response.status_code
    if 200 <= status < 300 or status == 409:
        return _Outcome("sent")
    if 400 <= status < 500:
        return _Outcome("dead", f"HTTP {status}")
    return _retry_or_dead(event, f"HTTP {status}")


def _retry_or_dead(event: PartnerSyncEvent, error: str) -> _Outcome:
    if event.attempts + 1 >= settings.PARTNER_SYNC_MAX_ATTEMPTS:
        return _Outcome("dead", error)
    return _Outcome("retried", error)


RECORDED_FIELDS = ["attempts", "last_error", "status", "sent_at", "next_attempt_at"]


def _record_batch(
    handled: list[tuple[PartnerSyncEvent, _Outcome]], *, lease: Lease, actor
) -> list[tuple[PartnerSyncEvent, _Outcome]]:
    """The outcomes of a batch: one UPDATE and one history INSERT per kind of outcome, each
    history row with the actor and the reason as ``save_tracked`` would write it. Only rows the
    lease still holds are written (another drain took over the rest); returns those recorded."""
    with transaction.atomic():
        held = set(
            PartnerSyncEvent.objects.select_for_update()
            .filter(pk__in=[event.pk for event, _outcome in handled], next_attempt_at=lease.until)
            .values_list("pk", flat=True)
        )
        handled = [(event, outcome) for event, outcome in handled if event.pk in held]
        now = timezone.now()
        # Sent and dead events of one reason and error get the same values: one UPDATE and one
        # history INSERT … SELECT each (Django's bulk_update writes a CASE per field and row and
        # was most of a drain's time). A retry's next attempt differs per event (jitter).
        alike: dict[tuple[str, str], list[PartnerSyncEvent]] = {}
        retried: dict[str, list[PartnerSyncEvent]] = {}
        for event, outcome in handled:
            reason = _apply(event, outcome, now)
            if outcome.kind == "retried":
                retried.setdefault(reason, []).append(event)
            else:
                alike.setdefault((reason, event.last_error), []).append(event)
        for (reason, last_error), events in alike.items():
            first = events[0]
            values = {"attempts": F("attempts") + 1, "last_error": last_error, "status": first.status}
            if first.status == SyncStatus.SENT:
                values["sent_at"] = first.sent_at
            rows = PartnerSyncEvent.objects.filter(pk__in=[event.pk for event in events])
            rows.update(**values)
            copy_to_history(rows, actor=actor, reason=reason, at=now)
        for reason, events in retried.items():
            bulk_update_with_history(
                events, PartnerSyncEvent, RECORDED_FIELDS, default_user=actor, default_change_reason=reason
            )
        delivered = [event for event, outcome in handled if outcome.kind == "sent"]
        # APPI Art. 29: the batch's consent-basis deliveries, in one INSERT (and its history rows).
        services.record_provisions_bulk(
            (_provision_row(event) for event in delivered if _records_provision(event)),
            actor=actor,
            reason=record_text("提携先への提供（第三者提供記録）"),
        )
    return handled


def _records_provision(event: PartnerSyncEvent) -> bool:
    """A consent-basis affiliate was given member data (a stop notice gives none; joint use
    (共同利用) needs no record: APPI Art. 27(5)(iii))."""
    return event.affiliate.basis == AffiliateBasis.CONSENT and bool(event.payload.get("changes"))


def provided_items(fields) -> list[str]:
    """The items of a provision record: the Japanese names of the fields, as the record keeps them."""
    with translation.override(settings.LANGUAGE_CODE):
        return [str(Member._meta.get_field(field).verbose_name) for field in fields]


def _provision_row(event: PartnerSyncEvent) -> dict:
    return {
        "member_id": event.member_id,
        "recipient_kind": RecipientKind.AFFILIATE,
        "recipient": event.affiliate.name,
        "items": provided_items(event.payload["changes"]),
        "basis": ProvisionBasis.CONSENT,
        "provided_on": timezone.localdate(),
        "reference": str(event.event_id),
    }


def _apply(event: PartnerSyncEvent, outcome: _Outcome, now: datetime) -> str:
    """Set the event's fields for ``outcome`` (recorded at ``now``); returns the history reason."""
    event.attempts += 1
    event.last_error = outcome.error[:300]
    if outcome.kind == "sent":
        event.status = SyncStatus.SENT
        event.sent_at = now
        reason = record_text("提携先へ送信")
    elif outcome.kind == "dead":
        event.status = SyncStatus.DEAD
        reason = record_text("送信不能")
        logger.warning("partner sync event %s dead after %s attempts", event.pk, event.attempts)
    else:
        event.next_attempt_at = now + timedelta(seconds=backoff_seconds(event.attempts))
        reason = record_text("再送予定")
    return str(reason)


def replay(event: PartnerSyncEvent, *, actor) -> PartnerSyncEvent:
    """A supervisor sends a dead event again."""
    services.require_perm(actor, roles.REPLAY_SYNC_EVENT)
    with transaction.atomic():
        locked = PartnerSyncEvent.objects.select_for_update().get(pk=event.pk)
        if locked.status != SyncStatus.DEAD or locked.direction != SyncDirection.OUTBOUND:
            raise ValidationError(_("送信不能の送信イベントだけが再送できます。"))
        # A change goes again only while partner provision is allowed (selectors.may_use): not
        # after a stop of provision, once no transaction runs, nor for an anonymized member whose
        # event was erased. A stop notice always may: the affiliate must learn of the stop.
        if "stops" not in locked.payload and not selectors.may_use(
            locked.member, selectors.PARTNER_PROVISION
        ):
            raise ValidationError(_("この会員の情報は提携先へ提供できません（提供停止・取引終了・匿名化）。"))
        locked.status = SyncStatus.PENDING
        locked.attempts = 0
        locked.next_attempt_at = timezone.now()
        save_tracked(locked, actor=actor, reason=record_text("送信不能イベントを再送"), clean=False)
        services.queue_delivery()
    return locked


# --- inbound --------------------------------------------------------------------------------


# Why a member number is out of an affiliate's reach; all of them answer as an unknown number does.
UNKNOWN_MEMBER = "unknown_member"
OUT_OF_SCOPE_NOTICE_SUBJECT = "members.affiliate:%s:out_of_scope"


def scope_refusal(affiliate: Affiliate, member: Member | None) -> str | None:
    """Why ``affiliate`` may not change ``member``, or None (DESIGN "Partner sync protocol").

    Art. 10 covers the partner card's contract (提携カードに係る契約): only the affiliate's own
    cardholders under a contract that is not declined; an anonymized member is not re-identified,
    and a member who stopped provision (APPI Art. 35) is not exchanged with affiliates at all."""
    if member is None:
        return UNKNOWN_MEMBER
    if member.status == MemberStatus.ANONYMIZED:
        return "anonymized"
    if member.provision_stopped:
        return "provision_stopped"
    cards = Contract.objects.filter(member=member, affiliate=affiliate)
    if not cards.exclude(status=ContractStatus.DECLINED).exists():
        return "declined_contract" if cards.exists() else "not_cardholder"
    return None


def _refuse_out_of_scope(affiliate: Affiliate, reason: str) -> InboundError:
    """Logged for supervisors with the affiliate and the reason only (no member number), and one
    unread notice per affiliate at a time, so a probing affiliate cannot flood the home pages."""
    logger.warning("partner inbound refused: affiliate=%s reason=%s", affiliate.code, reason)
    subject = OUT_OF_SCOPE_NOTICE_SUBJECT % affiliate.pk
    if not Notification.objects.filter(subject=subject, read_at__isnull=True).exists():
        notify_roles(
            kind=Notification.Kind.PARTNER_SCOPE,
            title=record_text(
                "提携先（%(code)s）から対象外の会員番号への変更通知がありました（%(reason)s）。",
                code=affiliate.code,
                reason=reason,
            ),
            url=reverse("admin:members_affiliate_change", args=[affiliate.pk]),
            role_names=(roles.SUPERVISOR, roles.PRIVACY_OFFICER),
            subject=subject,
        )
    return InboundError(404, UNKNOWN_MEMBER)


def apply_inbound(
    affiliate: Affiliate, *, body: bytes, timestamp: str | None, signature: str | None
) -> Member:
    """Verify and apply one change an affiliate was told (Art. 10), then pass it to the others.

    A member outside the affiliate's reach answers 404 exactly as an unknown number does, so the
    answers reveal nothing about which numbers exist, and nothing is written for it."""
    if len(body) > MAX_BODY_BYTES:
        raise InboundError(413, "too_large")
    verify_signature(affiliate, timestamp=timestamp, signature=signature, body=body)
    event_id, member_no, changes = parse_change(body, affiliate)
    if PartnerSyncEvent.objects.filter(event_id=event_id).exists():
        raise InboundError(409, "replayed")
    try:
        with transaction.atomic():
            member = Member.objects.select_for_update().filter(member_no=member_no).first()
            refusal = scope_refusal(affiliate, member)
            if refusal is not None:
                raise _OutOfScope(refusal)
            actor = affiliate_user(affiliate.code)
            if "birth_date" in changes:
                try:
                    changes["birth_date"] = datetime.fromisoformat(changes["birth_date"]).date()
                except ValueError:
                    raise InboundError(400, "invalid_value") from None
            record = PartnerSyncEvent(
                event_id=event_id,
                member=member,
                affiliate=affiliate,
                direction=SyncDirection.INBOUND,
                payload={"member_no": member_no, "changes": {k: str(v) for k, v in changes.items()}},
                status=SyncStatus.SENT,
                attempts=1,
                sent_at=timezone.now(),
            )
            save_tracked(record, actor=actor, reason=record_text("提携先からの変更通知を受信"), clean=False)
            member = services.update_member(
                member,
                actor=actor,
                source_affiliate=affiliate,
                reason=record_text(
                    "提携先（%(code)s）からの変更通知 %(event)s", code=affiliate.code, event=event_id
                ),
                **changes,
            )
            if affiliate.basis == AffiliateBasis.CONSENT:
                services.record_provisions_bulk(
                    [_provision_row(record)],
                    actor=actor,
                    reason=record_text("提携先からの変更通知（第三者提供記録）"),
                )
    except _OutOfScope as refused:
        raise _refuse_out_of_scope(affiliate, refused.reason) from None
    except IntegrityError:
        raise InboundError(409, "replayed") from None
    except ValidationError:
        raise InboundError(400, "invalid_value") from None
    return member


class _OutOfScope(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
