"""Field encryption at rest (consentoffice.core.crypto): no plaintext in the database, key rotation,
masking, and no individual number (マイナンバー) ever stored."""

from __future__ import annotations

from io import StringIO

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection

from consentoffice.core import crypto
from consentoffice.models import AuthenticatorDevice
from members import services
from members.models import Affiliate, Contract, FinancialDeclaration, IdentityDocument
from tests.factories import MemberFactory

DOCUMENT_NUMBER = "第987654321098号"
ACCOUNT = "0005-123-7654321"
INCOME = 8_765_432
SECRET = "partner-shared-secret-abcdef"


def raw_values(model, column: str) -> list[str]:
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {connection.ops.quote_name(column)} FROM {table}")
        return [row[0] for row in cursor.fetchall()]


def make_sensitive_rows(operator, supervisor) -> dict:
    """One row of each model holding an encrypted field, written through the services."""
    member = MemberFactory()
    document = services.add_identity_document(
        actor=operator, member=member, kind="driver_license", number=DOCUMENT_NUMBER
    )
    declaration = services.add_financial_declaration(actor=operator, member=member, annual_income=INCOME)
    affiliate = services.save_affiliate(
        actor=supervisor,
        code="partner-x",
        name="提携先X",
        endpoint="https://partner.example/",
    )
    assert len(affiliate.issued_secret) >= 43  # 32 random bytes, issued by the system
    # A known value to look for below (the system's own is random), in the row and its history.
    Affiliate.objects.filter(pk=affiliate.pk).update(shared_secret=SECRET)
    Affiliate.history.filter(id=affiliate.pk).update(shared_secret=SECRET)
    affiliate.refresh_from_db()
    contract = services.apply_for_contract(
        actor=operator,
        member=member,
        kind="shopping",
        product_name="提携カード",
        affiliate=affiliate,
        settlement_account=ACCOUNT,
    )
    return {"document": document, "declaration": declaration, "affiliate": affiliate, "contract": contract}


@pytest.fixture
def sensitive_rows(operator, supervisor):
    return make_sensitive_rows(operator, supervisor)


ENCRYPTED_COLUMNS = [
    (IdentityDocument, "number", DOCUMENT_NUMBER),
    (Contract, "settlement_account", ACCOUNT),
    (FinancialDeclaration, "annual_income", str(INCOME)),
    (Affiliate, "shared_secret", SECRET),
]


@pytest.mark.parametrize(("model", "column", "plaintext"), ENCRYPTED_COLUMNS)
def test_sensitive_columns_hold_no_plaintext_in_the_table_or_its_history(
    model, column, plaintext, sensitive_rows
):
    for table_model in (model, model.history.model):
        values = raw_values(table_model, column)
        assert values, table_model
        for value in values:
            assert plaintext not in value
            assert plaintext[-4:] not in value
            assert crypto.decrypt(value) == plaintext


def test_the_orm_reads_encrypted_values_back(sensitive_rows):
    assert IdentityDocument.objects.get().number == DOCUMENT_NUMBER
    assert Contract.objects.get().settlement_account == ACCOUNT
    assert FinancialDeclaration.objects.get().annual_income == INCOME
    assert Affiliate.objects.get().shared_secret == SECRET
    assert IdentityDocument.history.get().number == DOCUMENT_NUMBER
    assert FinancialDeclaration.history.get().annual_income == INCOME
    assert list(FinancialDeclaration.objects.values_list("annual_income", flat=True)) == [INCOME]


def test_the_same_value_encrypts_differently_each_time():
    assert crypto.encrypt(ACCOUNT) != crypto.encrypt(ACCOUNT)


# --- Key rotation -----------------------------------------------------------------------------

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


def all_raw_tokens() -> list[str]:
    tokens = []
    for model, column, _plaintext in ENCRYPTED_COLUMNS:
        for table_model in (model, model.history.model):
            tokens += [v for v in raw_values(table_model, column) if v]
    return tokens


def read_everything() -> tuple:
    return (
        IdentityDocument.objects.get().number,
        Contract.objects.get().settlement_account,
        FinancialDeclaration.objects.get().annual_income,
        Affiliate.objects.get().shared_secret,
        sorted(h.number for h in IdentityDocument.history.all()),
    )


EXPECTED = (DOCUMENT_NUMBER, ACCOUNT, INCOME, SECRET, [DOCUMENT_NUMBER])


@pytest.fixture
def rows_under_old_key(db, settings, request):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    crypto._fernet_for.cache_clear()
    # The users after the key: a supervisor's authenticator key is encrypted under it too.
    operator, supervisor = request.getfixturevalue("operator"), request.getfixturevalue("supervisor")
    return make_sensitive_rows(operator, supervisor)


def test_values_written_under_the_old_key_still_decrypt_once_a_new_key_is_first(settings, rows_under_old_key):
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    assert read_everything() == EXPECTED


def test_reencrypt_fields_rotates_every_value_so_only_the_new_key_is_needed(settings, rows_under_old_key):
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    tokens_before = all_raw_tokens()
    assert len(tokens_before) == 8  # four tables and their history tables, one row each

    out = StringIO()
    call_command("reencrypt_fields", stdout=out)

    assert "members_identitydocument (number): 1 rows, rotated 1" in out.getvalue()
    assert "members_historicalidentitydocument (number): 1 rows, rotated 1" in out.getvalue()
    assert "consentoffice_authenticatordevice (key): 1 rows, rotated 1" in out.getvalue()
    new_fernet = Fernet(NEW_KEY.encode())
    for token in all_raw_tokens() + raw_values(AuthenticatorDevice, "key"):
        new_fernet.decrypt(token.encode())
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    assert read_everything() == EXPECTED


def test_reencrypt_fields_is_idempotent(settings, rows_under_old_key):
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    call_command("reencrypt_fields", stdout=StringIO())
    tokens_after_first_run = all_raw_tokens()

    out = StringIO()
    call_command("reencrypt_fields", stdout=out)

    assert all_raw_tokens() == tokens_after_first_run
    assert "rotated 1" not in out.getvalue()
    assert "members_contract (settlement_account): 1 rows, rotated 0, unchanged 1" in out.getvalue()


def test_reencrypt_fields_dry_run_writes_nothing(settings, rows_under_old_key):
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    tokens_before = all_raw_tokens()

    out = StringIO()
    call_command("reencrypt_fields", "--dry-run", stdout=out)

    assert all_raw_tokens() == tokens_before
    assert "members_affiliate (shared_secret): 1 rows, would rotate 1" in out.getvalue()
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    with pytest.raises(InvalidToken):
        Fernet(NEW_KEY.encode()).decrypt(raw_values(Affiliate, "shared_secret")[0].encode())


def test_reencrypt_fields_works_in_batches(settings, operator):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    member = MemberFactory()
    for n in range(5):
        services.add_financial_declaration(actor=operator, member=member, annual_income=1_000_000 + n)
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]

    out = StringIO()
    call_command("reencrypt_fields", "--batch-size", "2", stdout=out)

    assert "members_financialdeclaration (annual_income): 5 rows, rotated 5" in out.getvalue()
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    assert sorted(FinancialDeclaration.objects.values_list("annual_income", flat=True)) == [
        1_000_000 + n for n in range(5)
    ]


def test_reencrypt_fields_refuses_values_no_key_can_decrypt_and_names_no_plaintext(
    settings, rows_under_old_key
):
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]  # the old key was dropped too early
    with pytest.raises(CommandError, match="no key in FIELD_ENCRYPTION_KEYS can decrypt"):
        call_command("reencrypt_fields", stdout=StringIO(), stderr=StringIO())
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    assert read_everything() == EXPECTED


# --- Masking ----------------------------------------------------------------------------------


def test_operators_see_only_the_last_four_characters():
    assert crypto.mask("1234567890") == "****7890"
    assert crypto.mask(8765432) == "****5432"
    assert crypto.mask("1234") == "****"
    assert crypto.mask("") == ""
    assert crypto.mask(None) == ""


# --- Individual numbers (マイナンバー) are never stored ---------------------------------------


def with_check_digit(eleven: str) -> str:
    """The check digit of an individual number (番号法施行令 Art. 8)."""
    reversed_digits = [int(c) for c in reversed(eleven)]
    total = sum(p * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(reversed_digits, start=1))
    remainder = total % 11
    return eleven + str(0 if remainder <= 1 else 11 - remainder)


MY_NUMBER = with_check_digit("12345678901")


def test_the_check_digit_helper_matches_the_published_sample():
    assert MY_NUMBER == "123456789018"


@pytest.mark.parametrize(
    "typed",
    [
        MY_NUMBER,
        f"{MY_NUMBER[:4]} {MY_NUMBER[4:8]} {MY_NUMBER[8:]}",
        with_check_digit("12345067890"),  # the 6th digit from the right is 0: refused either way
    ],
)
def test_an_individual_number_is_refused_and_nothing_is_saved(operator, typed):
    member = MemberFactory()
    with pytest.raises(ValidationError) as exc:
        services.add_identity_document(actor=operator, member=member, kind="other", number=typed)
    assert "個人番号（マイナンバー）は記録できません" in exc.value.message_dict["number"][0]
    assert IdentityDocument.objects.count() == 0
    assert IdentityDocument.history.count() == 0


def test_a_twelve_digit_number_with_a_wrong_check_digit_is_kept(operator):
    wrong = MY_NUMBER[:11] + str((int(MY_NUMBER[11]) + 1) % 10)
    document = services.add_identity_document(
        actor=operator, member=MemberFactory(), kind="driver_license", number=wrong
    )
    document.refresh_from_db()
    assert document.number == wrong
