"""``manage.py seed_bulk`` on a small N: the shape it promises, on a real PostgreSQL database.

The loader writes with COPY on its own connection, so these tests commit (transactional db)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import Count, F

from bureaus.models import Submission
from consentoffice.core.crypto import decrypt
from consentoffice.devtools import bulk
from members import normalize
from members.models import (
    Consent,
    Contract,
    FinancialDeclaration,
    IdentityDocument,
    Member,
    PaymentRecord,
    Purpose,
)
from requests import rules
from requests.models import Ticket

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

MEMBERS = 700


@pytest.fixture
def seeded():
    out = StringIO()
    call_command("seed_bulk", members=MEMBERS, no_progress=True, stdout=out)
    return out.getvalue()


def test_seed_bulk_writes_the_members_with_one_to_three_contracts_and_a_tenth_on_partner_cards(seeded):
    assert Member.objects.count() == MEMBERS
    per_member = Contract.objects.values("member").annotate(n=Count("id")).values_list("n", flat=True)
    assert len(per_member) == MEMBERS and set(per_member) <= {1, 2, 3} and len(set(per_member)) == 3
    partner_members = Contract.objects.filter(affiliate__isnull=False).values("member").distinct().count()
    assert partner_members == MEMBERS // bulk.PARTNER_EVERY
    assert "members_member" in seeded and "elapsed_seconds=" in seeded


def test_formed_and_ended_contracts_have_twelve_months_of_payments(seeded):
    paying = Contract.objects.filter(status__in=["formed", "ended"])
    assert paying.exists()
    months = PaymentRecord.objects.values("contract").annotate(n=Count("id")).values_list("n", flat=True)
    assert set(months) == {12}
    assert PaymentRecord.objects.count() == 12 * paying.count()
    assert not PaymentRecord.objects.filter(contract__status__in=["applied", "declined"]).exists()


def test_every_member_has_a_consent_per_purpose(seeded):
    assert Consent.objects.count() == MEMBERS * Purpose.objects.count()


def test_tickets_in_every_state_for_three_percent_of_members(seeded):
    tickets = Ticket.objects.all()
    assert tickets.count() == MEMBERS // bulk.TICKET_EVERY
    assert set(tickets.values_list("status", flat=True)) == {s for s, _label in rules.STATUS_CHOICES}
    for ticket in tickets:
        ticket.full_clean()
        steps = ticket.history.count()
        assert steps == ticket.version >= 1
    closed_requests = tickets.filter(status="closed", kind__in=rules.REQUEST_KINDS)
    assert not closed_requests.filter(outcome="").exists()
    assert not closed_requests.filter(approver=F("prepared_by")).exists()
    assert not closed_requests.filter(outcome="refused", refusal_ground="").exists()


def test_every_row_has_its_history_row(seeded):
    for model in (
        Member,
        Contract,
        PaymentRecord,
        Consent,
        Submission,
        FinancialDeclaration,
        IdentityDocument,
    ):
        assert model.history.count() == model.objects.count() > 0, model.__name__
    history = Member.history.first()
    assert history.history_type == "+" and history.history_user is not None
    assert history.history_change_reason == bulk.REASON


def test_bureau_submissions_include_pending_payment_records_with_a_payload(seeded):
    pending = Submission.objects.filter(status="pending")
    assert pending.exists() and set(pending.values_list("record_type", flat=True)) == {"payment"}
    payload = pending.select_related("member").first()
    assert payload.payload["member_no"] == payload.member.member_no
    assert payload.payload["identity"]["phone"] == payload.member.phone
    assert Submission.objects.filter(record_type="contract", status="accepted").exists()


def test_category_one_values_are_stored_as_members_normalize_leaves_them(seeded):
    for member in Member.objects.order_by("?")[:200]:
        assert normalize.validate_kana(member.family_name_kana) == member.family_name_kana
        assert normalize.validate_kana(member.given_name_kana) == member.given_name_kana
        assert normalize.phone(member.phone) == member.phone
        assert normalize.postal_code(member.postal_code) == member.postal_code
        search_kana, search_name = member.search_kana, member.search_name
        member.refresh_search_keys()
        assert (member.search_kana, member.search_name) == (search_kana, search_name)
        member.full_clean()


def test_encrypted_fields_hold_ciphertext_that_decrypts(seeded):
    with connection.cursor() as cursor:
        cursor.execute("SELECT settlement_account FROM members_contract LIMIT 20")
        accounts = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT annual_income FROM members_financialdeclaration LIMIT 20")
        incomes = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT number FROM members_identitydocument LIMIT 20")
        numbers = [row[0] for row in cursor.fetchall()]
    for token in accounts + incomes + numbers:
        assert token.startswith("gAAAA")  # a Fernet token, not the value
    assert "普通" in decrypt(accounts[0]) and "普通" not in accounts[0]
    assert decrypt(incomes[0]).isdigit()
    assert isinstance(FinancialDeclaration.objects.first().annual_income, int)


def test_a_second_run_is_refused_unless_append_or_reset(seeded):
    with pytest.raises(CommandError, match="--append"):
        call_command("seed_bulk", members=10, no_progress=True, stdout=StringIO())
    call_command("seed_bulk", members=10, append=True, no_progress=True, stdout=StringIO())
    assert Member.objects.count() == MEMBERS + 10
    assert Member.objects.values("member_no").distinct().count() == MEMBERS + 10
    call_command("seed_bulk", members=20, reset=True, no_progress=True, stdout=StringIO())
    assert Member.objects.count() == 20
