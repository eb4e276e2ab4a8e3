"""Row digests computed by PostgreSQL (``consentoffice.core.digests``) equal the canonical Python
``row_hash`` byte for byte; rows and tables the SQL cannot render go through Python."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import DataError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bureaus.models import Bureau, SubmissionBatch
from consentoffice.audit.seal import sources
from consentoffice.core import digests
from consentoffice.core.crypto import EncryptedTextField
from consentoffice.core.digests import row_digests, sql_digest
from consentoffice.core.history import _hashed, copy_to_history, source_for
from consentoffice.models import EnrolmentCode
from members import models as m
from tests.audit.conftest import member_with_everything
from tests.factories import ContactRecordFactory, MemberFactory

PARTNER = "members_historicalpartnersyncevent"
MEMBER = "members_historicalmember"
AUTH = "members_historicalonlineauthevent"


def by_table(table: str):
    return next(source for source in sources() if source.table == table)


def encrypted(source) -> bool:
    return any(isinstance(f, EncryptedTextField) for f in source.model._meta.concrete_fields)


def python_digests(source, **filters):
    qs = source.model._base_manager.filter(**filters).order_by(source.pk)
    return [
        (values[source.pk], values[source.date_field], bytes.fromhex(digest))
        for values, digest in _hashed(source, qs)
    ]


def sql_only(source) -> dict[int, bytes | None]:
    """Every row's SQL digest as PostgreSQL computes it (no Python fallback)."""
    expression = sql_digest(source, connection)
    assert expression is not None
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "{source.model._meta.pk.column}", {expression} FROM "{source.table}"')
        return {row_id: None if digest is None else bytes(digest) for row_id, digest in cursor.fetchall()}


def assert_sql_equals_python(source, *, fallback: set[int] = frozenset()):
    """SQL digests equal Python's for every row; NULL exactly for the rows in ``fallback``."""
    expected = python_digests(source)
    assert expected
    computed = sql_only(source)
    assert {row_id for row_id, digest in computed.items() if digest is None} == set(fallback)
    assert {row_id: digest for row_id, _, digest in expected if row_id not in fallback} == {
        row_id: digest for row_id, digest in computed.items() if digest is not None
    }
    assert list(row_digests(source)) == expected


def raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def last_id(table: str) -> int:
    source = by_table(table)
    return source.model._base_manager.order_by(source.pk).values_list(source.pk, flat=True).last()


@pytest.fixture
def everything(db, system, operator):
    """At least one row in every sealed table, made by the app's models."""
    member_with_everything(system)
    member_with_everything(operator)
    now = timezone.now()
    SubmissionBatch.objects.create(bureau=Bureau.objects.order_by("code").first(), created_by=system)
    EnrolmentCode.objects.create(
        user=operator, code_hash="a" * 64, issued_by=system, expires_at=now + timedelta(hours=1)
    )
    m.MarketingExtract.objects.create(user=operator, judged_on=date(2025, 4, 1), purpose="dm", channel="post")
    for source in sources():
        if not source.model._base_manager.exists():
            tracked = source.model.instance_type
            copy_to_history(tracked._base_manager.all(), actor=system, reason="テスト")
    return [source for source in sources() if not source.model._base_manager.exists()]


def test_every_source_has_rows(everything):
    assert everything == []


def test_row_digests_equal_row_hash_for_every_source(everything):
    for source in sources():
        assert list(row_digests(source)) == python_digests(source), source.table


@pytest.mark.postgres
def test_sql_hashes_every_table_without_encrypted_columns(everything):
    sql_tables = []
    for source in sources():
        if encrypted(source):
            assert sql_digest(source, connection) is None, source.table
            continue
        sql_tables.append(source.table)
        assert_sql_equals_python(source)
    assert PARTNER in sql_tables and "members_accesslog" in sql_tables and AUTH in sql_tables
    assert len(sql_tables) == len(sources()) - 4  # affiliate, contract, financial declaration, identity


def test_filters_match_python(everything, system):
    member_with_everything(system)
    for table in (MEMBER, "members_historicalidentitydocument"):  # SQL and Python-only
        source = by_table(table)
        ids = [row[0] for row in python_digests(source)]
        assert len(ids) >= 3
        first, middle, last = ids[0], ids[1], ids[-1]
        assert list(row_digests(source, after=first)) == python_digests(source, **{f"{source.pk}__gt": first})
        assert list(row_digests(source, after=first, upto=middle)) == python_digests(
            source, **{f"{source.pk}__gt": first, f"{source.pk}__lte": middle}
        )
        assert list(row_digests(source, limit=2)) == python_digests(source)[:2]
        assert list(row_digests(source, limit=0)) == []
        assert list(row_digests(source, ids=[last, first, 10**9])) == python_digests(
            source, **{f"{source.pk}__in": [first, last]}
        )
        assert list(row_digests(source, ids=[last, first], after=first)) == python_digests(
            source, **{f"{source.pk}__in": [last]}
        )
        assert list(row_digests(source, ids=ids, limit=1)) == python_digests(source)[:1]


def test_sqlite_hashes_in_python(everything):
    if connection.vendor == "postgresql":
        pytest.skip("SQLite only")
    for source in sources():
        assert sql_digest(source, connection) is None
    assert list(row_digests(by_table(MEMBER))) == python_digests(by_table(MEMBER))


# --- Tricky values, written by raw SQL into history rows ------------------------------------

TEXTS = [
    "",
    'quote " and backslash \\ and slash /',
    "line\nbreak\r\ntab\tbell\x07 \b \f",
    "controls \x01 \x1f and DEL \x7f",
    "日本語のテキスト ｶﾀｶﾅ　全角空白",
    "emoji 😀👨‍👩‍👧 and U+2028 \u2028 U+2029 \u2029 U+0085 \x85",
    "'single' %s %(x)s {} []",
]


@pytest.mark.postgres
@pytest.mark.parametrize("text", TEXTS)
def test_text_values(db, system, text):
    member_with_everything(system)
    raw(
        f"UPDATE {MEMBER} SET family_name = %s, city = %s, history_change_reason = %s WHERE history_id = %s",
        [text, text[::-1], text, last_id(MEMBER)],
    )
    raw(f"UPDATE {PARTNER} SET last_error = %s, payload = %s::jsonb", [text, f'{{"k": {json_str(text)}}}'])
    assert_sql_equals_python(by_table(MEMBER))
    assert_sql_equals_python(by_table(PARTNER))


def json_str(text: str) -> str:
    import json

    return json.dumps(text)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "stamp",
    [
        "2025-01-02 03:04:05+00",
        "2025-01-02 03:04:05.12+00",
        "2025-01-02 03:04:05.000005+00",
        "2025-01-02 03:04:05.999999+09",
        "0099-12-31 23:59:59+00",
        "2025-07-01 00:00:00+09",
    ],
)
def test_timestamps(db, system, stamp):
    member_with_everything(system)
    raw(
        f"UPDATE {PARTNER} SET history_date = %s, occurred_at = %s, sent_at = NULL, next_attempt_at = %s",
        [stamp, stamp, stamp],
    )
    raw(f"UPDATE {MEMBER} SET birth_date = %s::timestamptz::date", [stamp])
    assert_sql_equals_python(by_table(PARTNER))
    assert_sql_equals_python(by_table(MEMBER))


@pytest.mark.postgres
def test_nulls(db, system):
    member_with_everything(system)
    raw(
        f"UPDATE {PARTNER} SET payload = 'null', sent_at = NULL, member_id = NULL, history_change_reason = NULL"
    )
    raw(f"UPDATE {AUTH} SET ip_address = NULL, succeeded = false")
    assert_sql_equals_python(by_table(PARTNER))
    assert_sql_equals_python(by_table(AUTH))


@pytest.mark.postgres
@pytest.mark.parametrize(
    "payload",
    [
        '{"b": 1, "a": 2, "A": 3, "é": 4, "日": 5, "aa": 6, "": 7, "😀": 8, "\\u0001": 9}',
        '{"nested": {"z": [1, {"y": null, "x": true}], "a": {}}, "list": [], "f": false}',
        '[1, -1, 0, -0, 12345678901234567890123, -98765432109876543210, "s", null, true, [[]]]',
        '"just a string \\n with \\"escapes\\" \\u001f"',
        "42",
        "null",
        "true",
        '{"e": 1e3, "E": -2E2}',
        '{"key with \\"quote\\" and \\\\": "v\\t", "\\u2028": "\\u0085"}',
    ],
)
def test_jsonb_values(db, system, payload):
    member_with_everything(system)
    raw(f"UPDATE {PARTNER} SET payload = %s::jsonb", [payload])
    assert_sql_equals_python(by_table(PARTNER))


@pytest.mark.postgres
@pytest.mark.parametrize("payload", ['{"a": 1.5}', '[1, {"b": [0.1]}]', "1.0", '{"x": 1e-3}', "2.50"])
def test_jsonb_fractions_fall_back_to_python(db, system, payload):
    member_with_everything(system)
    member_with_everything(system)
    target = last_id(PARTNER)
    raw(f"UPDATE {PARTNER} SET payload = %s::jsonb WHERE history_id = %s", [payload, target])
    assert_sql_equals_python(by_table(PARTNER), fallback={target})


@pytest.mark.postgres
@pytest.mark.parametrize("address", ["192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1", "10.0.0.0/8", "::1"])
def test_inet_values(db, system, address):
    member_with_everything(system)
    raw(f"UPDATE {AUTH} SET ip_address = %s::inet", [address])
    raw("UPDATE members_accesslog SET ip_address = %s::inet", [address])
    assert_sql_equals_python(by_table(AUTH))
    assert_sql_equals_python(by_table("members_accesslog"))


@pytest.mark.postgres
def test_uuid_booleans_and_large_integers(db, system):
    member_with_everything(system)
    raw(
        f"UPDATE {PARTNER} SET event_id = 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', attempts = 32767, "
        "member_id = 9223372036854775807"
    )
    raw(f"UPDATE {AUTH} SET succeeded = true")
    assert_sql_equals_python(by_table(PARTNER))
    assert_sql_equals_python(by_table(AUTH))


# Text PostgreSQL can hold: no NUL, no lone surrogates.
stored_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30) | stored_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(stored_text, children, max_size=4),
    max_leaves=12,
)


@pytest.mark.postgres
@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=stored_text, payload=json_values)
def test_any_text_and_json(db, system, text, payload):
    import json

    if not m.PartnerSyncEvent.history.exists():
        member_with_everything(system)
    raw(f"UPDATE {PARTNER} SET last_error = %s, payload = %s::jsonb", [text, json.dumps(payload)])
    assert_sql_equals_python(by_table(PARTNER))


# --- Cost --------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_no_query_per_row(db, system, monkeypatch):
    member = MemberFactory()
    ContactRecordFactory.create_batch(45, member=member)
    source = source_for(m.ContactRecord.history.model)
    expected = python_digests(source)
    assert len(expected) == 45
    monkeypatch.setattr(digests, "SQL_CHUNK", 20)
    with CaptureQueriesContext(connection) as queries:
        assert list(row_digests(source)) == expected
    # The catalog, then three chunks of at most 20 rows.
    assert len(queries) == 4
    assert all("sha256(" in query["sql"] for query in queries.captured_queries[1:])
    with CaptureQueriesContext(connection) as queries:
        assert list(row_digests(source, ids=[row[0] for row in expected])) == expected
    assert len(queries) == 4


@pytest.mark.postgres
def test_jsonb_table_no_query_per_row(db, system, monkeypatch):
    """A table with jsonb: PostgreSQL renders the other columns, Python the jsonb text; a row
    whose other columns cannot be rendered costs one Python query for its chunk."""
    for _ in range(15):
        member_with_everything(system)
    source = by_table(PARTNER)
    expected = python_digests(source)
    assert len(expected) == 15
    monkeypatch.setattr(digests, "SQL_CHUNK", 10)
    with CaptureQueriesContext(connection) as queries:
        assert list(row_digests(source)) == expected
    assert len(queries) == 3
    # A fraction is json's to render: no fallback query.
    raw(f"UPDATE {PARTNER} SET payload = '[1.5, {{\"a\": 2.0}}]' WHERE history_id = %s", [expected[3][0]])
    expected = python_digests(source)
    with CaptureQueriesContext(connection) as queries:
        assert list(row_digests(source)) == expected
    assert len(queries) == 3
    # An infinite date renders as NULL in SQL; the Python fallback cannot read it either.
    raw(f"UPDATE {PARTNER} SET next_attempt_at = 'infinity' WHERE history_id = %s", [expected[4][0]])
    with pytest.raises(DataError), CaptureQueriesContext(connection) as queries:
        list(row_digests(source))
    assert len(queries) == 3 and " IN (" in queries.captured_queries[-1]["sql"]
