"""A monthly file of 100,000 records is built with bounded memory (streamed, chunked)."""

from __future__ import annotations

import hashlib
import os
import time
import tracemalloc
from datetime import date

from bureaus import services
from bureaus.models import Submission, SubmissionStatus
from members.models import Contract, Member, ProvisionRecord
from tests.factories import current_version

RECORDS = int(os.environ.get("BUREAU_BULK_RECORDS", "100000"))
MONTHS = 10
MEMBERS = RECORDS // MONTHS
PEAK_LIMIT = 50 * 1024 * 1024


def _bulk_setup(bureau) -> None:
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
            address_line="1-13-22",
            phone=f"090{n:08d}",
        )
        for n in range(MEMBERS)
    )
    members = Member.objects.filter(member_no__startswith="3").order_by("pk").values_list("pk", "member_no")
    Contract.objects.bulk_create(
        (
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
            for pk, no in members.iterator(chunk_size=2000)
        ),
        batch_size=2000,
    )
    rows = Contract.objects.filter(contract_no__startswith="B").order_by("pk")
    contracts = rows.values_list("pk", "member_id", "contract_no", "member__member_no")

    def submissions():
        for contract_id, member_id, contract_no, member_no in contracts.iterator(chunk_size=2000):
            for month in range(1, MONTHS + 1):
                yield Submission(
                    bureau=bureau,
                    member_id=member_id,
                    contract_id=contract_id,
                    record_type="payment",
                    event_date=date(2024, month, 1),
                    payload={
                        "member_no": member_no,
                        "identity": {
                            "family_name": "髙橋",
                            "given_name": "一郎",
                            "family_name_kana": "タカハシ",
                            "given_name_kana": "イチロウ",
                            "birth_date": "1980-01-01",
                            "gender": "male",
                            "postal_code": "1658555",
                            "prefecture": "東京都",
                            "city": "中野区江原町",
                            "address_line": "1-13-22",
                            "phone": "09000000000",
                            "employer_name": "サンプル商事",
                        },
                        "contract": {"contract_no": contract_no, "kind": "shopping", "credit_limit": 500000},
                        "payment": {"month": f"2024-{month:02d}-01", "status_code": "$", "balance": 1000},
                    },
                )

    _bulk_create_chunked(submissions())


def _bulk_create_chunked(objects, size: int = 5000) -> None:
    chunk = []
    for obj in objects:
        chunk.append(obj)
        if len(chunk) == size:
            Submission.objects.bulk_create(chunk)
            chunk = []
    Submission.objects.bulk_create(chunk)


def test_a_batch_of_100000_records_is_built_with_bounded_memory(system, cic, private_storage):
    _bulk_setup(cic)
    assert Submission.objects.count() == RECORDS

    started = time.monotonic()
    tracemalloc.start()
    try:
        (batch,) = services.build_batches(actor=system)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.monotonic() - started

    assert peak < PEAK_LIMIT, f"peak {peak / 1e6:.1f} MB"
    assert batch.record_count == RECORDS
    path = private_storage / batch.file_name
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    assert digest.hexdigest() == batch.sha256
    assert Submission.objects.filter(status=SubmissionStatus.BATCHED, batch=batch).count() == RECORDS
    assert ProvisionRecord.objects.filter(reference=f"bureau-batch:{batch.pk}").count() == MEMBERS
    print(f"built {RECORDS} records in {elapsed:.1f}s, peak {peak / 1e6:.1f} MB")
