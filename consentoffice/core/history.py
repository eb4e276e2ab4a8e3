"""History writing shared by every app's services: who acted and why on every history row, set-based
history rows for bulk writes, and sanctioned changes of sealed rows (``amend_history``)."""

from __future__ import annotations

import bisect
import hashlib
import hmac
import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from consentoffice.core.people import SYSTEM_USERNAME
from consentoffice.models import AuditAmendment, AuditSeal, Heartbeat


def _principal(username: str, group_name: str, first_name: str):
    """A user that is not a person: it cannot log in (unusable password) and holds only its
    group's permissions (``consentoffice.core.roles.PRINCIPAL_PERMISSIONS``), never ``is_superuser``."""
    from consentoffice.core.roles import principal_group

    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"is_active": True, "is_staff": False, "is_superuser": False, "first_name": first_name},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        user.groups.add(principal_group(group_name))
    return user


def system_user():
    """The user that scheduled tasks act as, so every history row names an actor (group ``system``)."""
    from consentoffice.core.roles import SYSTEM

    return _principal(SYSTEM_USERNAME, SYSTEM, "システム")


def save_tracked(
    obj: models.Model, *, actor, reason: str, update_fields: list[str] | None = None, clean: bool = True
) -> models.Model:
    """Validate and save a tracked model so its history row carries the actor and the reason."""
    if clean:
        obj.full_clean()
    obj._history_user = actor
    obj._change_reason = reason
    obj.save(update_fields=update_fields)
    return obj


def affiliate_user(code: str):
    """The actor for changes an affiliate sends in (Art. 10), so history names the affiliate
    (group ``affiliate``: it may change members, nothing else)."""
    from consentoffice.core.roles import AFFILIATE

    return _principal(f"affiliate-{code}"[:150], AFFILIATE, f"提携先 {code}")


# --- Set-based history rows (bulk writes keep their audit trail) ---------------------------


def history_select(
    model: type[models.Model],
    db,
    *,
    actor,
    reason: str,
    history_type: str,
    at: datetime,
    named: bool = False,
    history_model: type[models.Model] | None = None,
):
    """Column list, SELECT list (over an alias ``source`` of ``model``'s columns) and parameters
    that make one simple-history row of ``model`` per source row. With ``named`` the parameters are
    a dict (``%(history_…)s`` placeholders) for statements that name their other parameters.
    ``history_model`` is for a data migration, whose models have no ``history`` manager."""
    history = history_model or model.history.model
    own = {field.column for field in model._meta.concrete_fields}
    extra = {
        "history_date": at,
        "history_change_reason": reason,
        "history_type": history_type,
        "history_user_id": actor.pk if actor is not None else None,
    }
    quote = db.ops.quote_name
    columns, values, params, named_params = [], [], [], {}
    for field in history._meta.concrete_fields:
        if field is history._meta.pk:
            if not isinstance(field, models.AutoField):
                raise ImproperlyConfigured(f"{history._meta.label}: history ids must come from the database")
            continue
        if field.column in extra:
            values.append(f"%({field.column})s" if named else "%s")
            params.append(extra[field.column])
            named_params[field.column] = extra[field.column]
        elif field.column in own:
            values.append(f"source.{quote(field.column)}")
        else:
            raise ImproperlyConfigured(f"{history._meta.label}.{field.name} has no source column")
        columns.append(quote(field.column))
    return ", ".join(columns), ", ".join(values), named_params if named else params


def copy_to_history(
    rows: models.QuerySet,
    *,
    actor,
    reason: str,
    history_type: str = "~",
    at: datetime | None = None,
    history_model: type[models.Model] | None = None,
) -> int:
    """One simple-history row per row of ``rows`` (a queryset of a tracked model), copied by the
    database in one INSERT … SELECT: what ``bulk_update_with_history`` writes, without loading a
    single object. Returns the number of history rows."""
    model, db = rows.model, connections[rows.db]
    history_model = history_model or model.history.model
    columns, values, params = history_select(
        model,
        db,
        actor=actor,
        reason=reason,
        history_type=history_type,
        at=at or timezone.now(),
        history_model=history_model,
    )
    attnames = [field.attname for field in model._meta.concrete_fields]
    source, source_params = rows.order_by("pk").values(*attnames).query.sql_with_params()
    with db.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {db.ops.quote_name(history_model._meta.db_table)} ({columns}) "
            f"SELECT {values} FROM ({source}) AS source",
            [*params, *source_params],
        )
        return cursor.rowcount


# --- Sanctioned changes of sealed rows (erasure, anonymization) ---------------------------
#
# The row hashing is the seal's (consentoffice.audit.seal chains these hashes); it lives here so
# the apps that scrub history rows write through the core, not through the audit pages' package.

LOCK_NAME = "audit_seal"
CHUNK = 2000


@dataclass(frozen=True)
class Source:
    """A table whose rows are sealed: a history table or the access log."""

    table: str
    model: type[models.Model]
    date_field: str = "history_date"

    @property
    def columns(self) -> list[str]:
        return [f.attname for f in self.model._meta.concrete_fields]

    @property
    def pk(self) -> str:
        return self.model._meta.pk.attname


def source_for(model: type[models.Model]) -> Source:
    """A history table (or the access log, whose date is ``at``) as the seal sees it."""
    date_field = (
        "history_date" if any(f.name == "history_date" for f in model._meta.concrete_fields) else "at"
    )
    return Source(model._meta.db_table, model, date_field)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    return value


def canonical_json(value: Any) -> str:
    """The JSON text the seal hashes: sorted keys, no spaces, non-ASCII as is."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def row_hash(table: str, values: dict[str, Any]) -> str:
    """SHA-256 of a row's canonical JSON (table name and every column, decrypted values)."""
    payload = canonical_json([table, {k: _plain(v) for k, v in values.items()}])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _mac(*parts: Any) -> str:
    message = "|".join(str(p) for p in parts).encode("utf-8")
    return hmac.new(settings.AUDIT_SEAL_KEY.encode("utf-8"), message, hashlib.sha256).hexdigest()


def chain_link(previous: str, *, seq: int, table: str, row_id: int, digest: str) -> str:
    """The link of a per-row seal (the format before seal blocks; consentoffice migration 0012)."""
    return _mac(previous, seq, table, row_id, digest)


# --- Seal blocks: one AuditSeal row per up to BLOCK_ROWS consecutive rows of a table -----------

BLOCK_ROWS = 10_000
GENESIS = "0" * 64  # the link before the first block
# A block keeps the first 16 bytes (128 bits) of each row's SHA-256: changing a row unnoticed takes
# content whose SHA-256 starts with those 128 bits (a second preimage, about 2**128 tries), and the
# stored prefixes themselves are under the block's HMAC link. Half the size of whole digests: 0.5 KB
# per member at a million members (BENCHMARKS.md). Amendments keep whole hashes (hex); the first of a
# row's chain starts from the sealed prefix.
DIGEST_SIZE = 16
_RUN = struct.Struct("<qq")


def pack_ids(ids: list[int]) -> bytes:
    """Ascending ids as runs of consecutive ids, (first, last) pairs of little-endian int64: a
    block of ids without gaps takes 16 bytes."""
    runs: list[int] = []
    for row_id in ids:
        if runs and row_id == runs[-1] + 1:
            runs[-1] = row_id
        else:
            runs += (row_id, row_id)
    return struct.pack(f"<{len(runs)}q", *runs)


def unpack_ids(data: bytes) -> list[int]:
    ids: list[int] = []
    for first, last in _RUN.iter_unpack(bytes(data)):
        ids.extend(range(first, last + 1))
    return ids


def pack_list(ids: list[int]) -> bytes:
    return struct.pack(f"<{len(ids)}q", *ids)


def unpack_list(data: bytes) -> list[int]:
    data = bytes(data)
    return list(struct.unpack(f"<{len(data) // 8}q", data))


def new_block(
    model: type[models.Model],
    *,
    seq: int,
    previous: str,
    table: str,
    ids: list[int],
    digests: list[bytes],
    backdated: list[int],
    **extra: Any,
) -> models.Model:
    """An unsaved seal block of ``model`` (AuditSeal, or its historical model in a migration) for
    ``ids`` (ascending) and their digests, linked to the ``previous`` link."""
    block = model(
        seq=seq,
        table=table,
        first_id=ids[0],
        last_id=ids[-1],
        rows=len(ids),
        ids=pack_ids(ids),
        digests=b"".join(digest[:DIGEST_SIZE] for digest in digests),
        backdated=pack_list(backdated),
        **extra,
    )
    block.chain_hash = block_link(
        previous,
        seq=seq,
        table=table,
        first_id=block.first_id,
        last_id=block.last_id,
        ids=block.ids,
        digests=block.digests,
        backdated=block.backdated,
    )
    return block


def block_link(
    previous: str,
    *,
    seq: int,
    table: str,
    first_id: int,
    last_id: int,
    ids: bytes,
    digests: bytes,
    backdated: bytes,
) -> str:
    """The chain's link for a block: an HMAC over the previous link and everything the block holds."""
    ids, digests, backdated = bytes(ids), bytes(digests), bytes(backdated)
    content = hashlib.sha256(ids + digests + backdated).hexdigest()
    return _mac(
        previous, "block", seq, table, first_id, last_id, len(ids), len(digests), len(backdated), content
    )


def amendment_mac(
    *, table: str, row_id: int, old_hash: str, new_hash: str, actor_id: int, reason: str
) -> str:
    return _mac("amend", table, row_id, old_hash, new_hash, actor_id, reason)


def _lock() -> Heartbeat:
    """Sealing and sanctioned amendments take turns (one row lock), so neither misses the other."""
    Heartbeat.objects.get_or_create(name=LOCK_NAME, defaults={"last_seen": timezone.now()})
    return Heartbeat.objects.select_for_update().get(name=LOCK_NAME)


def sealed_hashes(table: str, ids) -> dict[int, str]:
    """The sealed hash prefix (hex, ``DIGEST_SIZE`` bytes) of each of ``ids`` that is sealed: the
    blocks' small columns first, then the digests of only the blocks that hold one of the rows."""
    wanted = set(ids)
    if not wanted:
        return {}
    ordered = sorted(wanted)
    spans = AuditSeal.objects.filter(table=table, first_id__lte=ordered[-1], last_id__gte=ordered[0])
    needed = []
    for pk, first, last in spans.values_list("pk", "first_id", "last_id"):
        at = bisect.bisect_left(ordered, first)
        if at < len(ordered) and ordered[at] <= last:
            needed.append(pk)
    found = {}
    for packed, digests in AuditSeal.objects.filter(pk__in=needed).values_list("ids", "digests"):
        digests = bytes(digests)
        for index, row_id in enumerate(unpack_ids(packed)):
            if row_id in wanted:
                found[row_id] = digests[index * DIGEST_SIZE : (index + 1) * DIGEST_SIZE].hex()
    return found


def _hashed(source: Source, qs: QuerySet) -> Iterator[tuple[dict[str, Any], str]]:
    for values in qs.values(*source.columns).iterator(chunk_size=CHUNK):
        yield values, row_hash(source.table, values)


def amend_history(queryset: QuerySet, *, actor, reason: str, **values: Any) -> int:
    """Update history or access-log rows on purpose and record it, so verification accepts it.

    Used by ``members.services.erase_member_data`` and ``anonymize_member`` (APPI Art. 35): the
    scrubbed rows keep their place in the chain; each amendment names the actor and the reason
    (which carries the ticket number). Returns how many rows were updated.
    """
    source = source_for(queryset.model)
    with transaction.atomic():
        _lock()
        ids = list(queryset.values_list("pk", flat=True))
        if not ids:
            return 0
        count = source.model.objects.filter(pk__in=ids).update(**values)
        record_amendments(source, ids, actor=actor, reason=reason)
    return count


def record_amendments(source: Source, ids: list[int], *, actor, reason: str) -> int:
    """An amendment for each sealed row of ``ids`` whose content no longer has the hash it was
    sealed (or last amended) with: after ``amend_history``'s update, or a migration that changed
    what a history table keeps. The caller holds the seal lock. Returns how many were recorded."""
    sealed = sealed_hashes(source.table, ids)
    if not sealed:
        return 0
    current = dict(sealed)
    for row_id, new_hash in (
        AuditAmendment.objects.filter(table=source.table, row_id__in=sealed)
        .order_by("id")
        .values_list("row_id", "new_hash")
    ):
        current[row_id] = new_hash
    amendments = []
    for row, digest in _hashed(source, source.model.objects.filter(pk__in=sealed).order_by(source.pk)):
        row_id = row[source.pk]
        if digest.startswith(current[row_id]):  # the sealed prefix, or the last amendment's hash
            continue
        amendments.append(
            AuditAmendment(
                table=source.table,
                row_id=row_id,
                old_hash=current[row_id],
                new_hash=digest,
                reason=reason,
                actor=actor,
                mac=amendment_mac(
                    table=source.table,
                    row_id=row_id,
                    old_hash=current[row_id],
                    new_hash=digest,
                    actor_id=actor.pk,
                    reason=reason,
                ),
            )
        )
    AuditAmendment.objects.bulk_create(amendments, batch_size=CHUNK)
    return len(amendments)
