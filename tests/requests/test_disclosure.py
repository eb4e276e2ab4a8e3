"""The disclosure package (APPI Art. 33) and the reply letters (Art. 34(3), 36; clause Art. 2(2))."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import date

import pytest
from django.core.files.storage import storages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from members import services as member_services
from members.models import AccessLog, Contractor, ProvisionBasis, RecipientKind
from requests import disclosure, letters, rules, services
from tests.factories import (
    ContactRecordFactory,
    ContractFactory,
    IdentityDocumentFactory,
    MemberFactory,
    grant_all_consents,
)
from tests.requests import verified_request

Kind, Outcome = rules.Kind, rules.Outcome
CATEGORY_FILES = [name for name, *_rest in disclosure.CATEGORY_FILES.values()]


@pytest.fixture(autouse=True)
def _private_storage(private_storage):
    return private_storage


def _fill_every_category(member, operator, supervisor, rows: int = 2) -> None:
    grant_all_consents(member)
    for n in range(rows):
        contract = ContractFactory(
            member=member, product_name=f"ゴールドカード{n}", settlement_account=f"9999-{n}"
        )
        member_services.add_payment_record(
            actor=supervisor,
            contract=contract,
            month=date(2026, 1 + n, 1),
            status_code="$",
            billed_amount=1000 + n,
        )
        member_services.add_financial_declaration(actor=operator, member=member, annual_income=5_000_000 + n)
        ContactRecordFactory(member=member, summary=f"住所変更の相談{n}")
        IdentityDocumentFactory(member=member, number=f"DL-{n:06d}")
        IdentityDocumentFactory(member=member, kind="resident_record", number="")
        IdentityDocumentFactory(member=member, kind="income_certificate", number="")
        member.auth_events.create(kind="3ds", device=f"iPhone-{n}")
        member_services.add_public_record(
            actor=operator, member=member, source="gazette", summary=f"官報掲載{n}", found_on=date(2025, 1, 1)
        )
        member_services.record_provision(
            member=member,
            recipient_kind=RecipientKind.AFFILIATE,
            recipient=f"さくら百貨店{n}",
            items=["氏名"],
            basis=ProvisionBasis.CONSENT,
        )
    contractor = Contractor.objects.get_or_create(name="債権回収テスト", defaults={"business": "回収"})[0]
    member_services.entrust(
        actor=supervisor,
        contractor=contractor,
        member=member,
        purpose="督促業務",
        items=["氏名", "住所"],
        provided_on=date(2025, 5, 1),
    )


def _package(member, operator):
    ticket = verified_request(Kind.DISCLOSURE, member=member, actor=operator)
    services.record_fee_payment(ticket, actor=operator, paid_on=date(2026, 11, 1))
    return ticket, services.build_disclosure_package(ticket, actor=operator)


def _read(package):
    """The plaintext ZIP (the file at rest is encrypted with the field keys)."""
    return b"".join(disclosure.open_package(package.file))


def test_package_holds_every_category_the_records_and_the_letter(operator, supervisor):
    member = MemberFactory(family_name="髙橋", given_name="花子")
    other = MemberFactory(family_name="部外者", given_name="太郎")
    _fill_every_category(member, operator, supervisor)
    ContactRecordFactory(member=other, summary="他人の秘密の相談")

    _ticket, package = _package(member, operator)
    payload = _read(package)
    assert hashlib.sha256(payload).hexdigest() == package.sha256
    archive = zipfile.ZipFile(io.BytesIO(payload))
    names = set(archive.namelist())
    expected = {
        "member.json",
        "consent_history.csv",
        "provision_records.csv",
        "entrustment_records.csv",
        "bureau_registrations.csv",
        "letter.pdf",
        *CATEGORY_FILES,
    }
    assert expected <= names and len(CATEGORY_FILES) == 10
    everything = "".join(archive.read(n).decode("utf-8-sig") for n in names if n.endswith((".csv", ".json")))
    for value in (
        "髙橋",
        "ゴールドカード0",
        "9999-0",
        "5000000",
        "住所変更の相談1",
        "DL-000001",
        "iPhone-1",
        "官報掲載0",
        "さくら百貨店1",
        "督促業務",
        "営業",
    ):
        assert value in everything, value
    assert "他人の秘密の相談" not in everything and "部外者" not in everything
    assert archive.read("letter.pdf").startswith(b"%PDF")
    document = json.loads(archive.read("member.json"))
    assert document["member_no"] == member.member_no and len(document["categories"]) == 10


def test_every_category_file_is_present_with_a_header_even_when_empty(operator):
    member = MemberFactory()
    _ticket, package = _package(member, operator)
    archive = zipfile.ZipFile(io.BytesIO(_read(package)))
    for name in CATEGORY_FILES:
        rows = list(csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"))))
        assert rows and rows[0], name


def test_building_a_package_takes_the_same_queries_however_much_is_held(operator, supervisor):
    small, large = MemberFactory(), MemberFactory()
    _fill_every_category(small, operator, supervisor, rows=1)
    _fill_every_category(large, operator, supervisor, rows=6)
    counts = []
    for member in (small, large):
        ticket = verified_request(Kind.DISCLOSURE, member=member, actor=operator)
        with CaptureQueriesContext(connection) as queries:
            disclosure.build_package(ticket, actor=operator)
        counts.append(len(queries))
    assert counts[0] == counts[1]


def _submitted(member, operator):
    ticket, package = _package(member, operator)
    services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    return ticket, package


def test_before_approval_only_a_supervisor_who_may_approve_opens_the_package(
    client, operator, operator2, supervisor, supervisor2, nobody
):
    """Issue 14: an operator alone opened, built and downloaded a package of clear values."""
    member = MemberFactory()
    ticket, package = _package(member, operator)
    url = reverse("requests:download_package", args=[package.pk])
    assert client.get(url).status_code == 302  # anonymous: to the login page
    for who in (nobody, operator, operator2, supervisor):  # not yet submitted: nobody
        client.force_login(who)
        assert client.get(url).status_code == 403, who
    services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    for who in (operator, operator2):
        client.force_login(who)
        assert client.get(url).status_code == 403, who
    assert not AccessLog.objects.filter(action__in=["download", "view_sensitive"]).exists()

    client.force_login(supervisor2)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == _read(package)
    logs = AccessLog.objects.filter(user=supervisor2, member=member)
    assert sorted(logs.values_list("action", flat=True)) == ["download", "view_sensitive"]
    assert all(member.full_name not in log.detail for log in logs)


def test_after_approval_only_the_assignee_delivers_it(client, operator, operator2, supervisor, supervisor2):
    member = MemberFactory()
    ticket, package = _submitted(member, operator)
    services.approve(ticket, actor=supervisor)
    url = reverse("requests:download_package", args=[package.pk])
    for who in (operator2, supervisor, supervisor2):
        client.force_login(who)
        assert client.get(url).status_code == 403, who
    client.force_login(operator)  # the assignee
    assert client.get(url).status_code == 200


def test_the_package_file_is_encrypted_at_rest_and_private(operator, private_storage):
    member = MemberFactory(family_name="開示太郎")
    _ticket, package = _package(member, operator)
    path = private_storage / package.file
    raw = path.read_bytes()
    assert raw.startswith(b"CONSENTOFFICE-FERNET-CHUNKS-1")
    assert b"PK" not in raw[:64] and "開示太郎".encode() not in raw
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert hashlib.sha256(_read(package)).hexdigest() == package.sha256


def test_a_delivered_package_file_is_deleted_after_the_set_days(operator, supervisor, settings):
    from datetime import timedelta

    settings.DISCLOSURE_PACKAGE_KEEP_DAYS = 30
    ticket, package = _submitted(MemberFactory(), operator)
    services.approve(ticket, actor=supervisor)
    package.refresh_from_db()
    assert disclosure.purge_delivered_packages(today=package.delivered_at + timedelta(days=29)) == 0
    assert storages["private"].exists(package.file)
    assert disclosure.purge_delivered_packages(today=package.delivered_at + timedelta(days=31)) == 1
    assert not storages["private"].exists(package.file)
    kept = type(package).objects.get(pk=package.pk)
    assert kept.sha256 == package.sha256 and kept.files == package.files  # the record stays


def test_a_missing_file_is_no_fault_only_once_the_keep_days_are_over(operator, supervisor, settings):
    """``verify_private_files`` (the check after a restore) asks the purge's own cut-off: a package
    file deleted after its keeping period is counted, one missing before it is a fault."""
    from datetime import timedelta

    from django.core.management import CommandError, call_command
    from django.utils import timezone

    settings.DISCLOSURE_PACKAGE_KEEP_DAYS = 30
    ticket, package = _submitted(MemberFactory(), operator)
    services.approve(ticket, actor=supervisor)
    storages["private"].delete(package.file)
    type(package).objects.filter(pk=package.pk).update(delivered_at=timezone.now() - timedelta(days=29))
    with pytest.raises(CommandError, match="problems=1"):
        call_command("verify_private_files", stdout=io.StringIO())

    type(package).objects.filter(pk=package.pk).update(delivered_at=timezone.now() - timedelta(days=31))
    out = io.StringIO()
    call_command("verify_private_files", stdout=out)
    assert "purged=1 problems=0" in out.getvalue()


def test_refusal_letter_states_the_ground_and_the_reasons(operator):
    ticket = verified_request(Kind.DISCLOSURE, member=MemberFactory(), actor=operator)
    services.submit_for_approval(
        ticket,
        outcome=Outcome.REFUSED,
        actor=operator,
        ground="business",
        reason="同一内容の請求が短期間に多数繰り返されているため",
    )
    text = "\n".join(str(p) for p in letters.letter_paragraphs(ticket))
    assert str(rules.REFUSAL_GROUNDS["business"]) in text
    assert "短期間に多数" in text
    assert letters.reply_letter(ticket).startswith(b"%PDF")


def test_marketing_stop_letter_says_bill_notices_continue(operator, supervisor):
    member = MemberFactory()
    grant_all_consents(member)
    ticket = verified_request(Kind.MARKETING_STOP, member=member, actor=operator)
    services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    services.approve(ticket, actor=supervisor)
    ticket.refresh_from_db()
    text = "\n".join(str(p) for p in letters.letter_paragraphs(ticket))
    assert "請求書等に記載される案内" in text


def test_correction_letter_lists_what_was_changed_and_what_was_not(operator, supervisor):
    member = MemberFactory(postal_code="1658555")
    ticket = verified_request(Kind.CORRECTION, member=member, actor=operator)
    accepted = services.add_correction_item(
        ticket, field="postal_code", requested_value="100-0001", actor=operator
    )
    rejected = services.add_correction_item(
        ticket, field="occupation", requested_value="役員", actor=operator
    )
    services.decide_correction_item(accepted, actor=operator, accept=True)
    services.decide_correction_item(rejected, actor=operator, accept=False, note="事実と相違がないため")
    services.submit_for_approval(
        ticket, outcome=Outcome.PARTLY, actor=operator, reason="一部は事実と相違がない"
    )
    text = "\n".join(str(p) for p in letters.letter_paragraphs(ticket))
    assert "「1658555」→「1000001」" in text
    assert "事実と相違がないため" in text


def test_reply_letter_view_is_logged(client, operator):
    ticket = verified_request(Kind.INQUIRY, member=MemberFactory(), actor=operator)
    client.force_login(operator)
    response = client.get(reverse("requests:reply_letter", args=[ticket.pk]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert AccessLog.objects.filter(user=operator, action="download", member=ticket.member).count() == 1


def test_the_package_csvs_never_start_a_spreadsheet_formula(operator):
    """Issue 14: the disclosure CSVs go through the one CSV writer (consentoffice.core.csv_export)."""
    member = MemberFactory()
    member_services.add_contact_record(
        actor=operator, member=member, channel="phone", summary='=HYPERLINK("x")'
    )
    _ticket, package = _package(member, operator)
    archive = zipfile.ZipFile(io.BytesIO(_read(package)))
    cells = [
        cell
        for name in archive.namelist()
        if name.endswith(".csv")
        for row in csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig")))
        for cell in row
    ]
    assert '\'=HYPERLINK("x")' in cells
    assert not any(cell.startswith(("=", "+", "@")) for cell in cells)


def test_key_rotation_reencrypts_the_package_files(operator, settings, private_storage):
    from io import StringIO

    from cryptography.fernet import Fernet
    from django.core.management import call_command

    from consentoffice.core import crypto

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old]
    crypto._fernet_for.cache_clear()
    _ticket, package = _package(MemberFactory(), operator)
    plaintext = _read(package)

    settings.FIELD_ENCRYPTION_KEYS = [new, old]
    out = StringIO()
    call_command("reencrypt_fields", stdout=out)
    assert "disclosure package files: 1 files, rotated 1" in out.getvalue()
    settings.FIELD_ENCRYPTION_KEYS = [new]  # the old key is gone: the file still opens
    assert _read(package) == plaintext
    call_command("reencrypt_fields", stdout=(again := StringIO()))
    assert "disclosure package files: 1 files, rotated 0" in again.getvalue()
