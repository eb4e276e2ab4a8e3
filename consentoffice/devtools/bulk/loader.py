"""The load: reference rows, pools, chunks of members handed to the COPY writers in turn, then
indexes, sequences and ANALYZE; and finding or emptying an earlier bulk data set."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from consentoffice.core.partitions import roll_forward
from consentoffice.devtools.bulk.history import Chunk, Counters
from consentoffice.devtools.bulk.postgres import (
    Writer,
    _next_ids,
    _reset_sequences,
    _ticket_seq_start,
    build_indexes,
    droppable_indexes,
)
from consentoffice.devtools.bulk.reference import ensure_reference_rows
from consentoffice.devtools.bulk.rows import RowBuilder
from consentoffice.devtools.bulk.tables import (
    BIG_LOAD,
    CHUNK_MEMBERS,
    ENCRYPTED_POOL_SIZE,
    FIRST_BULK_MEMBER_NO,
    LAST_BULK_MEMBER_NO,
    SEED,
    WRITERS,
    all_tables,
    copy_columns,
)
from consentoffice.devtools.bulk.values import build_pools
from members.models import Member


def bulk_present() -> bool:
    return Member.objects.filter(
        member_no__gte=str(FIRST_BULK_MEMBER_NO), member_no__lte=str(LAST_BULK_MEMBER_NO)
    ).exists()


def reset_tables() -> list[str]:
    """Every table of members, requests and bureaus data (and history), but not the reference rows
    the migrations create, affiliates or contractors: emptied with TRUNCATE."""
    keep = {
        "members_purpose",
        "members_historicalpurpose",
        "members_consentversion",
        "members_historicalconsentversion",
        "members_affiliate",
        "members_historicalaffiliate",
        "members_contractor",
        "members_historicalcontractor",
        "bureaus_bureau",
        "bureaus_historicalbureau",
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND "
            "(tablename LIKE 'members\\_%%' OR tablename LIKE 'requests\\_%%' OR tablename LIKE 'bureaus\\_%%')"
        )
        return sorted(t for (t,) in cursor.fetchall() if t not in keep)


def reset() -> None:
    tables = reset_tables()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE " + ", ".join(connection.ops.quote_name(t) for t in tables) + " RESTART IDENTITY"
        )


@dataclass
class LoadResult:
    members: int
    rows: dict[str, int]
    encrypted_pool_size: int
    dropped_indexes: int
    foreign_key_triggers_skipped: bool


def load(
    *,
    members: int,
    progress: Callable[[int], None] | None = None,
    stage: Callable[[str], None] | None = None,
    seed: int = SEED,
    chunk_members: int = CHUNK_MEMBERS,
) -> LoadResult:
    """Write ``members`` bulk members and everything held on them; returns the rows per table."""
    stage = stage or (lambda text: None)
    progress = progress or (lambda n: None)
    ref = ensure_reference_rows()
    first_index = _first_free_index()
    # Seeded per starting member, so a run is repeatable and an --append run differs from the first
    # (event ids are drawn from it).
    rng = random.Random(seed * 1_000_003 + first_index)
    stage("pools")
    pools = build_pools(rng)
    tables = all_tables()
    counters = Counters(next_id=_next_ids(tables), ticket_seq=_ticket_seq_start())
    indexes = droppable_indexes(tables) if members >= BIG_LOAD else []
    with connection.cursor() as cursor:
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(name)}")
    # Two PostgreSQL sessions take turns: parsing COPY input is the slow side on two cores.
    writers = [Writer(copy_columns()) for _ in range(WRITERS)]
    for writer in writers:
        writer.start()
    builder = RowBuilder(ref=ref, pools=pools, rng=rng, counters=counters, today=timezone.localdate())
    try:
        stage("rows")
        done = 0
        while done < members:
            size = min(chunk_members, members - done)
            chunk = Chunk(counters)
            for index in range(first_index + done, first_index + done + size):
                builder.member(chunk, index)
            for table, lines in chunk.lines.items():
                counters.rows[table] += len(lines)
            writers[(done // chunk_members) % len(writers)].put(chunk.lines)
            done += size
            progress(size)
        for writer in writers:
            writer.finish()
    finally:
        for writer in writers:
            if writer.is_alive():
                writer.queue.put(None)
                writer.join()
        # Loaded history is years old: its months get partitions of their own (out of the default).
        stage("partitions")
        roll_forward()
        if indexes:
            stage("indexes")
            build_indexes([definition for _name, definition in indexes])
    stage("sequences")
    _reset_sequences(tables)
    stage("analyze")
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {table}")
    return LoadResult(
        members=members,
        rows=dict(counters.rows),
        encrypted_pool_size=ENCRYPTED_POOL_SIZE,
        dropped_indexes=len(indexes),
        foreign_key_triggers_skipped=writers[0].superuser,
    )


def _first_free_index() -> int:
    last = (
        Member.objects.filter(
            member_no__gte=str(FIRST_BULK_MEMBER_NO), member_no__lte=str(LAST_BULK_MEMBER_NO)
        )
        .order_by("-member_no")
        .values_list("member_no", flat=True)
        .first()
    )
    return int(last) - FIRST_BULK_MEMBER_NO + 2 if last else 1
