"""Large batch files: built in bounded memory, and alike on the set-based (PostgreSQL) and the
portable path. Speed is measured by ``bureaus.benchmarks.measure_batch``, not asserted here."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from bureaus import benchmarks, fileformat, services
from bureaus.models import Submission, SubmissionStatus
from members.models import Contract, Member, ProvisionRecord
from tests.bureaus.conftest import make_payment
from tests.factories import ContractFactory, MemberFactory, current_version

RECORDS = int(os.environ.get("BUREAU_BULK_RECORDS", "100000"))
MEMBERS = 1000
# The file of 100,000 records is 70 MB: a writer that kept it, or the ids, in memory would pass this.
PEAK_LIMIT = 40 * 1024 * 1024
NOW = datetime(2024, 2, 1, 22, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


def _members_with_contracts(count: int) -> None:
    version = current_version()
    Member.objects.bulk_create(
        Member(
            member_no=f"{3000000000 + n:010d}",
            family_name="髙橋",
            given_name="一郎",
            family_name_kana="タカハシ",
            given_name_kana="イチロウ",
            birth_date=date(1980, 1, 1),
            postal_code="1658555",
            prefecture="東京都",
            city="中野区江原町",
            address_line=f"1-13-{n}",
            phone=f"090{n:08d}",
        )
        for n in range(count)
    )
    Contract.objects.bulk_create(
        Contract(
            member_id=pk,
            contract_no=f"B{no}",
            kind="shopping",
            product_name="カード",
            consent_version=version,
            applied_on=date(2023, 1, 1),
            contracted_on=date(2023, 1, 10),
            status="formed",
        )
        for pk, no in Member.objects.filter(member_no__startswith="3").values_list("pk", "member_no")
    )


@pytest.mark.postgres  # the records are inserted by PostgreSQL itself (bureaus.benchmarks)
def test_a_batch_of_100000_records_is_built_with_bounded_memory(system, cic, private_storage):
    _members_with_contracts(MEMBERS)
    assert benchmarks.create_pending_submissions(RECORDS, bureau=cic) == RECORDS

    tracemalloc.start()
    try:
        (batch,) = services.build_batches(actor=system)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < PEAK_LIMIT, f"peak {peak / 1e6:.1f} MB"
    assert batch.record_count == RECORDS
    digest = hashlib.sha256()
    with open(private_storage / batch.file_name, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    assert digest.hexdigest() == batch.sha256
    assert Submission.objects.filter(status=SubmissionStatus.BATCHED, batch=batch).count() == RECORDS
    changes = Submission.history.filter(history_type="~", batch_id=batch.pk, status=SubmissionStatus.BATCHED)
    assert changes.count() == RECORDS
    assert set(changes.values_list("history_user", flat=True).distinct()) == {system.pk}
    assert ProvisionRecord.objects.filter(reference=f"bureau-batch:{batch.pk}").count() == MEMBERS
    assert ProvisionRecord.history.filter(reference=f"bureau-batch:{batch.pk}").count() == MEMBERS


def _data_records(path) -> list[dict]:
    with open(path, "rb") as stream:
        return [r for r in fileformat.read_batch_file(stream) if "submission_id" in r]


def _build(system, private_storage):
    """Build the files, read back their data records and provision items, then undo it all."""
    with transaction.atomic():
        batches = services.build_batches(actor=system, now=NOW)
        records = {b.bureau.code: _data_records(private_storage / b.file_name) for b in batches}
        provisions = sorted(
            ProvisionRecord.objects.filter(recipient_kind="bureau").values_list(
                "member__member_no", "recipient", "items", "kept_until", "consent_recorded"
            )
        )
        history = sorted(
            Submission.history.filter(batch_id__isnull=False).values_list("id", "status", "history_user")
        )
        transaction.set_rollback(True)
    return records, provisions, history


@pytest.mark.postgres
def test_the_set_based_and_the_portable_path_write_the_same_files(system, cic, private_storage, monkeypatch):
    monkeypatch.setattr("bureaus.services.batches.CLAIM_CHUNK", 2)
    plain = ContractFactory(member=MemberFactory(address_line="江原町1-13-22 サンプルマンション" + "長" * 80))
    odd = ContractFactory(member=MemberFactory(family_name="𠮷野", given_name_kana="ｻｷｺ", employer_name=""))
    for contract in (plain, odd):
        services.record_contract_event(actor=system, contract=contract, record_type="contract")
        services.record_payment_status(
            actor=system, payment=make_payment(contract, date(2024, 2, 1), "A", days_overdue=70)
        )
    services.record_member_correction(
        actor=system, member=odd.member, fields=["family_name", "phone"], reason="T-1 訂正"
    )

    set_based = _build(system, private_storage)
    for module in ("batches", "provisions"):  # both read the database path
        monkeypatch.setattr(f"bureaus.services.{module}._set_based", lambda: False)
    portable = _build(system, private_storage)

    records, provisions, history = set_based
    assert (records, provisions, history) == portable
    assert len(records["CIC"]) == Submission.objects.filter(bureau=cic).count() > 4
    correction = next(r for r in records["CIC"] if r["record_type"] == "correction")
    assert correction["changed_fields"] == "100000000010"
    assert correction["family_name"] == "〓野"
    assert len(history) == Submission.objects.count()
    assert len(provisions) == 4  # two members at two bureaus
    assert all(items[0].startswith("本人を特定するための情報") for _no, _to, items, _until, _c in provisions)


@pytest.mark.postgres
def test_measuring_a_batch_leaves_the_data_set_as_it_was(system, cic, private_storage):
    _members_with_contracts(5)
    before = (Submission.objects.count(), Submission.history.count(), ProvisionRecord.objects.count())

    figures = benchmarks.measure_batch(40, actor=system)

    assert (figures["records"], figures["created"], figures["batches"]) == (40, 40, 1)
    assert figures["seconds"] >= 0 and figures["peak_mb"] > 0
    assert (Submission.objects.count(), Submission.history.count(), ProvisionRecord.objects.count()) == before
    assert not any(path.is_file() for path in private_storage.rglob("*"))
