"""Fixtures for the bureau tests: the seeded bureaus, a member with a contract, private storage
in a temporary folder, and a fake bureau that answers a registration file."""

from __future__ import annotations

import io
from datetime import date

import pytest

from bureaus import fileformat
from bureaus.models import Bureau, SubmissionBatch
from consentoffice.core.history import system_user
from members.models import PaymentRecord
from tests.factories import ContractFactory, MemberFactory


@pytest.fixture(autouse=True)
def _private_storage(private_storage):
    return private_storage


@pytest.fixture
def cic(db):
    return Bureau.objects.get(code="CIC")


@pytest.fixture
def jicc(db):
    return Bureau.objects.get(code="JICC")


@pytest.fixture
def ksc(db):
    return Bureau.objects.get(code="KSC")


@pytest.fixture
def system(db):
    return system_user()


@pytest.fixture
def member(db):
    return MemberFactory(
        family_name="髙橋",
        given_name="﨑子",
        family_name_kana="タカハシ",
        given_name_kana="サキコ",
        birth_date=date(1985, 8, 31),
        gender="female",
    )


@pytest.fixture
def contract(member):
    return ContractFactory(member=member, status="applied", contracted_on=None)


@pytest.fixture
def formed_contract(member):
    return ContractFactory(member=member, status="formed", contracted_on=date(2024, 1, 20))


def make_payment(contract, month: date, status_code: str = "$", days_overdue: int = 0, **fields):
    return PaymentRecord.objects.create(
        contract=contract,
        month=month,
        status_code=status_code,
        days_overdue=days_overdue,
        billed_amount=fields.pop("billed_amount", 30000),
        paid_amount=fields.pop("paid_amount", 30000 if status_code == "$" else 0),
        balance=fields.pop("balance", 120000),
        **fields,
    )


def bureau_answer(batch: SubmissionBatch, path, rejects: dict[int, str] | None = None) -> io.BytesIO:
    """What the bureau sends back for ``batch``: every record accepted except ``rejects``
    (submission id -> result code)."""
    rejects = rejects or {}
    results = []
    with open(path, "rb") as stream:
        for record in fileformat.read_batch_file(stream):
            if "submission_id" in record:
                code = rejects.get(record["submission_id"], fileformat.ACCEPTED)
                results.append((record["sequence"], record["submission_id"], code))
    out = io.BytesIO()
    fileformat.write_response(
        out, bureau_code=batch.bureau.code, batch_id=batch.pk, answered_on=date(2024, 3, 1), results=results
    )
    out.seek(0)
    return out
