"""Tamper evidence of the audit trail (監査証跡の改ざん検知): a sealed hash chain.

Every history row and access-log row gets a SHA-256 of its content once it is older than
``AUDIT_SEAL_DELAY_SECONDS`` (so a transaction still running cannot commit a row behind the seal);
the rows are chained in time order with HMAC-SHA256 under ``AUDIT_SEAL_KEY`` (``AuditSeal``).
``verify_audit_trail`` recomputes every row's hash and the chain and names the rows changed,
inserted or deleted after sealing.

Erasure and anonymization (APPI Art. 35, clause Art. 7) scrub history rows on purpose: they go
through ``amend_history``, which records each sealed row's old and new hash with the reason and
the actor (``AuditAmendment``); verification accepts a row that reached its content that way.
Hashes are taken over decrypted values, so re-encrypting under a new key changes nothing.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from consentoffice.audit.selectors import tracked_models
from consentoffice.core.history import (
    CHUNK,
    Source,
    _hashed,
    _lock,
    _mac,
    amendment_mac,
    chain_link,
)
from consentoffice.models import AuditAmendment, AuditSeal
from members.models import AccessLog

logger = logging.getLogger(__name__)

GENESIS = "0" * 64


def sources() -> list[Source]:
    found = [Source(t.table, t.history, "history_date") for t in tracked_models()]
    found.append(Source(AccessLog._meta.db_table, AccessLog, "at"))
    return found


def _sealed_up_to(source: Source) -> int:
    """The table's highest sealed id (one probe of the (table, row_id) unique index)."""
    return AuditSeal.objects.filter(table=source.table).aggregate(m=Max("row_id"))["m"] or 0


def unsealed_rows() -> tuple[int, datetime | None]:
    """How many audit rows wait for their seal, and the date of the oldest of them: one query
    over every table (each table's rows above its highest sealed id, ``_sealed_up_to``)."""
    parts = []
    for source in sources():
        mark = (
            AuditSeal.objects.filter(table=source.table).order_by().values("table").annotate(m=Max("row_id"))
        )
        parts.append(
            source.model.objects.filter(**{f"{source.pk}__gt": Coalesce(Subquery(mark.values("m")), 0)})
            .order_by()
            .annotate(group=Value(source.table))
            .values("group")
            .annotate(n=Count("*"), oldest=Min(source.date_field))
            .values("n", "oldest")
        )
    rows = list(parts[0].union(*parts[1:], all=True))
    dates = [row["oldest"] for row in rows if row["oldest"] is not None]
    return sum(row["n"] for row in rows), min(dates, default=None)


# --- Sealing ---------------------------------------------------------------------------------


def seal_audit_trail(
    *, now: datetime | None = None, delay_seconds: int | None = None, batch_size: int | None = None
) -> int:
    """Seal the rows written since the last run; returns how many were sealed.

    Idempotent: a second run (or a second worker, which waits for the lock) finds nothing new.
    Per table the sealed ids stay contiguous: a run stops at a table's first row that is too recent.
    """
    now = now or timezone.now()
    delay = settings.AUDIT_SEAL_DELAY_SECONDS if delay_seconds is None else delay_seconds
    batch = batch_size or settings.AUDIT_SEAL_BATCH_SIZE
    cutoff = now - timedelta(seconds=delay)
    with transaction.atomic():
        lock = _lock()
        last = AuditSeal.objects.order_by("-seq").values_list("seq", "chain_hash").first()
        seq, chain = last if last else (0, GENESIS)
        # Rows dated at or before the previous run's cutoff should have been sealed then.
        previous_cutoff = lock.last_seen - timedelta(seconds=delay) if last else None
        chunk: list[AuditSeal] = []
        sealed = 0
        # In insertion order (each table by id): a row's date, which its writer chose, does not
        # decide its place in the chain.
        for source in sources():
            mark = _sealed_up_to(source)
            qs = source.model.objects.filter(**{f"{source.pk}__gt": mark}).order_by(source.pk)[:batch]
            for values, digest in _hashed(source, qs):
                at = values[source.date_field]
                if at > cutoff:
                    break
                seq += 1
                row_id = values[source.pk]
                chain = chain_link(chain, seq=seq, table=source.table, row_id=row_id, digest=digest)
                chunk.append(
                    AuditSeal(
                        seq=seq,
                        table=source.table,
                        row_id=row_id,
                        row_hash=digest,
                        chain_hash=chain,
                        backdated=previous_cutoff is not None and at <= previous_cutoff,
                    )
                )
                sealed += 1
                if len(chunk) >= CHUNK:
                    AuditSeal.objects.bulk_create(chunk)
                    chunk.clear()
        AuditSeal.objects.bulk_create(chunk)
        lock.last_seen = now
        lock.save(update_fields=["last_seen"])
        if sealed:
            transaction.on_commit(lambda: write_anchor(seq=seq, chain=chain, at=now))
    return sealed


# --- Anchors: the chain's head, outside the database -----------------------------------------


def anchor_line(*, seq: int, chain: str, at: datetime) -> str:
    stamp = at.astimezone(UTC).isoformat()
    return f"{stamp} seq={seq} chain={chain} mac={_mac('anchor', stamp, seq, chain)}"


def write_anchor(*, seq: int, chain: str, at: datetime) -> None:
    """Append the chain's head to ``AUDIT_ANCHOR_FILE`` (append-only) and the log."""
    line = anchor_line(seq=seq, chain=chain, at=at)
    path = Path(settings.AUDIT_ANCHOR_FILE)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as anchors:
        anchors.write(line + "\n")
    logger.info("audit anchor %s", line)


def read_anchors() -> list[tuple[int, str, bool]]:
    """Each anchored head as (seq, chain hash, authentic line)."""
    path = Path(settings.AUDIT_ANCHOR_FILE)
    if not path.exists():
        return []
    anchors = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            stamp, seq_part, chain_part, mac_part = line.split(" ")
            seq, chain, mac = int(seq_part[4:]), chain_part[6:], mac_part[4:]
        except ValueError:
            anchors.append((0, "", False))
            continue
        anchors.append((seq, chain, hmac.compare_digest(mac, _mac("anchor", stamp, seq, chain))))
    return anchors


# --- Sanctioned amendments (erasure, anonymization) ------------------------------------------


# --- Verification ----------------------------------------------------------------------------

CHANGED = "changed"
INSERTED = "inserted"
DELETED = "deleted"
SEAL_BROKEN = "seal_broken"
AMENDMENT_FORGED = "amendment_forged"
TRUNCATED = "truncated"  # the chain is shorter than, or differs from, a head anchored outside
ANCHOR_FORGED = "anchor_forged"
ANCHORS = "anchors"


@dataclass(frozen=True)
class Problem:
    kind: str
    table: str
    row_id: int
    seq: int

    def describe(self) -> str:
        return f"{self.kind}: {self.table} id={self.row_id} (seal #{self.seq})"


@dataclass
class Verification:
    checked_seals: int = 0
    checked_rows: int = 0
    amendments: int = 0
    anchors: int = 0
    problems: list[Problem] = field(default_factory=list)
    # Sealed rows dated before the run that should have sealed them (back-dated writes).
    backdated: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first(self) -> Problem | None:
        return min(self.problems, key=lambda p: (p.seq, p.table, p.row_id)) if self.problems else None


def _amendment_chains(result: Verification) -> dict[tuple[str, int], list[AuditAmendment]]:
    chains: dict[tuple[str, int], list[AuditAmendment]] = {}
    for amendment in AuditAmendment.objects.order_by("id").iterator(chunk_size=CHUNK):
        result.amendments += 1
        chains.setdefault((amendment.table, amendment.row_id), []).append(amendment)
    return chains


def _amended_to(chain: list[AuditAmendment], sealed: str, current: str) -> bool:
    """An unbroken, authentic run of amendments from the sealed hash to the current one."""
    expected = sealed
    for amendment in chain:
        authentic = hmac.compare_digest(
            amendment.mac,
            amendment_mac(
                table=amendment.table,
                row_id=amendment.row_id,
                old_hash=amendment.old_hash,
                new_hash=amendment.new_hash,
                actor_id=amendment.actor_id,
                reason=amendment.reason,
            ),
        )
        if not authentic or amendment.old_hash != expected:
            return False
        expected = amendment.new_hash
    return expected == current


def _verify_chain(result: Verification) -> None:
    chain, expected_seq = GENESIS, 1
    anchored: dict[int, list[str]] = {}
    for seq, head, authentic in read_anchors():
        result.anchors += 1
        if not authentic:
            result.problems.append(Problem(ANCHOR_FORGED, ANCHORS, 0, seq))
        else:
            anchored.setdefault(seq, []).append(head)
    rows = AuditSeal.objects.order_by("seq").values_list(
        "seq", "table", "row_id", "row_hash", "chain_hash", "backdated"
    )
    for seq, table, row_id, digest, stored, backdated in rows.iterator(chunk_size=CHUNK):
        result.checked_seals += 1
        if backdated:
            result.backdated.append(Problem("backdated", table, row_id, seq))
        heads = anchored.pop(seq, ())
        if any(not hmac.compare_digest(head, stored) for head in heads):
            result.problems.append(Problem(TRUNCATED, table, row_id, seq))
        chain = chain_link(chain, seq=seq, table=table, row_id=row_id, digest=digest)
        if seq != expected_seq or not hmac.compare_digest(chain, stored):
            result.problems.append(Problem(SEAL_BROKEN, table, row_id, seq))
            chain = stored
        expected_seq = seq + 1
    # Heads anchored past the end of the chain: its newest seals (and rows) were deleted.
    for seq in sorted(anchored):
        result.problems.append(Problem(TRUNCATED, ANCHORS, 0, seq))


def _verify_table(source: Source, chains: dict, result: Verification) -> None:
    """Merge the table's rows and its seals in id order: a seal without a row was deleted, a row
    without a seal below the table's last sealed id was inserted, a different hash was changed."""
    mark = _sealed_up_to(source)
    if not mark:
        return
    rows = _hashed(source, source.model.objects.filter(**{f"{source.pk}__lte": mark}).order_by(source.pk))
    seals = (
        AuditSeal.objects.filter(table=source.table)
        .order_by("row_id")
        .values_list("row_id", "row_hash", "seq")
        .iterator(chunk_size=CHUNK)
    )
    row, seal = next(rows, None), next(seals, None)
    while row is not None or seal is not None:
        row_id = row[0][source.pk] if row is not None else None
        if seal is None:
            break
        if row is not None and row_id < seal[0]:
            result.problems.append(Problem(INSERTED, source.table, row_id, seal[2]))
            result.checked_rows += 1
            row = next(rows, None)
        elif row is None or row_id > seal[0]:
            result.problems.append(Problem(DELETED, source.table, seal[0], seal[2]))
            seal = next(seals, None)
        else:
            digest = row[1]
            if digest != seal[1] and not _amended_to(chains.get((source.table, row_id), []), seal[1], digest):
                result.problems.append(Problem(CHANGED, source.table, row_id, seal[2]))
            result.checked_rows += 1
            row, seal = next(rows, None), next(seals, None)


def verify_audit_trail() -> Verification:
    """Recompute every sealed row's hash and the whole chain; problems in chain order."""
    result = Verification()
    with transaction.atomic():
        _verify_chain(result)
        chains = _amendment_chains(result)
        for source in sources():
            _verify_table(source, chains, result)
    result.problems.sort(key=lambda p: (p.seq, p.table, p.row_id))
    return result
