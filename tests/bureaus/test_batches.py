"""Registration files: build, read back, answer, fix, resubmit (docs/bureau-file-format.md)."""

from __future__ import annotations

import hashlib
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from bureaus import fileformat, services, tasks
from bureaus.models import BatchStatus, Submission, SubmissionBatch, SubmissionStatus
from members.models import ProvisionRecord
from members.services import update_member
from tests.bureaus.conftest import bureau_answer, make_payment
from tests.factories import ContractFactory, MemberFactory

NOW = datetime(2024, 2, 1, 22, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


def _registered_contract(system, **member_fields):
    contract = ContractFactory(member=MemberFactory(**member_fields), contracted_on=date(2024, 1, 20))
    services.record_contract_event(actor=system, contract=contract, record_type="contract")
    return contract


def _records(path):
    with open(path, "rb") as stream:
        return list(fileformat.read_batch_file(stream))


def test_encode_text_pads_in_bytes_and_never_splits_a_double_byte_character():
    assert fileformat.encode_text("タカハシ", 10) == "タカハシ".encode("cp932") + b"  "
    assert fileformat.encode_text("タカハシ", 9) == "タカハシ".encode("cp932") + b" "
    assert fileformat.encode_text("ABｱ", 4) == b"AB\xb1 "  # half-width kana is one byte
    assert len(fileformat.encode_text("東京都中野区江原町" * 10, 31)) == 31


def test_characters_outside_cp932_become_geta_and_variant_kanji_stay():
    assert fileformat.encode_text("𠮷野", 6).decode("cp932") == "〓野  "
    assert fileformat.encode_text("髙﨑", 4).decode("cp932") == "髙﨑"


def test_batch_round_trip_reads_back_what_was_registered(
    system, member, formed_contract, cic, private_storage
):
    update_member(
        member, actor=system, reason="test", address_line="江原町1-13-22 サンプルマンション" + "長" * 80
    )
    services.record_contract_event(actor=system, contract=formed_contract, record_type="contract")
    services.record_payment_status(
        actor=system, payment=make_payment(formed_contract, date(2024, 2, 1), "P", days_overdue=5)
    )

    batches = services.build_batches(actor=system, now=NOW)

    assert [b.bureau.code for b in batches] == ["CIC", "JICC"]
    batch = batches[0]
    path = private_storage / batch.file_name
    content = path.read_bytes()
    assert batch.record_count == 2
    assert batch.sha256 == hashlib.sha256(content).hexdigest()
    assert all(line.endswith(b"\r\n") for line in content.splitlines(keepends=True))
    assert {len(line) for line in content.splitlines(keepends=True)} == {fileformat.RECORD_LENGTH + 2}

    header, contract_record, payment_record, trailer = _records(path)
    assert (header["bureau_code"], header["batch_id"], header["created_on"]) == (
        "CIC",
        batch.pk,
        date(2024, 2, 1),
    )
    assert trailer["record_count"] == 2
    submission = Submission.objects.get(batch=batch, record_type="contract")
    assert contract_record["submission_id"] == submission.pk
    assert contract_record["record_type"] == "contract"
    assert contract_record["family_name"] == "髙橋"
    assert contract_record["given_name"] == "﨑子"
    assert contract_record["family_name_kana"] == "タカハシ"
    assert contract_record["birth_date"] == date(1985, 8, 31)
    assert contract_record["gender"] == "female"
    assert contract_record["contract_no"] == formed_contract.contract_no
    assert contract_record["contracted_on"] == date(2024, 1, 20)
    assert contract_record["credit_limit"] == 500000
    assert contract_record["registered_until"] is None
    assert len(contract_record["address_line"].encode("cp932")) <= 120
    assert member.address_line.startswith(contract_record["address_line"])
    assert (
        payment_record["payment_month"],
        payment_record["payment_status"],
        payment_record["days_overdue"],
    ) == (
        date(2024, 2, 1),
        "P",
        5,
    )
    assert set(Submission.objects.values_list("status", flat=True)) == {SubmissionStatus.BATCHED}


def test_a_tampered_file_fails_its_checksum(system, formed_contract, private_storage):
    services.record_contract_event(actor=system, contract=formed_contract, record_type="contract")
    batch = services.build_batches(actor=system, now=NOW)[0]
    content = bytearray((private_storage / batch.file_name).read_bytes())
    content[fileformat.RECORD_LENGTH + 2 + 40] ^= 1
    with pytest.raises(fileformat.FileFormatError):
        list(fileformat.read_batch_file(io.BytesIO(bytes(content))))


def test_one_provision_record_per_member_and_bureau_in_each_batch(system, cic, jicc):
    first = _registered_contract(system)
    second = _registered_contract(system)
    services.record_payment_status(actor=system, payment=make_payment(first, date(2024, 2, 1)))

    batches = services.build_batches(actor=system, now=NOW)

    records = ProvisionRecord.objects.filter(recipient_kind="bureau")
    assert records.count() == 4  # two members at two bureaus
    row = records.get(member=first.member, recipient=cic.name)
    assert row.basis == "consent"
    assert row.consent_recorded
    assert row.provided_on == date(2024, 2, 1)
    assert row.kept_until == date(2027, 2, 1)
    assert row.reference == f"bureau-batch:{batches[0].pk}"
    assert row.items == [
        "本人を特定するための情報（氏名・生年月日・性別・住所・電話番号・勤務先）",
        "契約内容に関する情報",
        "返済状況に関する情報",
    ]
    assert row.history.get().history_user == system
    assert records.get(member=second.member, recipient=jicc.name).items[1:] == ["契約内容に関する情報"]


def test_building_twice_sends_nothing_twice(system, formed_contract):
    services.record_contract_event(actor=system, contract=formed_contract, record_type="contract")
    assert tasks.build_batches.apply().get()["records"] == 2
    assert tasks.build_batches.apply().get() == {"swept": 0, "batches": [], "records": 0}
    assert SubmissionBatch.objects.count() == 2


def test_partner_bureau_gets_no_file(system, operator, contract, ksc):
    services.make_inquiry(actor=operator, contract=contract, bureau=ksc, purpose="ability_to_pay")
    assert services.build_batches(actor=system) == []


def test_full_round_trip_with_a_reject_fixed_and_resubmitted(system, supervisor, cic, private_storage):
    good = _registered_contract(system)
    bad = _registered_contract(system, given_name_kana="タロウ")
    batch = services.build_batches(actor=system, now=NOW)[0]
    rejected_id = Submission.objects.get(batch=batch, contract=bad).pk
    answer = bureau_answer(batch, private_storage / batch.file_name, rejects={rejected_id: "10"})

    batch = services.import_response(actor=supervisor, batch=batch, stream=answer)

    assert (batch.status, batch.accepted_count, batch.rejected_count) == (BatchStatus.ANSWERED, 1, 1)
    accepted = Submission.objects.get(batch=batch, contract=good)
    rejected = Submission.objects.get(pk=rejected_id)
    assert (accepted.status, accepted.response_code) == ("accepted", "00")
    assert (rejected.status, rejected.response_code) == ("rejected", "10")
    assert rejected.response_message == "本人を特定する情報（氏名・フリガナ）に不備があります"
    assert rejected.history.first().history_user == supervisor

    update_member(bad.member, actor=supervisor, reason="フリガナの誤りを修正", given_name_kana="ジロウ")
    again = services.resubmit(actor=supervisor, submission=rejected)

    rejected.refresh_from_db()
    assert rejected.status == SubmissionStatus.SUPERSEDED
    assert (again.status, again.original, again.record_type) == ("pending", rejected, "contract")
    assert again.payload["identity"]["given_name_kana"] == "ジロウ"
    next_batch = services.build_batches(actor=system, now=NOW)
    cic_batch = next(b for b in next_batch if b.bureau == cic)
    (record,) = [r for r in _records(private_storage / cic_batch.file_name) if "submission_id" in r]
    assert (record["submission_id"], record["original_id"], record["given_name_kana"]) == (
        again.pk,
        rejected.pk,
        "ジロウ",
    )


def test_importing_the_same_response_twice_changes_nothing(
    system, supervisor, formed_contract, private_storage
):
    services.record_contract_event(actor=system, contract=formed_contract, record_type="contract")
    batch = services.build_batches(actor=system, now=NOW)[0]
    services.import_response(
        actor=supervisor, batch=batch, stream=bureau_answer(batch, private_storage / batch.file_name)
    )
    history_rows = Submission.history.count()
    batch = services.import_response(
        actor=supervisor, batch=batch, stream=bureau_answer(batch, private_storage / batch.file_name)
    )
    assert Submission.history.count() == history_rows
    assert (batch.accepted_count, batch.rejected_count) == (1, 0)


def test_a_response_for_another_batch_is_refused(system, supervisor, private_storage):
    _registered_contract(system)
    cic_batch, jicc_batch = services.build_batches(actor=system, now=NOW)
    answer = bureau_answer(jicc_batch, private_storage / jicc_batch.file_name)
    with pytest.raises(ValidationError):
        services.import_response(actor=supervisor, batch=cic_batch, stream=answer)
    assert not Submission.objects.filter(status="accepted").exists()


def test_a_response_with_wrong_trailer_counts_changes_nothing(
    system, supervisor, formed_contract, private_storage
):
    services.record_contract_event(actor=system, contract=formed_contract, record_type="contract")
    batch = services.build_batches(actor=system, now=NOW)[0]
    answer = bureau_answer(batch, private_storage / batch.file_name).getvalue()
    lines = answer.splitlines(keepends=True)
    lines[-1] = lines[-1][:1] + b"0000002" + lines[-1][8:]
    with pytest.raises(ValidationError):
        services.import_response(actor=supervisor, batch=batch, stream=io.BytesIO(b"".join(lines)))
    assert Submission.objects.get(batch=batch).status == "batched"


def test_only_a_rejected_record_can_be_resubmitted(system, supervisor, formed_contract):
    (submission, _other) = services.record_contract_event(
        actor=system, contract=formed_contract, record_type="contract"
    )
    with pytest.raises(ValidationError):
        services.resubmit(actor=supervisor, submission=submission)


def test_unknown_result_code_rejects_with_a_japanese_message():
    assert fileformat.result_message("77") == "未定義の結果コードです"


@pytest.mark.postgres
def test_the_batch_transaction_sorts_and_groups_in_the_memory_it_is_given(system, settings):
    """BUREAU_BATCH_WORK_MEM holds for the batch's transaction only (SET LOCAL): here the test's
    own transaction encloses the run, so the setting is still visible after it."""
    from django.db import connection

    settings.BUREAU_BATCH_WORK_MEM = "77MB"
    _registered_contract(system)
    with connection.cursor() as cursor:
        cursor.execute("SHOW work_mem")
        assert cursor.fetchone()[0] != "77MB"
        assert services.build_batches(actor=system, now=NOW)
        cursor.execute("SHOW work_mem")
        assert cursor.fetchone()[0] == "77MB"
