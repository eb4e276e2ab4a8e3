"""Migration 0012 turns per-row seals into blocks: only after the old chain and its anchors verify,
and so that the converted chain verifies with the same row hashes (issue 18)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from consentoffice.audit.seal import read_anchors, verify_audit_trail, write_anchor
from consentoffice.core.history import GENESIS, chain_link, row_hash, source_for, unpack_ids
from consentoffice.models import AuditSeal
from members import models as m
from tests.factories import MemberFactory

BEFORE = [("consentoffice", "0011_audit_date_index")]
HISTORICAL_MEMBER = "members_historicalmember"


def migrate(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


def latest():
    executor = MigrationExecutor(connection)
    return [key for key in executor.loader.graph.leaf_nodes() if key[0] == "consentoffice"]


def old_seals(apps, *, tamper: bool = False) -> tuple[int, str]:
    """What the previous release's seal run wrote: one row per history row, chained row by row."""
    Old = apps.get_model("consentoffice", "AuditSeal")
    source = source_for(m.Member.history.model)
    chain, seq = GENESIS, 0
    for values in m.Member.history.order_by("history_id").values(*source.columns):
        seq += 1
        digest = row_hash(HISTORICAL_MEMBER, values)
        chain = chain_link(
            chain, seq=seq, table=HISTORICAL_MEMBER, row_id=values["history_id"], digest=digest
        )
        Old.objects.create(
            seq=seq,
            table=HISTORICAL_MEMBER,
            row_id=values["history_id"],
            row_hash=("0" * 64 if tamper and seq == 2 else digest),
            chain_hash=chain,
        )
    return seq, chain


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_per_row_seals_become_blocks_that_verify(settings):
    try:
        apps = migrate(BEFORE)
        MemberFactory.create_batch(3)
        seq, chain = old_seals(apps)
        write_anchor(seq=seq, chain=chain, at=timezone.now())
        migrate(latest())
    finally:
        migrate(latest())
    blocks = list(AuditSeal.objects.order_by("seq"))
    assert [block.table for block in blocks] == [HISTORICAL_MEMBER]
    assert unpack_ids(blocks[0].ids) == list(
        m.Member.history.order_by("history_id").values_list("history_id", flat=True)
    )
    result = verify_audit_trail()
    assert result.ok, [p.describe() for p in result.problems]
    assert result.checked_rows == 3
    # The old heads are kept beside; the new file anchors the converted head.
    assert settings.AUDIT_ANCHOR_FILE.with_name(settings.AUDIT_ANCHOR_FILE.name + ".rows").exists()
    assert [(s, head) for s, head, _ok in read_anchors()] == [(1, blocks[0].chain_hash)]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_tampered_per_row_chain_stops_the_migration():
    try:
        apps = migrate(BEFORE)
        MemberFactory.create_batch(3)
        old_seals(apps, tamper=True)
        with pytest.raises(RuntimeError, match="seal #2 does not verify"):
            migrate(latest())
        assert apps.get_model("consentoffice", "AuditSeal").objects.count() == 3  # nothing converted
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM consentoffice_auditseal")
        migrate(latest())
    assert not AuditSeal.objects.exists()
