"""The pure parts of the partner protocol (clause Art. 10, docs/partner-protocol.md): the wire
body, its HMAC signature and the check of an affiliate's, the parse of an inbound change and the
retry backoff. Nothing here reads or writes the database; ``members.partner_sync`` does that.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings

from members.models import CATEGORY_1_FIELDS

if TYPE_CHECKING:
    from members.models import Affiliate, PartnerSyncEvent


SIGNATURE_HEADER = "X-Consentoffice-Signature"
TIMESTAMP_HEADER = "X-Consentoffice-Timestamp"
TIMESTAMP_WINDOW_SECONDS = 5 * 60
MAX_BODY_BYTES = 64 * 1024


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def wire_body(event: PartnerSyncEvent) -> bytes:
    document = {
        "event_id": str(event.event_id),
        "occurred_at": event.occurred_at.isoformat(),
        "member_no": event.payload["member_no"],
    }
    if "stops" in event.payload:
        document["stops"] = event.payload["stops"]
    else:
        document["changes"] = event.payload["changes"]
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with ±20 % jitter, capped (PARTNER_SYNC_BACKOFF_* settings)."""
    base = settings.PARTNER_SYNC_BACKOFF_BASE_SECONDS * (2 ** max(attempts - 1, 0))
    return min(base, settings.PARTNER_SYNC_BACKOFF_MAX_SECONDS) * random.uniform(0.8, 1.2)


class InboundError(Exception):
    """A refused inbound change: HTTP status and a code for the affiliate; nothing applied."""

    def __init__(self, status: int, code: str):
        super().__init__(code)
        self.status = status
        self.code = code


def verify_signature(
    affiliate: Affiliate,
    *,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: float | None = None,
) -> None:
    if not timestamp or not signature or not (timestamp.isascii() and timestamp.isdigit()):
        raise InboundError(401, "missing_signature")
    if abs((now or time.time()) - int(timestamp)) > TIMESTAMP_WINDOW_SECONDS:
        raise InboundError(401, "stale_timestamp")
    # Bytes on both sides: a header may carry any text, and compare_digest refuses non-ASCII str.
    expected = sign(affiliate.shared_secret, timestamp, body).encode()
    if not hmac.compare_digest(expected, signature.encode("utf-8", "surrogateescape")):
        raise InboundError(401, "bad_signature")


def parse_change(body: bytes, affiliate: Affiliate) -> tuple[uuid.UUID, str, dict]:
    try:
        document = json.loads(body.decode("utf-8"))
        event_id = uuid.UUID(str(document["event_id"]))
        member_no = str(document["member_no"])
        changes = document["changes"]
        datetime.fromisoformat(str(document["occurred_at"]))
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        raise InboundError(400, "malformed") from None
    if not isinstance(changes, dict) or not changes or not all(isinstance(v, str) for v in changes.values()):
        raise InboundError(400, "malformed")
    # PostgreSQL text and jsonb cannot hold NUL: refused here rather than failing in the database.
    if any("\x00" in text for text in (member_no, *changes, *changes.values())):
        raise InboundError(400, "malformed")
    allowed = set(CATEGORY_1_FIELDS) & (
        set(affiliate.shared_items) if affiliate.shared_items else set(CATEGORY_1_FIELDS)
    )
    if set(changes) - allowed:
        raise InboundError(400, "forbidden_field")
    return event_id, member_no, changes
