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

import bisect
import hmac
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Min, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from consentoffice.audit.selectors import tracked_models
from consentoffice.core.digests import row_digests
from consentoffice.core.history import (
    BLOCK_ROWS,
    DIGEST_SIZE,
    GENESIS,
    Source,
    _lock,
    _mac,
    amendment_mac,
    block_link,
    new_block,
    sealed_hashes,
    unpack_ids,
    unpack_list,
)
from consentoffice.models import AuditAmendment, AuditSeal, AuditVerification
from members.models import AccessLog

logger = logging.getLogger(__name__)


def sources() -> list[Source]:
    found = [Source(t.table, t.history, "history_date") for t in tracked_models()]
    found.append(Source(AccessLog._meta.db_table, AccessLog, "at"))
    return found


def _newest_block(source: Source) -> tuple[int, bool]:
    """The table's highest sealed id and whether the run that sealed it had caught up with it."""
    newest = (
        AuditSeal.objects.filter(table=source.table).order_by("-last_id").values_list("last_id", "caught_up")
    )
    return newest.first() or (0, True)


def unsealed_rows() -> tuple[int, datetime | None]:
    """How many audit rows wait for their seal, and the date of the oldest of them: one query
    over every table (each table's rows above its highest sealed id, as ``_newest_block`` finds it)."""
    parts = []
    for source in sources():
        mark = (
            AuditSeal.objects.filter(table=source.table).order_by().values("table").annotate(m=Max("last_id"))
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


def _save_block(seq: int, chain: str, table: str, ids: list[int], digests: list[bytes], backdated: list[int]):
    block = new_block(
        AuditSeal, seq=seq, previous=chain, table=table, ids=ids, digests=digests, backdated=backdated
    )
    block.save(force_insert=True)
    return block


def seal_audit_trail(
    *, now: datetime | None = None, delay_seconds: int | None = None, batch_size: int | None = None
) -> int:
    """Seal the rows written since the last run in blocks of up to ``BLOCK_ROWS`` rows of one table;
    returns how many rows were sealed.

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
        sealed = 0
        # In insertion order (each table by id): a row's date, which its writer chose, does not
        # decide its place in the chain.
        for source in sources():
            mark, caught_up = _newest_block(source)
            # Rows the previous run left for lack of room (its batch was full) are not back-dated.
            flag_before = previous_cutoff if caught_up else None
            ids: list[int] = []
            digests: list[bytes] = []
            backdated: list[int] = []
            read, too_recent, block = 0, False, None
            for row_id, at, digest in row_digests(source, after=mark, limit=batch):
                read += 1
                if at > cutoff:
                    too_recent = True
                    break
                ids.append(row_id)
                digests.append(digest)
                if flag_before is not None and at <= flag_before:
                    backdated.append(row_id)
                if len(ids) == BLOCK_ROWS:
                    seq, block = seq + 1, _save_block(seq + 1, chain, source.table, ids, digests, backdated)
                    chain, sealed = block.chain_hash, sealed + len(ids)
                    ids, digests, backdated = [], [], []
            if ids:
                seq, block = seq + 1, _save_block(seq + 1, chain, source.table, ids, digests, backdated)
                chain, sealed = block.chain_hash, sealed + len(ids)
            if block is not None and read == batch and not too_recent:
                AuditSeal.objects.filter(pk=block.pk).update(caught_up=False)
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
    checked_seals: int = 0  # blocks
    incremental: bool = False
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
    for amendment in AuditAmendment.objects.order_by("id").iterator(chunk_size=2000):
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
        # The first amendment starts from the sealed prefix (consentoffice.core.history.DIGEST_SIZE).
        if not authentic or not amendment.old_hash.startswith(expected):
            return False
        expected = amendment.new_hash
    return expected == current


def _anchored(result: Verification) -> dict[int, list[str]]:
    anchored: dict[int, list[str]] = {}
    for seq, head, authentic in read_anchors():
        result.anchors += 1
        if not authentic:
            result.problems.append(Problem(ANCHOR_FORGED, ANCHORS, 0, seq))
        else:
            anchored.setdefault(seq, []).append(head)
    return anchored


def _checkpoint() -> AuditVerification | None:
    """The newest clean verification, if its record is authentic."""
    point = AuditVerification.objects.order_by("-seq").first()
    if point is None:
        return None
    if not hmac.compare_digest(point.mac, _checkpoint_mac(point.seq, point.chain_hash, point.verified_at)):
        return None
    return point


def _checkpoint_mac(seq: int, chain: str, at: datetime) -> str:
    return _mac("verified", seq, chain, at.astimezone(UTC).isoformat())


def _verify_blocks(
    result: Verification, chains: dict, anchored: dict, start: AuditVerification | None
) -> None:
    """Walk the blocks in chain order from ``start`` (or the beginning): recompute each link, and
    compare the block's rows with the table's rows between the table's previous block and this one
    (a sealed row missing was deleted, a row not sealed was inserted, another hash was changed)."""
    by_table = {source.table: source for source in sources()}
    blocks = AuditSeal.objects.order_by("seq")
    if start is None:
        chain, expected_seq, marks = GENESIS, 1, {}
    else:
        chain, expected_seq = start.chain_hash, start.seq + 1
        blocks = blocks.filter(seq__gt=start.seq)
        marks = dict(
            AuditSeal.objects.filter(seq__lte=start.seq)
            .order_by()
            .values("table")
            .annotate(m=Max("last_id"))
            .values_list("table", "m")
        )
        # Heads anchored inside the verified part: the blocks must still end the chain there.
        earlier = [seq for seq in anchored if seq <= start.seq]
        stored = dict(AuditSeal.objects.filter(seq__in=earlier).values_list("seq", "chain_hash"))
        for seq in earlier:
            if any(not hmac.compare_digest(head, stored.get(seq, "")) for head in anchored.pop(seq)):
                result.problems.append(Problem(TRUNCATED, ANCHORS, 0, seq))
    rows = blocks.values_list(
        "seq", "table", "first_id", "last_id", "ids", "digests", "backdated", "chain_hash"
    )
    for seq, table, first_id, last_id, ids, digests, backdated, stored in rows.iterator(chunk_size=8):
        result.checked_seals += 1
        sealed_ids = unpack_ids(ids)
        for row_id in unpack_list(backdated):
            result.backdated.append(Problem("backdated", table, row_id, seq))
        if any(not hmac.compare_digest(head, stored) for head in anchored.pop(seq, ())):
            result.problems.append(Problem(TRUNCATED, table, first_id, seq))
        chain = block_link(
            chain,
            seq=seq,
            table=table,
            first_id=first_id,
            last_id=last_id,
            ids=ids,
            digests=digests,
            backdated=backdated,
        )
        if seq != expected_seq or not hmac.compare_digest(chain, stored):
            result.problems.append(Problem(SEAL_BROKEN, table, first_id, seq))
            chain = stored
        expected_seq = seq + 1
        source = by_table.get(table)
        if source is None:
            result.problems.append(Problem(SEAL_BROKEN, table, first_id, seq))
            continue
        current = {
            row_id: digest
            for row_id, _at, digest in row_digests(source, after=marks.get(table, 0), upto=last_id)
        }
        marks[table] = max(last_id, marks.get(table, 0))
        digests = bytes(digests)
        for index, row_id in enumerate(sealed_ids):
            digest = current.pop(row_id, None)
            if digest is None:
                result.problems.append(Problem(DELETED, table, row_id, seq))
                continue
            result.checked_rows += 1
            sealed = digests[index * DIGEST_SIZE : (index + 1) * DIGEST_SIZE]
            if digest[:DIGEST_SIZE] != sealed and not _amended_to(
                chains.get((table, row_id), []), sealed.hex(), digest.hex()
            ):
                result.problems.append(Problem(CHANGED, table, row_id, seq))
        for row_id in sorted(current):
            result.problems.append(Problem(INSERTED, table, row_id, seq))
            result.checked_rows += 1
    # Heads anchored past the end of the chain: its newest blocks (and rows) were deleted.
    for seq in sorted(anchored):
        result.problems.append(Problem(TRUNCATED, ANCHORS, 0, seq))


def _verify_amended_since(result: Verification, chains: dict, start: AuditVerification) -> None:
    """Rows of the verified part amended after the checkpoint (an incremental run reads only these)."""
    amended: dict[str, set[int]] = {}
    for table, row_id in AuditAmendment.objects.filter(at__gt=start.verified_at).values_list(
        "table", "row_id"
    ):
        amended.setdefault(table, set()).add(row_id)
    by_table = {source.table: source for source in sources()}
    for table, ids in amended.items():
        source = by_table.get(table)
        sealed = sealed_hashes(table, ids)
        if source is None or not sealed:
            continue
        # The verified blocks that can hold these rows, by last id: a row's block is the first whose
        # last id reaches it.
        blocks = list(
            AuditSeal.objects.filter(table=table, seq__lte=start.seq, last_id__gte=min(sealed))
            .order_by("last_id")
            .values_list("last_id", "seq")
        )
        lasts = [last for last, _seq in blocks]
        found = {row_id: digest.hex() for row_id, _at, digest in row_digests(source, ids=sealed)}
        for row_id in sorted(sealed):
            at = bisect.bisect_left(lasts, row_id)
            if at == len(blocks):
                continue  # sealed after the checkpoint: the walk over the new blocks has it
            seq = blocks[at][1]
            current = found.get(row_id)
            if current is None:
                result.problems.append(Problem(DELETED, table, row_id, seq))
            elif not current.startswith(sealed[row_id]) and not _amended_to(
                chains.get((table, row_id), []), sealed[row_id], current
            ):
                result.problems.append(Problem(CHANGED, table, row_id, seq))
            result.checked_rows += 1


def verify_audit_trail(*, incremental: bool = False, now: datetime | None = None) -> Verification:
    """Recompute the chain and every sealed row's hash; problems in chain order.

    ``incremental``: start from the last clean verification (``AuditVerification``): the blocks
    sealed since, the rows amended since, and the anchors; without an authentic checkpoint, everything.
    A clean run moves the checkpoint to the chain's head.
    """
    result = Verification()
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            # One snapshot for the whole walk: an erasure amending rows meanwhile is either wholly
            # seen (rows and amendments) or not at all, without holding the seal lock for minutes.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        start = _checkpoint() if incremental else None
        result.incremental = start is not None
        anchored = _anchored(result)
        chains = _amendment_chains(result)
        _verify_blocks(result, chains, anchored, start)
        if start is not None:
            _verify_amended_since(result, chains, start)
        if result.ok:
            head = AuditSeal.objects.order_by("-seq").values_list("seq", "chain_hash").first()
            if head is not None:
                at = now or timezone.now()
                AuditVerification.objects.all().delete()
                AuditVerification.objects.create(
                    seq=head[0], chain_hash=head[1], verified_at=at, mac=_checkpoint_mac(head[0], head[1], at)
                )
    result.problems.sort(key=lambda p: (p.seq, p.table, p.row_id))
    return result
