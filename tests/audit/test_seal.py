"""Tamper evidence: a sealed hash chain over history and access-log rows; ``verify_audit`` names
the first row changed, inserted or deleted after sealing, and accepts sanctioned erasures."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from consentoffice import tasks
from consentoffice.audit.seal import (
    CHANGED,
    DELETED,
    INSERTED,
    SEAL_BROKEN,
    seal_audit_trail,
    verify_audit_trail,
)
from consentoffice.core.history import DIGEST_SIZE, pack_ids, sealed_hashes, unpack_ids
from consentoffice.models import AuditAmendment, AuditSeal
from members import models as m
from members import services
from members.models import AccessAction, AccessLog
from tests.audit.conftest import member_with_everything
from tests.factories import ContactRecordFactory, MemberFactory

HISTORICAL_MEMBER = "members_historicalmember"


def seal() -> int:
    return seal_audit_trail(delay_seconds=0)


def raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def sealed_rows() -> int:
    return sum(AuditSeal.objects.values_list("rows", flat=True))


def block_of(table: str, row_id: int) -> AuditSeal:
    return AuditSeal.objects.get(table=table, first_id__lte=row_id, last_id__gte=row_id)


def id_column(table: str) -> str:
    return "id" if table == "members_accesslog" else "history_id"


def first_problem():
    result = verify_audit_trail()
    assert not result.ok
    return result.first


def verify_command_fails_naming(table: str, row_id: int) -> str:
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit")
    assert failure.value.returncode == 1
    message = str(failure.value)
    assert f"{table} id={row_id}" in message
    return message


@pytest.fixture
def sealed(db, system):
    member = member_with_everything(system)
    assert seal() > 0
    return member


def test_a_clean_chain_verifies(sealed, capsys):
    result = verify_audit_trail()
    assert result.ok, [p.describe() for p in result.problems]
    assert result.checked_rows == sealed_rows()
    assert result.checked_seals == AuditSeal.objects.count()
    call_command("verify_audit")
    assert capsys.readouterr().out.startswith("OK ")


def test_every_history_table_and_the_access_log_are_sealed(sealed):
    tables = set(AuditSeal.objects.values_list("table", flat=True))
    assert {
        HISTORICAL_MEMBER,
        "members_historicalpaymentrecord",
        "requests_historicalticket",
        "members_accesslog",
    } <= tables


def test_sealing_is_idempotent_and_later_rows_join_the_chain(sealed, operator):
    assert seal() == 0
    count, rows = AuditSeal.objects.count(), sealed_rows()
    MemberFactory()
    services.record_access(user=operator, action="view")
    assert seal() == 2
    assert sealed_rows() == rows + 2
    assert AuditSeal.objects.count() == count + 2  # one block per table with new rows
    assert list(AuditSeal.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, count + 3))
    assert verify_audit_trail().ok


def test_rows_younger_than_the_delay_wait_for_the_next_run(db):
    MemberFactory()
    assert seal_audit_trail(delay_seconds=3600) == 0
    assert seal_audit_trail(delay_seconds=0) == 1


def test_a_raw_sql_update_of_a_history_row_is_named(sealed):
    row = sealed.history.earliest()
    raw(f"UPDATE {HISTORICAL_MEMBER} SET city = %s WHERE history_id = %s", ["改ざん市", row.history_id])
    problem = first_problem()
    assert (problem.kind, problem.table, problem.row_id) == (CHANGED, HISTORICAL_MEMBER, row.history_id)
    verify_command_fails_naming(HISTORICAL_MEMBER, row.history_id)


def test_a_raw_sql_delete_of_a_history_row_is_named(sealed):
    row = m.Contract.history.filter(member_id=sealed.pk).earliest()
    raw("DELETE FROM members_historicalcontract WHERE history_id = %s", [row.history_id])
    problem = first_problem()
    assert (problem.kind, problem.table, problem.row_id) == (
        DELETED,
        "members_historicalcontract",
        row.history_id,
    )
    verify_command_fails_naming("members_historicalcontract", row.history_id)


def test_a_raw_sql_insert_into_the_sealed_range_is_named(db):
    first, second = MemberFactory(), MemberFactory()
    source, gap = first.history.get().history_id, second.history.get().history_id
    # Leave a hole below the last sealed id (as a rolled-back transaction does on PostgreSQL).
    raw(f"UPDATE {HISTORICAL_MEMBER} SET history_id = %s WHERE history_id = %s", [gap + 10, gap])
    seal()
    columns = [f.column for f in m.Member.history.model._meta.concrete_fields if f.column != "history_id"]
    names = ", ".join(f'"{c}"' for c in columns)
    raw(
        f"INSERT INTO {HISTORICAL_MEMBER} (history_id, {names}) SELECT %s, {names} FROM {HISTORICAL_MEMBER} WHERE history_id = %s",
        [gap, source],
    )
    problem = first_problem()
    assert (problem.kind, problem.table, problem.row_id) == (INSERTED, HISTORICAL_MEMBER, gap)
    verify_command_fails_naming(HISTORICAL_MEMBER, gap)


def test_a_changed_access_log_row_is_named(sealed):
    log = AccessLog.objects.get(member=sealed)
    raw("UPDATE members_accesslog SET action = %s WHERE id = %s", [AccessAction.SEARCH, log.pk])
    problem = first_problem()
    assert (problem.kind, problem.table, problem.row_id) == (CHANGED, "members_accesslog", log.pk)


def test_the_first_problem_in_chain_order_is_named(sealed):
    early, late = sealed.history.earliest(), m.Contract.history.filter(member_id=sealed.pk).earliest()
    raw("UPDATE members_historicalcontract SET product_name = 'x' WHERE history_id = %s", [late.history_id])
    raw(f"UPDATE {HISTORICAL_MEMBER} SET city = 'x' WHERE history_id = %s", [early.history_id])
    result = verify_audit_trail()
    assert len(result.problems) == 2
    first = min(
        [(HISTORICAL_MEMBER, early.history_id), ("members_historicalcontract", late.history_id)],
        key=lambda row: block_of(*row).seq,
    )
    assert (result.first.table, result.first.row_id) == first


def test_rehashing_a_tampered_row_in_the_seal_table_breaks_the_chain(sealed):
    """Without the HMAC key a forger cannot rebuild the links after a changed row."""
    from consentoffice.core.history import row_hash, source_for

    row = sealed.history.earliest()
    raw(f"UPDATE {HISTORICAL_MEMBER} SET city = 'x' WHERE history_id = %s", [row.history_id])
    source = source_for(m.Member.history.model)
    values = m.Member.history.filter(history_id=row.history_id).values(*source.columns).get()
    block = block_of(HISTORICAL_MEMBER, row.history_id)
    index = unpack_ids(block.ids).index(row.history_id)
    digests = bytearray(block.digests)
    digests[index * DIGEST_SIZE : (index + 1) * DIGEST_SIZE] = bytes.fromhex(
        row_hash(HISTORICAL_MEMBER, values)
    )[:DIGEST_SIZE]
    AuditSeal.objects.filter(pk=block.pk).update(digests=bytes(digests))
    problem = first_problem()
    assert (problem.kind, problem.seq) == (SEAL_BROKEN, block.seq)
    assert verify_audit_trail().problems == [problem]  # the row itself now matches its forged hash


def test_an_erasure_after_sealing_is_accepted_as_an_amendment(db, operator):
    record = ContactRecordFactory(summary="病気の話")
    member = record.member
    seal()
    erased = services.erase_member_data(
        member, actor=operator, target="contact_records", reason="削除請求 T-9 に基づく削除"
    )
    assert erased == 1
    amendments = AuditAmendment.objects.filter(table="members_historicalcontactrecord")
    assert amendments.count() == 1  # the sealed creation row; the erasure's own row is new
    assert {(a.actor, a.reason) for a in amendments} == {(operator, "削除請求 T-9 に基づく削除")}
    assert not m.ContactRecord.history.filter(summary="病気の話").exists()
    seal()
    result = verify_audit_trail()
    assert result.ok, [p.describe() for p in result.problems]
    assert result.amendments == 1
    call_command("verify_audit")


def test_an_anonymization_after_sealing_is_accepted_and_a_later_tampering_still_named(db, operator):
    member = MemberFactory()
    seal()
    services.anonymize_member(member, actor=operator, reason="保存期間経過（第7条）")
    seal()
    assert verify_audit_trail().ok
    row = member.history.earliest()
    raw(f"UPDATE {HISTORICAL_MEMBER} SET city = 'x' WHERE history_id = %s", [row.history_id])
    problem = first_problem()
    assert (problem.kind, problem.row_id) == (CHANGED, row.history_id)


def test_an_amendment_written_by_hand_is_not_accepted(sealed, operator):
    from consentoffice.core.history import row_hash, source_for

    row = sealed.history.earliest()
    sealed_hash = sealed_hashes(HISTORICAL_MEMBER, [row.history_id])[row.history_id]
    raw(f"UPDATE {HISTORICAL_MEMBER} SET city = 'x' WHERE history_id = %s", [row.history_id])
    source = source_for(m.Member.history.model)
    values = m.Member.history.filter(history_id=row.history_id).values(*source.columns).get()
    AuditAmendment.objects.create(
        table=HISTORICAL_MEMBER,
        row_id=row.history_id,
        old_hash=sealed_hash,
        new_hash=row_hash(HISTORICAL_MEMBER, values),
        reason="偽装",
        actor=operator,
        mac="0" * 64,
    )
    assert (first_problem().kind, first_problem().row_id) == (CHANGED, row.history_id)


def test_the_seal_is_scheduled_by_beat_and_the_task_seals(db, settings):
    entry = settings.CELERY_BEAT_SCHEDULE["seal-audit-trail"]
    assert entry["task"] == "consentoffice.tasks.seal_audit_trail"
    assert tasks.seal_audit_trail.name == entry["task"]
    MemberFactory()
    settings.AUDIT_SEAL_DELAY_SECONDS = 0
    assert tasks.seal_audit_trail() == 1
    assert tasks.seal_audit_trail() == 0


# --- issue 14: the chain's head is anchored outside the database; back-dated rows are flagged ---


def seal_and_anchor(capture) -> int:
    with capture(execute=True):
        return seal()


def test_deleting_the_newest_rows_with_their_seals_is_named(db, system, django_capture_on_commit_callbacks):
    member_with_everything(system)
    seal_and_anchor(django_capture_on_commit_callbacks)
    newest = AuditSeal.objects.order_by("-seq").first()
    assert verify_audit_trail().ok

    # What a database owner could do: remove the newest rows and their seals together.
    raw(
        f"DELETE FROM {newest.table} WHERE {id_column(newest.table)} BETWEEN %s AND %s",
        [newest.first_id, newest.last_id],
    )
    raw("DELETE FROM consentoffice_auditseal WHERE seq = %s", [newest.seq])

    result = verify_audit_trail()
    assert [p.kind for p in result.problems] == ["truncated"]
    assert result.first.seq == newest.seq
    verify_command_fails_naming("anchors", 0)


def test_a_chain_rebuilt_after_truncation_does_not_match_its_anchor(
    db, system, operator, django_capture_on_commit_callbacks
):
    member = member_with_everything(system)
    seal_and_anchor(django_capture_on_commit_callbacks)
    head = AuditSeal.objects.order_by("-seq").first()
    raw("DELETE FROM consentoffice_auditseal WHERE seq = %s", [head.seq])
    raw(
        f"DELETE FROM {head.table} WHERE {id_column(head.table)} BETWEEN %s AND %s",
        [head.first_id, head.last_id],
    )
    services.update_member(member, actor=operator, reason="住所変更", city="港区")
    seal_and_anchor(django_capture_on_commit_callbacks)  # the same seq again, another row
    problems = verify_audit_trail().problems
    assert any(p.kind == "truncated" and p.seq == head.seq for p in problems)


def test_a_forged_anchor_line_is_named(db, system, settings, django_capture_on_commit_callbacks):
    member_with_everything(system)
    seal_and_anchor(django_capture_on_commit_callbacks)
    with open(settings.AUDIT_ANCHOR_FILE, "a", encoding="utf-8") as anchors:
        anchors.write("2026-01-01T00:00:00+00:00 seq=1 chain=" + "0" * 64 + " mac=" + "0" * 64 + "\n")
    assert [p.kind for p in verify_audit_trail().problems] == ["anchor_forged"]


def test_each_run_appends_the_head_and_logs_it(
    db, system, settings, django_capture_on_commit_callbacks, caplog
):
    member_with_everything(system)
    with caplog.at_level("INFO", logger="consentoffice.audit.seal"):
        seal_and_anchor(django_capture_on_commit_callbacks)
    head = AuditSeal.objects.order_by("-seq").first()
    lines = settings.AUDIT_ANCHOR_FILE.read_text().splitlines()
    assert len(lines) == 1 and f"seq={head.seq} chain={head.chain_hash}" in lines[0]
    assert f"seq={head.seq}" in caplog.text
    assert seal_and_anchor(django_capture_on_commit_callbacks) == 0
    assert len(settings.AUDIT_ANCHOR_FILE.read_text().splitlines()) == 1  # nothing new, no line


def test_a_back_dated_row_written_after_a_seal_run_is_flagged(db, system, operator, capsys):
    from datetime import timedelta

    from django.utils import timezone

    member = member_with_everything(system)
    seal()
    # A history row dated an hour ago, inserted after the run that sealed that hour.
    from consentoffice.core.history import save_tracked

    member.city = "遡及区"
    member._history_date = timezone.now() - timedelta(hours=1)

    save_tracked(member, actor=operator, reason="遡った日付の変更", clean=False)
    seal()
    flagged = verify_audit_trail().backdated
    row = m.Member.history.filter(id=member.pk).order_by("-history_id").first()
    assert [(p.table, p.row_id) for p in flagged][-1] == (HISTORICAL_MEMBER, row.history_id)
    call_command("verify_audit")
    assert f"backdated: {HISTORICAL_MEMBER} id={row.history_id}" in capsys.readouterr().out


def test_rows_are_chained_in_insertion_order_not_by_their_dates(db, operator):
    from datetime import timedelta

    from django.utils import timezone

    from consentoffice.core.history import save_tracked

    first = MemberFactory()
    older = MemberFactory()
    older._history_date = timezone.now() - timedelta(days=1)
    older.city = "前日区"
    save_tracked(older, actor=operator, reason="前日の日付", clean=False)
    seal()
    rows = [
        row_id
        for packed in AuditSeal.objects.filter(table=HISTORICAL_MEMBER)
        .order_by("seq")
        .values_list("ids", flat=True)
        for row_id in unpack_ids(packed)
    ]
    assert rows == sorted(rows)
    assert first.history.first().history_id in rows


# --- issue 18: blocks of up to BLOCK_ROWS rows, incremental verification -------------------------


@pytest.mark.parametrize(
    "ids",
    [[1], [1, 2, 3], [5, 7, 8, 9, 20], list(range(100, 10_100)), [2**40, 2**40 + 1, 2**41]],
)
def test_ids_are_packed_as_runs_and_unpacked_unchanged(ids):
    packed = pack_ids(ids)
    assert unpack_ids(packed) == ids
    runs = 1 + sum(1 for a, b in zip(ids, ids[1:], strict=False) if b != a + 1)
    assert len(packed) == 16 * runs


def test_a_table_with_more_rows_than_a_block_is_sealed_in_several(db, monkeypatch):
    from consentoffice.audit import seal as seal_module

    monkeypatch.setattr(seal_module, "BLOCK_ROWS", 3)
    members = MemberFactory.create_batch(7)
    assert seal() == 7
    blocks = list(AuditSeal.objects.filter(table=HISTORICAL_MEMBER).order_by("seq"))
    assert [block.rows for block in blocks] == [3, 3, 1]
    sealed = [row_id for block in blocks for row_id in unpack_ids(block.ids)]
    assert sealed == sorted(m.Member.history.values_list("history_id", flat=True))
    assert all(len(block.digests) == DIGEST_SIZE * block.rows for block in blocks)
    assert verify_audit_trail().ok
    row = members[4].history.get()
    raw(f"UPDATE {HISTORICAL_MEMBER} SET city = 'x' WHERE history_id = %s", [row.history_id])
    problem = first_problem()
    assert (problem.kind, problem.row_id, problem.seq) == (CHANGED, row.history_id, blocks[1].seq)


def test_an_incremental_run_reads_only_what_was_sealed_since_the_last_clean_run(sealed, operator):
    full = verify_audit_trail(incremental=True)  # no checkpoint yet: everything
    assert full.ok and not full.incremental and full.checked_rows == sealed_rows()

    MemberFactory()
    services.record_access(user=operator, action="view")
    seal()
    later = verify_audit_trail(incremental=True)
    assert later.ok and later.incremental
    assert (later.checked_seals, later.checked_rows) == (2, 2)

    # A row of the part verified before is read again only by a full run (the nightly run is
    # incremental; the full one is for the weekly check and after a restore).
    row = sealed.history.earliest()
    raw(f"UPDATE {HISTORICAL_MEMBER} SET city = 'x' WHERE history_id = %s", [row.history_id])
    assert verify_audit_trail(incremental=True).ok
    problem = first_problem()
    assert (problem.kind, problem.row_id) == (CHANGED, row.history_id)


def test_an_incremental_run_names_a_tampered_row_sealed_since_and_keeps_the_checkpoint(sealed):
    assert verify_audit_trail().ok
    member = MemberFactory()
    seal()
    row = member.history.get()
    raw(f"UPDATE {HISTORICAL_MEMBER} SET city = 'x' WHERE history_id = %s", [row.history_id])
    result = verify_audit_trail(incremental=True)
    assert result.incremental
    assert [(p.kind, p.row_id) for p in result.problems] == [(CHANGED, row.history_id)]
    # Not moved past the problem: the next incremental run still names it.
    assert [(p.kind, p.row_id) for p in verify_audit_trail(incremental=True).problems] == [
        (CHANGED, row.history_id)
    ]


def test_an_incremental_run_checks_rows_amended_since_and_anchors_before(db, operator, system):
    record = ContactRecordFactory(summary="病気の話")
    seal()
    assert verify_audit_trail().ok
    services.erase_member_data(record.member, actor=operator, target="contact_records", reason="削除請求 T-9")
    seal()
    result = verify_audit_trail(incremental=True)
    assert result.ok, [p.describe() for p in result.problems]
    # A later hand-made change of that old, amended row is named by the incremental run.
    AuditAmendment.objects.update(at=timezone_now())
    row = m.ContactRecord.history.filter(id=record.pk).earliest()
    raw("UPDATE members_historicalcontactrecord SET summary = 'x' WHERE history_id = %s", [row.history_id])
    problems = verify_audit_trail(incremental=True).problems
    assert [(p.kind, p.row_id) for p in problems] == [(CHANGED, row.history_id)]


def test_a_forged_checkpoint_is_ignored_and_everything_verified(sealed):
    from consentoffice.models import AuditVerification

    assert verify_audit_trail().ok
    row = sealed.history.earliest()
    raw(f"UPDATE {HISTORICAL_MEMBER} SET city = 'x' WHERE history_id = %s", [row.history_id])
    # Moving the checkpoint's seq by hand does not make the run skip anything.
    AuditVerification.objects.update(seq=AuditSeal.objects.count() + 5)
    result = verify_audit_trail(incremental=True)
    assert not result.incremental
    assert (result.first.kind, result.first.row_id) == (CHANGED, row.history_id)


def test_the_command_verifies_incrementally_on_request(sealed, capsys):
    call_command("verify_audit")
    assert "mode=full" in capsys.readouterr().out
    call_command("verify_audit", "--incremental")
    assert "mode=incremental" in capsys.readouterr().out


def timezone_now():
    from django.utils import timezone

    return timezone.now()


def test_the_seal_command_reports_its_rate_and_a_dry_run_leaves_nothing(db, capsys):
    MemberFactory.create_batch(2)
    call_command("seal_audit", "--delay", "0", "--dry-run")
    out = capsys.readouterr().out
    assert out.startswith("sealed 2 rows in ") and "rows/s (rolled back)" in out
    assert not AuditSeal.objects.exists()
    call_command("seal_audit", "--delay", "0")
    assert capsys.readouterr().out.startswith("sealed 2 rows in ")
    assert sealed_rows() == 2


def test_a_backlog_sealed_over_several_runs_is_not_flagged_as_back_dated(db, operator):
    """A first seal of an existing history runs batch after batch; the older rows each later batch
    finds were waiting for room, not written back-dated."""
    from datetime import timedelta

    from django.utils import timezone

    from consentoffice.core.history import save_tracked

    MemberFactory.create_batch(5)
    assert seal_audit_trail(delay_seconds=0, batch_size=2) == 2
    assert seal_audit_trail(delay_seconds=0, batch_size=2) == 2
    assert seal_audit_trail(delay_seconds=0, batch_size=2) == 1
    assert verify_audit_trail().backdated == []

    # Caught up now: a row written back-dated after this run is flagged by the next.
    member = m.Member.objects.first()
    member.city = "遡及区"
    member._history_date = timezone.now() - timedelta(hours=1)
    save_tracked(member, actor=operator, reason="遡った日付の変更", clean=False)
    seal()
    row = m.Member.history.filter(id=member.pk).order_by("-history_id").first()
    assert [(p.table, p.row_id) for p in verify_audit_trail().backdated] == [
        (HISTORICAL_MEMBER, row.history_id)
    ]
