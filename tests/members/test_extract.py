"""Marketing extract (営業リスト抽出; clause Art. 2(1), 7; DESIGN "Use of data"): the privacy officer
downloads exactly the members ``usable_members`` allows, with the channel's contact items only,
recorded (count, SHA-256 of the bytes sent) and logged per member."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from members import extracts, selectors
from members.models import (
    AccessAction,
    AccessLog,
    Consent,
    ContractStatus,
    MarketingExtract,
    MemberStatus,
    Purpose,
)
from tests.conftest import Client
from tests.factories import ContractFactory, MemberFactory, current_version

ALL_CONSENTS = ("credit", "bureau", "marketing_own", "marketing_partner", "research")
NO_MARKETING = ("credit", "bureau")
YESTERDAY = timezone.localdate() - timedelta(days=1)
PAGE = "/members/extract/"
DOWNLOAD = "/members/extract/download/"

# name -> (contracts as (status, ended_on), consents granted, member fields)
CASES = {
    "consented": ([("formed", None)], ALL_CONSENTS, {}),
    "refused": ([("formed", None)], NO_MARKETING, {}),
    "research_only": ([("formed", None)], (*NO_MARKETING, "research"), {}),
    "declined_only": ([("declined", None)], ALL_CONSENTS, {}),
    "ended": ([("ended", YESTERDAY)], ALL_CONSENTS, {}),
    "declined_but_another_runs": ([("declined", None), ("formed", None)], ALL_CONSENTS, {}),
    "anonymized": ([("formed", None)], ALL_CONSENTS, {"status": MemberStatus.ANONYMIZED}),
    "no_email": ([("formed", None)], ALL_CONSENTS, {"email": ""}),
    "landline": ([("formed", None)], ALL_CONSENTS, {"phone": "0359961111"}),
    "toll_free": ([("formed", None)], ALL_CONSENTS, {"phone": "08001234567"}),
    "provision_stopped": ([("formed", None)], ALL_CONSENTS, {"provision_stopped": True}),
    "applicant_before_any_contract": ([], ALL_CONSENTS, {"status": MemberStatus.APPLICANT}),
}
MARKETING_OK = {
    "consented",
    "declined_but_another_runs",
    "no_email",
    "landline",
    "toll_free",
    "provision_stopped",
    "applicant_before_any_contract",
}
# purpose, channel -> the cases the file holds
EXPECTED = [
    ("marketing_own", "post", MARKETING_OK),
    ("marketing_own", "phone", MARKETING_OK),
    ("marketing_own", "email", MARKETING_OK - {"no_email"}),
    ("marketing_own", "sms", MARKETING_OK - {"landline", "toll_free"}),
    ("marketing_partner", "email", MARKETING_OK - {"no_email"}),
    ("research", "post", MARKETING_OK | {"research_only"}),
    ("research", "sms", (MARKETING_OK | {"research_only"}) - {"landline", "toll_free"}),
]
# channel -> the columns after the member number and the name
CHANNEL_COLUMNS = {
    "post": ["郵便番号", "都道府県", "市区町村", "番地・建物名"],
    "phone": ["電話番号"],
    "sms": ["電話番号"],
    "email": ["メールアドレス"],
}
NAME_HEADER = ["会員番号", "姓", "名", "セイ", "メイ"]


def _member(contracts, granted, fields):
    member = MemberFactory(**fields)
    for status, ended_on in contracts:
        ContractFactory(
            member=member,
            status=status,
            contracted_on=None if status == ContractStatus.DECLINED else date(2024, 1, 20),
            ended_on=ended_on,
            decline_reason="credit_judgement" if status == ContractStatus.DECLINED else "",
        )
    version = current_version()
    for purpose in Purpose.objects.all():
        Consent.objects.create(
            member=member,
            purpose=purpose,
            granted=purpose.code in granted,
            version=version,
            source="application",
        )
    return member


@pytest.fixture
def cases(db):
    """case name -> member, one member per row of CASES."""
    return {name: _member(*spec) for name, spec in CASES.items()}


@pytest.fixture
def officer_client(privacy_officer):
    client = Client()
    client.force_login(privacy_officer)
    return client


def _download(client, purpose, channel):
    response = client.post(DOWNLOAD, {"purpose": purpose, "channel": channel})
    assert response.status_code == 200, response.status_code
    body = b"".join(response.streaming_content)
    return response, body


def _rows(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _names(cases, numbers) -> set[str]:
    by_no = {member.member_no: name for name, member in cases.items()}
    return {by_no[no] for no in numbers}


# --- exactly the members the one rule allows ------------------------------------------------


@pytest.mark.parametrize(("purpose", "channel", "expected"), EXPECTED)
def test_the_csv_holds_exactly_the_members_the_use_rule_allows(
    officer_client, cases, purpose, channel, expected
):
    _response, body = _download(officer_client, purpose, channel)
    numbers = [row[0] for row in _rows(body)[1:]]

    assert _names(cases, numbers) == expected
    assert len(numbers) == len(set(numbers))
    # The same set as the rule itself, narrowed by the channel only.
    usable = set(selectors.usable_members(purpose).values_list("member_no", flat=True))
    assert set(numbers) <= usable
    assert set(numbers) == set(extracts.extract_members(purpose, channel).values_list("member_no", flat=True))


@pytest.mark.parametrize(("purpose", "channel", "expected"), EXPECTED)
def test_the_page_shows_the_count_before_the_download(officer_client, cases, purpose, channel, expected):
    response = officer_client.get(PAGE, {"purpose": purpose, "channel": channel})

    assert response.status_code == 200
    assert response.context["count"] == len(expected)
    page = response.content.decode()
    assert 'id="extract-count"' in page and f"<strong>{len(expected)}</strong>" in page
    assert 'id="extract-download"' in page
    assert not MarketingExtract.objects.exists()  # counting draws nothing


def test_the_page_counts_with_one_query_whatever_the_members(
    officer_client, cases, django_assert_max_num_queries
):
    officer_client.get(PAGE, {"purpose": "marketing_own", "channel": "post"})  # warm the session
    with django_assert_max_num_queries(12) as captured:
        officer_client.get(PAGE, {"purpose": "marketing_own", "channel": "post"})
    assert sum("COUNT(" in q["sql"] for q in captured.captured_queries) == 1


# --- only the channel's contact items --------------------------------------------------------


@pytest.mark.parametrize("channel", sorted(CHANNEL_COLUMNS))
def test_the_file_carries_the_contact_items_of_its_channel_only(officer_client, cases, channel):
    member = cases["consented"]
    _response, body = _download(officer_client, "marketing_own", channel)
    header, *rows = _rows(body)

    assert header == NAME_HEADER + CHANNEL_COLUMNS[channel]
    [row] = [row for row in rows if row[0] == member.member_no]
    assert row[:5] == [member.member_no, member.family_name, member.given_name, "ヤマダ", "タロウ"]
    text = body.decode("utf-8-sig")
    contact = {
        "post": [member.postal_code_display, member.city, member.address_line],
        "phone": [member.phone_display],
        "sms": [member.phone_display],
        "email": [member.email],
    }
    for item in contact[channel]:
        assert item in row
    for other, items in contact.items():
        if CHANNEL_COLUMNS[other] != CHANNEL_COLUMNS[channel]:
            for item in items:
                if item not in contact[channel]:
                    assert item not in text, (channel, other)
    assert member.birth_date.isoformat() not in text


# --- recorded and logged ----------------------------------------------------------------------


def test_the_recorded_count_and_sha256_match_the_bytes_received(officer_client, cases, privacy_officer):
    _response, body = _download(officer_client, "marketing_own", "post")

    extract = MarketingExtract.objects.get()
    assert extract.finished and extract.finished_at is not None
    assert extract.sha256 == hashlib.sha256(body).hexdigest()
    assert extract.count == len(_rows(body)) - 1 == len(MARKETING_OK)
    assert extract.logged == extract.count
    assert (extract.user, extract.purpose, extract.channel) == (privacy_officer, "marketing_own", "post")
    history = list(extract.history.order_by("history_id"))
    assert [h.history_type for h in history] == ["+", "~"]
    assert all(h.history_user == privacy_officer and h.history_change_reason for h in history)


def test_one_access_log_row_per_extracted_member(officer_client, cases, privacy_officer):
    _response, body = _download(officer_client, "marketing_own", "email")
    numbers = {row[0] for row in _rows(body)[1:]}
    extract = MarketingExtract.objects.get()

    logs = AccessLog.objects.filter(action=AccessAction.EXPORT)
    assert sorted(logs.values_list("member__member_no", flat=True)) == sorted(numbers)
    assert set(logs.values_list("user", "path", "detail")) == {
        (privacy_officer.pk, DOWNLOAD, extract.log_detail)
    }
    assert set(logs.values_list("at", flat=True)) == {extract.started_at}
    assert logs.count() == extract.count == extract.logged


def test_members_are_logged_with_one_insert_select_whatever_their_number(privacy_officer, cases):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        extract, logged = extracts.start_extract(actor=privacy_officer, purpose="research", channel="post")

    [insert] = [q["sql"] for q in captured.captured_queries if "members_accesslog" in q["sql"]]
    assert insert.startswith('INSERT INTO "members_accesslog"') and "SELECT" in insert
    assert logged == AccessLog.objects.filter(detail=extract.log_detail).count() == len(MARKETING_OK) + 1


def test_a_download_broken_off_stays_unfinished_and_its_members_stay_logged(privacy_officer, cases):
    extract, logged = extracts.start_extract(actor=privacy_officer, purpose="marketing_own", channel="post")
    stream = extracts.stream_extract(extract, actor=privacy_officer, logged=logged)
    first = next(stream)
    stream.close()  # what the server does when the browser goes away

    assert first.startswith("\ufeff".encode())
    extract.refresh_from_db()
    assert not extract.finished and extract.sha256 == "" and extract.count == 0
    assert AccessLog.objects.filter(detail=extract.log_detail).count() == logged == len(MARKETING_OK)


def test_a_finished_extract_is_never_changed(privacy_officer, cases):
    extract, logged = extracts.start_extract(actor=privacy_officer, purpose="research", channel="email")
    body = b"".join(extracts.stream_extract(extract, actor=privacy_officer, logged=logged))
    with pytest.raises(ValidationError):
        extracts.finish_extract(extract, actor=privacy_officer, count=0, logged=0, sha256="0" * 64)
    extract.refresh_from_db()
    assert extract.sha256 == hashlib.sha256(body).hexdigest()


def test_formula_cells_are_guarded(officer_client, db):
    member = _member(
        [("formed", None)],
        ALL_CONSENTS,
        {"family_name": "=HYPERLINK(1)", "city": "+81市", "email": "-x@example.jp"},
    )
    _response, body = _download(officer_client, "marketing_own", "post")
    [row] = [row for row in _rows(body)[1:] if row[0] == member.member_no]
    assert row[1] == "'=HYPERLINK(1)" and row[7] == "'+81市"
    _response, body = _download(officer_client, "marketing_own", "email")
    [row] = [row for row in _rows(body)[1:] if row[0] == member.member_no]
    assert row[5] == "'-x@example.jp"


# --- query count constant in the number of members --------------------------------------------


def test_the_download_query_count_does_not_grow_with_the_members(
    officer_client, db, django_assert_max_num_queries
):
    _member([("formed", None)], ALL_CONSENTS, {})
    _download(officer_client, "marketing_own", "post")  # warm the session and caches
    counts = []
    for more in (1, 40):
        for _ in range(more):
            _member([("formed", None)], ALL_CONSENTS, {})
        with django_assert_max_num_queries(36) as captured:
            _download(officer_client, "marketing_own", "post")
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


# --- roles, POST, CSRF, bad input --------------------------------------------------------------


@pytest.mark.parametrize("role", ["operator", "supervisor"])
def test_operators_and_supervisors_get_403_and_nothing_is_recorded(request, cases, role):
    client = Client()
    client.force_login(request.getfixturevalue(role))

    assert client.get(PAGE, {"purpose": "marketing_own", "channel": "post"}).status_code == 403
    assert client.post(DOWNLOAD, {"purpose": "marketing_own", "channel": "post"}).status_code == 403
    assert not MarketingExtract.objects.exists()
    assert not AccessLog.objects.exists()
    page = client.get(reverse("home")).content.decode()
    assert 'id="link-extract"' not in page


@pytest.mark.parametrize("role", ["operator", "supervisor"])
def test_the_services_refuse_a_role_without_the_permission(request, cases, role):
    actor = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        extracts.start_extract(actor=actor, purpose="marketing_own", channel="post")
    with pytest.raises(PermissionDenied):
        extracts.count_extract(actor=actor, purpose="marketing_own", channel="post")
    assert not MarketingExtract.objects.exists() and not AccessLog.objects.exists()


def test_the_privacy_officer_finds_the_page_in_the_header(officer_client):
    page = officer_client.get(reverse("home")).content.decode()
    assert 'id="link-extract"' in page and f'href="{PAGE}"' in page


def test_the_download_is_post_only_and_needs_the_csrf_token(privacy_officer, cases):
    client = Client(enforce_csrf_checks=True)
    client.force_login(privacy_officer)
    data = {"purpose": "marketing_own", "channel": "post"}

    assert client.get(DOWNLOAD, data).status_code == 405
    assert client.post(DOWNLOAD, data).status_code == 403
    assert not MarketingExtract.objects.exists() and not AccessLog.objects.exists()

    page = client.get(PAGE, data)
    token = page.context["csrf_token"]
    response = client.post(DOWNLOAD, {**data, "csrfmiddlewaretoken": str(token)})
    assert response.status_code == 200
    b"".join(response.streaming_content)
    assert MarketingExtract.objects.get().finished


@pytest.mark.parametrize(
    "data", [{"purpose": "credit", "channel": "post"}, {"purpose": "research", "channel": "fax"}, {}]
)
def test_a_bad_purpose_or_channel_is_refused_in_japanese_and_nothing_is_saved(
    officer_client, privacy_officer, cases, data
):
    response = officer_client.post(DOWNLOAD, data)

    assert response.status_code == 400
    assert "extract-errors" in response.content.decode()
    assert not MarketingExtract.objects.exists() and not AccessLog.objects.exists()
    with pytest.raises(ValidationError) as caught:
        extracts.start_extract(
            actor=privacy_officer, purpose=data.get("purpose", ""), channel=data.get("channel", "")
        )
    assert any("選んでください" in message for message in caught.value.messages)
    assert not MarketingExtract.objects.exists()
