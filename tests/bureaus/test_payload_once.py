"""A submission's payload is written once and changed only by erasure; its history does not copy it
(issue 18: the copies were 3.5 KB per member), and bureaus 0007 amends the rows sealed before."""

from __future__ import annotations

from datetime import date
from importlib import import_module
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from bureaus.models import Submission
from consentoffice.audit.seal import CHANGED, verify_audit_trail
from consentoffice.core.history import GENESIS, new_block, row_hash, source_for
from consentoffice.models import AuditAmendment, AuditSeal
from members.services import ERASED_PAYLOAD
from tests.factories import MemberFactory

migration = import_module("bureaus.migrations.0007_submission_history_without_payload")


@pytest.fixture
def submission(cic):
    return Submission.objects.create(
        bureau=cic,
        member=MemberFactory(),
        record_type="application",
        event_date=date(2026, 11, 2),
        payload={"member_no": "1234", "identity": {"name": "テスト"}},
    )


def test_the_history_keeps_every_change_but_not_the_payload(submission):
    submission.status = "accepted"
    submission.save()
    assert submission.history.count() == 2
    assert "payload" not in {f.name for f in Submission.history.model._meta.concrete_fields}
    with connection.cursor() as cursor:
        columns = {
            c.name
            for c in connection.introspection.get_table_description(cursor, "bureaus_historicalsubmission")
        }
    assert "payload" not in columns


def test_a_payload_cannot_be_rewritten_but_can_be_erased(submission):
    submission.payload = {"member_no": "9999"}
    with pytest.raises(ValueError, match="changed only by erasure"):
        submission.save()
    with pytest.raises(ValueError, match="changed only by erasure"):
        Submission.objects.filter(pk=submission.pk).update(payload={"member_no": "9999"})
    fresh = Submission.objects.get(pk=submission.pk)
    assert fresh.payload["member_no"] == "1234"
    fresh.payload = ERASED_PAYLOAD
    fresh.save()
    assert Submission.objects.filter(pk=submission.pk).update(payload=ERASED_PAYLOAD) == 1
    assert Submission.objects.get(pk=submission.pk).payload == ERASED_PAYLOAD


def test_rows_sealed_with_the_payload_are_amended_by_the_migration(submission, system):
    # What the previous release sealed: the history row's hash with the payload in it.
    source = source_for(Submission.history.model)
    row = Submission.history.model.objects.values(*source.columns).get()
    old = row_hash(source.table, {**row, "payload": submission.payload})
    new_block(
        AuditSeal,
        seq=1,
        previous=GENESIS,
        table=source.table,
        ids=[row["history_id"]],
        digests=[bytes.fromhex(old)],
        backdated=[],
    ).save()
    assert [(p.kind, p.row_id) for p in verify_audit_trail().problems] == [(CHANGED, row["history_id"])]

    migration.amend_sealed_rows(apps, SimpleNamespace(connection=connection))
    result = verify_audit_trail()
    assert result.ok, [p.describe() for p in result.problems]
    amendment = AuditAmendment.objects.get()
    assert (amendment.row_id, amendment.reason, amendment.actor.username) == (
        row["history_id"],
        migration.REASON,
        "system",
    )
    migration.amend_sealed_rows(apps, SimpleNamespace(connection=connection))
    assert AuditAmendment.objects.count() == 1  # a second run finds nothing to amend
