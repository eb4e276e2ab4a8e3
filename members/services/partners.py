"""Affiliates (Art. 10): the partner-sync outbox rows written with a change or a stop, and the
affiliate records with their shared secrets."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Any

from celery import current_app
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consentoffice.core.history import save_tracked
from consentoffice.core.i18n import record_text
from consentoffice.core.queue import enqueue_on_commit
from members.models import (
    CATEGORY_1_FIELDS,
    Affiliate,
    ContractStatus,
    Member,
    PartnerSyncEvent,
)
from members.services.common import _require_reason, require_perm


def partner_affiliates(member: Member):
    """Active affiliates through which the member holds a partner card (提携カード)."""
    return Affiliate.objects.filter(
        active=True,
        contracts__member=member,
        contracts__status__in=[ContractStatus.APPLIED, ContractStatus.FORMED],
    ).distinct()


def queue_partner_sync(
    member: Member, changed: list[str], *, actor, exclude: Affiliate | None = None
) -> list[PartnerSyncEvent]:
    """Write outbox rows in the caller's transaction; delivery happens after commit (Art. 10).

    Nothing is written unless ``selectors.may_use`` allows partner provision today: not after a
    stop of provision (APPI Art. 35), once no transaction runs (clause Art. 7), nor for an
    anonymized member.
    """
    from members import selectors

    if not selectors.may_use(member, selectors.PARTNER_PROVISION):
        return []
    shared = [field for field in changed if field in CATEGORY_1_FIELDS]
    if not shared:
        return []
    events = []
    now = timezone.now()
    for affiliate in partner_affiliates(member):
        if exclude is not None and affiliate.pk == exclude.pk:
            continue
        items = [f for f in shared if not affiliate.shared_items or f in affiliate.shared_items]
        if not items:
            continue
        payload = {
            "member_no": member.member_no,
            "changes": {field: _wire_value(getattr(member, field)) for field in items},
        }
        events.append(
            PartnerSyncEvent(
                member=member, affiliate=affiliate, payload=payload, occurred_at=now, next_attempt_at=now
            )
        )
    for event in events:
        save_tracked(event, actor=actor, reason=record_text("会員情報の変更を提携先へ連携"), clean=False)
    if events:
        queue_delivery()
    return events


# Stops of use passed on to affiliates (DESIGN, "Partner cards": stops of use/provision are
# passed on), as the wire names them: docs/partner-protocol.md.
PARTNER_STOPS = ("marketing", "usage", "provision")


def queue_partner_stop(member: Member, stop: str, *, actor) -> list[PartnerSyncEvent]:
    """Tell each affiliate holding the member's card that the member stopped ``stop`` (Art. 10,
    APPI Art. 35): outbox rows in the caller's transaction, delivered and retried like changes.

    Unlike a change this is queued after a provision stop too: the affiliate must learn of it."""
    if stop not in PARTNER_STOPS:
        raise ValueError(stop)
    now = timezone.now()
    events = [
        PartnerSyncEvent(
            member=member,
            affiliate=affiliate,
            payload={"member_no": member.member_no, "stops": [stop]},
            occurred_at=now,
            next_attempt_at=now,
        )
        for affiliate in partner_affiliates(member)
    ]
    for event in events:
        save_tracked(event, actor=actor, reason=record_text("利用停止等を提携先へ連携"), clean=False)
    if events:
        queue_delivery()
    return events


# Named, not imported: members.tasks imports services, never the other way round.
DELIVER_PARTNER_SYNC_TASK = "members.tasks.deliver_partner_sync"


def queue_delivery() -> None:
    """Deliver the outbox after commit. The signature is the registered task where members.tasks is
    loaded (eager mode honoured), else a plain send_task; a broker that is down loses no write."""
    enqueue_on_commit(current_app.signature(DELIVER_PARTNER_SYNC_TASK))


def _wire_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def save_affiliate(
    *, actor, affiliate: Affiliate | None = None, reason: str = "", **fields: Any
) -> Affiliate:
    """Create or change a partner-card company (提携先); supervisors only.

    The endpoint is checked (``members.endpoints``). The shared secret is never typed in: a new
    affiliate gets one from the system, left on ``issued_secret`` for the caller to show once.
    """
    require_perm(actor, "members.change_affiliate" if affiliate and affiliate.pk else "members.add_affiliate")
    if "shared_secret" in fields:
        raise ValidationError({"shared_secret": _("共有シークレットはシステムが発行します。")})
    creating = affiliate is None or affiliate.pk is None
    affiliate = affiliate or Affiliate()
    for field, value in fields.items():
        setattr(affiliate, field, value)
    secret = new_shared_secret() if creating else None
    if secret:
        affiliate.shared_secret = secret
    with transaction.atomic():
        saved = save_tracked(affiliate, actor=actor, reason=reason or record_text("提携先の登録・変更"))
    saved.issued_secret = secret
    return saved


SHARED_SECRET_BYTES = 32


def new_shared_secret() -> str:
    """32 random bytes (256 bits), URL-safe: what signs the partner protocol both ways."""
    return secrets.token_urlsafe(SHARED_SECRET_BYTES)


def rotate_affiliate_secret(affiliate: Affiliate, *, actor, reason: str) -> str:
    """Issue a new shared secret (the old one stops working at once); returns it to be shown once."""
    require_perm(actor, "members.change_affiliate")
    reason = _require_reason(reason)
    secret = new_shared_secret()
    with transaction.atomic():
        locked = Affiliate.objects.select_for_update().get(pk=affiliate.pk)
        locked.shared_secret = secret
        save_tracked(locked, actor=actor, reason=reason, clean=False)
    affiliate.shared_secret = secret
    return secret
