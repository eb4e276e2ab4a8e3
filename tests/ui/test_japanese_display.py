"""Japanese everywhere the Japanese UI shows: access-log details, people's names (姓 名), the system
user, and bureau and partner-sync records as labelled fields."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from bureaus import services as bureau_services
from bureaus.models import Submission
from consentoffice.core.history import system_user
from consentoffice.core.people import display_name
from members import access_details, services
from members.display import describe_sync_error
from members.models import AccessAction, AccessLog, PartnerSyncEvent
from requests import rules
from requests import services as request_services
from tests.factories import AffiliateFactory, ContractFactory, MemberFactory
from tests.ui import login

pytestmark = pytest.mark.django_db

# Details as the log has stored them (issue 16 found these in the Japanese UI), and what is shown.
STORED = {
    "audit timeline": "監査: 会員別タイムライン",
    "audit history csv": "監査: 変更履歴のCSV出力",
    "audit access log": "監査: アクセス記録（会員で絞り込み）",
    "audit members.member 42": "監査: 変更内容（会員、履歴ID 42）",
    "kind=kana hits=3 via=list": "検索: フリガナ、3件（会員一覧）",
    "kind=member_no hits=20+ via=home": "検索: 会員番号、20件以上（業務ホーム）",
    "kind=phone_prefix hits=0 via=autocomplete": "検索: 電話番号（前方一致）、0件（会員の選択）",
    "disclosure package T20261207-0001": "開示パッケージ T20261207-0001",
    "reply letter T20261207-0001": "回答書 T20261207-0001",
    "csv sensitive=masked": "CSV出力（暗号化項目はマスク）",
    "bureau batch 7 (120)": "信用情報機関への登録ファイル 7（120件）",
    "marketing extract 3 purpose=marketing_own channel=post": "営業リスト抽出 3（当社の営業案内（第2条(1)①）、郵送）",
    "本人確認書類の番号": "本人確認書類の番号",
}


@pytest.mark.parametrize(("stored", "shown"), STORED.items())
def test_access_log_details_are_shown_in_japanese(stored, shown):
    assert access_details.describe(stored) == shown


def test_the_audit_pages_and_the_access_log_table_show_details_in_japanese(client, supervisor):
    member = MemberFactory()
    for stored in STORED:
        services.record_access(user=supervisor, action=AccessAction.VIEW, member=member, detail=stored)
    login(client, supervisor)
    for url in (
        reverse("audit:access"),
        reverse("audit:timeline", args=[member.member_no]),
        reverse("admin:members_accesslog_changelist"),
    ):
        html = client.get(url).content.decode()
        for stored, shown in STORED.items():
            if stored != shown:
                assert shown in html, (url, shown)
                assert f">{stored}<" not in html, (url, stored)
    log = AccessLog.objects.filter(detail="kind=kana hits=3 via=list").get()
    page = client.get(reverse("admin:members_accesslog_change", args=[log.pk])).content.decode()
    assert "検索: フリガナ、3件（会員一覧）" in page and "kind=kana" not in page


# --- people ---------------------------------------------------------------------------------


@pytest.fixture
def yamamoto(operator):
    operator.last_name, operator.first_name = "山本", "直子"
    operator.save()
    return operator


def test_a_person_is_named_family_name_first_and_the_system_in_japanese(db, operator, yamamoto):
    nameless = get_user_model().objects.create_user("suzuki")
    assert display_name(yamamoto) == str(yamamoto) == yamamoto.get_full_name() == "山本 直子"
    assert display_name(nameless) == "suzuki"
    assert display_name(system_user()) == str(system_user()) == "システム"


def test_a_name_needs_only_the_fields_people_names(db, yamamoto, django_assert_num_queries):
    """Lists that load only some of a user's columns load ``NAME_FIELDS``; naming must not need more."""
    from consentoffice.core.people import NAME_FIELDS

    users = get_user_model().objects.only(*NAME_FIELDS)
    loaded, system = users.get(pk=yamamoto.pk), users.get(pk=system_user().pk)
    with django_assert_num_queries(0):
        assert (display_name(loaded), display_name(system)) == ("山本 直子", "システム")


def test_pages_name_people_family_name_first(client, yamamoto):
    member = MemberFactory()
    ticket = request_services.open_ticket(
        kind=rules.Kind.DISCLOSURE, member=member, channel=rules.Channel.PHONE, actor=yamamoto
    )
    login(client, yamamoto)
    for url in (
        "/",
        reverse("admin:requests_ticket_queue", args=["mine"]),
        reverse("admin:requests_ticket_change", args=[ticket.pk]),
        reverse("admin:requests_ticket_history", args=[ticket.pk]),
    ):
        html = client.get(url).content.decode()
        assert "山本 直子" in html, url
        assert "直子 山本" not in html and ">operator1<" not in html, url
    assert "ようこそ <strong>山本 直子</strong>" in client.get("/").content.decode()


def test_what_the_system_did_is_shown_as_done_by_the_system(client, supervisor):
    contract = ContractFactory(contracted_on=date(2024, 1, 20))
    bureau_services.record_contract_event(actor=system_user(), contract=contract, record_type="contract")
    batch = bureau_services.build_batches(actor=system_user())[0]
    login(client, supervisor)
    html = client.get(reverse("admin:bureaus_submissionbatch_change", args=[batch.pk])).content.decode()
    assert "システム" in html and ">system<" not in html
    timeline = client.get(reverse("audit:timeline", args=[contract.member.member_no])).content.decode()
    assert "<td>システム</td>" in timeline and ">system<" not in timeline


# --- bureau and partner-sync records --------------------------------------------------------


def test_a_registration_shows_its_contents_as_labelled_fields(client, supervisor):
    contract = ContractFactory(contracted_on=date(2024, 1, 20))
    bureau_services.record_contract_event(actor=system_user(), contract=contract, record_type="contract")
    submission = Submission.objects.filter(contract=contract).first()
    login(client, supervisor)
    html = client.get(reverse("admin:bureaus_submission_change", args=[submission.pk])).content.decode()
    main, raw = html.split("<details>", 1)
    for label in ("本人を特定する情報", "生年月日", "セイ", "契約番号", contract.contract_no):
        assert label in main, label
    assert "identity" not in main and "&quot;identity&quot;" in raw  # the stored JSON one click away


def test_a_partner_event_shows_its_changes_labelled_and_its_id_folded(client, supervisor, operator):
    affiliate = AffiliateFactory()
    member = MemberFactory()
    ContractFactory(member=member, affiliate=affiliate)
    services.update_member(member, actor=operator, reason="住所変更の届出", phone="0312345678")
    event = PartnerSyncEvent.objects.get(member=member)
    login(client, supervisor)
    html = client.get(reverse("admin:members_partnersyncevent_change", args=[event.pk])).content.decode()
    title = html.split("<title>", 1)[1].split("</title>", 1)[0]
    assert str(event.event_id) not in title and "当社→提携先" in title
    main = html.split("<details>", 1)[0]
    assert "電話番号" in main and "0312345678" in main and "changes" not in main
    assert str(event.event_id) in html  # still there, folded under 提携先との照合用


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("HTTP 500", "提携先の応答 HTTP 500"),
        ("timeout", "提携先が時間内に応答しませんでした"),
        ("transport error: ConnectError", "通信エラー（ConnectError）"),
        ("provision stopped", "第三者提供の停止により送信を取りやめました"),
        ("something new", "something new"),
    ],
)
def test_why_a_partner_delivery_failed_is_said_in_japanese(stored, shown):
    assert describe_sync_error(stored) == shown
