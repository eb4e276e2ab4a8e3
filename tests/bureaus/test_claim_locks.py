"""A batch run skips the pending submissions another transaction holds (``FOR UPDATE SKIP
LOCKED``) and sends them with the next run, on the set-based and on the portable path.

The lock is held by a second thread (its own connection) while the run builds the files."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection, transaction

from bureaus import fileformat, services
from bureaus.models import Bureau, Submission, SubmissionStatus
from consentoffice.core.history import system_user
from tests.factories import ContractFactory, MemberFactory


def _hold(pk: int, locked: threading.Event, release: threading.Event) -> None:
    try:
        with transaction.atomic():
            Submission.objects.select_for_update().get(pk=pk)
            locked.set()
            release.wait(timeout=30)
    finally:
        connection.close()


def _sent_ids(private_storage, batch) -> set[int]:
    with open(private_storage / batch.file_name, "rb") as stream:
        return {r["submission_id"] for r in fileformat.read_batch_file(stream) if "submission_id" in r}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("set_based", [True, False])
def test_a_run_skips_a_submission_another_transaction_holds(private_storage, monkeypatch, set_based):
    if not set_based:
        for module in ("batches", "provisions"):  # both read the database path
            monkeypatch.setattr(f"bureaus.services.{module}._set_based", lambda: False)
    monkeypatch.setattr("bureaus.services.batches.CLAIM_CHUNK", 2)
    system = system_user()
    cic = Bureau.objects.get(code="CIC")
    for _n in range(3):
        contract = ContractFactory(member=MemberFactory(), contracted_on=date(2024, 1, 20))
        services.record_contract_event(actor=system, contract=contract, record_type="contract")
    pending = list(Submission.objects.filter(bureau=cic, status=SubmissionStatus.PENDING).order_by("pk"))
    assert len(pending) == 3
    held = pending[1]
    locked, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_hold, args=(held.pk, locked, release))
    holder.start()
    try:
        assert locked.wait(timeout=10)
        batches = {b.bureau_id: b for b in services.build_batches(actor=system)}
    finally:
        release.set()
        holder.join(timeout=30)
    assert not holder.is_alive()

    first = batches[cic.pk]
    assert _sent_ids(private_storage, first) == {pending[0].pk, pending[2].pk}
    assert first.record_count == 2
    held.refresh_from_db()
    assert (held.status, held.batch_id) == (SubmissionStatus.PENDING, None)
    assert not Submission.history.filter(id=held.pk, status=SubmissionStatus.BATCHED).exists()

    (second,) = [b for b in services.build_batches(actor=system) if b.bureau_id == cic.pk]
    assert _sent_ids(private_storage, second) == {held.pk}
    held.refresh_from_db()
    assert (held.status, held.batch_id) == (SubmissionStatus.BATCHED, second.pk)
