"""The operator home (業務ホーム, ``/``): my tickets by deadline, unassigned, notifications, one search box."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bureaus.models import Bureau, RecordType, Submission, SubmissionStatus
from consentoffice.models import Notification
from members.models import AccessLog, PartnerSyncEvent, SyncStatus
from requests import rules
from requests.reminders import send_deadline_reminders
from tests.factories import AffiliateFactory, ContractFactory, MemberFactory
from tests.ui import assert_for_role_users_only, login, ticket, unassigned

pytestmark = pytest.mark.django_db

Kind = rules.Kind
HOME = "/"


def rows(html: str, section_id: str) -> list[tuple[str, str]]:
    """(ticket number, due state) of the rows in the table under the heading ``section_id``."""
    part = html.split(f'id="{section_id}"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'data-ticket="([^"]+)" data-due-state="([a-z_]+)"', part)


def days_ago(days: float):
    return timezone.now() - timedelta(days=days)


def test_only_role_users_may_open_the_home(client, nobody):
    assert_for_role_users_only(client, HOME, nobody)


def test_my_tickets_come_nearest_deadline_first_with_overdue_and_due_soon_marked(client, operator):
    member = MemberFactory()
    fresh = ticket(Kind.DISCLOSURE, member=member, actor=operator)
    overdue = ticket(Kind.CORRECTION, member=member, actor=operator, received_at=days_ago(20))
    due_soon = ticket(Kind.DELETION, member=member, actor=operator, received_at=days_ago(12))
    login(client, operator)

    html = client.get(HOME).content.decode()

    assert rows(html, "my-tickets-heading") == [
        (overdue.number, "overdue"),
        (due_soon.number, "due_soon"),
        (fresh.number, "ok"),
    ]


def test_due_dates_are_written_japanese_style(client, operator):
    opened = ticket(Kind.DISCLOSURE, member=MemberFactory(), actor=operator)
    login(client, operator)
    html = client.get(HOME).content.decode()
    due = timezone.localtime(opened.due_at).date()
    assert f"{due.year}年{due.month}月{due.day}日" in html


def test_only_my_open_tickets_are_mine_and_unassigned_ones_are_listed_apart(client, operator, operator2):
    member = MemberFactory()
    mine = ticket(Kind.DISCLOSURE, member=member, actor=operator)
    theirs = ticket(Kind.CORRECTION, member=member, actor=operator2)
    nobodys = unassigned(Kind.DELETION, member=member, actor=operator2, received_at=days_ago(15))
    login(client, operator)

    html = client.get(HOME).content.decode()

    assert [number for number, _ in rows(html, "my-tickets-heading")] == [mine.number]
    assert rows(html, "unassigned-heading") == [(nobodys.number, "overdue")]
    assert theirs.number not in html


def test_a_closed_ticket_leaves_the_home(client, operator):
    from requests import services

    inquiry = ticket(Kind.INQUIRY, member=MemberFactory(), actor=operator)
    services.close_ticket(inquiry, actor=operator)
    login(client, operator)
    assert inquiry.number not in client.get(HOME).content.decode()


def test_counts_cover_tickets_beyond_the_listed_ones(client, operator):
    from consentoffice.home import selectors as home_selectors

    member = MemberFactory()
    for _ in range(home_selectors.HOME_LIST_LIMIT + 2):
        ticket(Kind.INQUIRY, member=member, actor=operator)
    login(client, operator)
    response = client.get(HOME)
    assert len(rows(response.content.decode(), "my-tickets-heading")) == home_selectors.HOME_LIST_LIMIT
    assert response.context["counts"]["mine"] == home_selectors.HOME_LIST_LIMIT + 2
    assert reverse("admin:requests_ticket_queue", args=["mine"]) in response.content.decode()


# --- the search box ---------------------------------------------------------------------------


@pytest.fixture
def hanako():
    MemberFactory(
        family_name="佐藤", given_name="一郎", family_name_kana="サトウ", given_name_kana="イチロウ"
    )
    return MemberFactory(
        member_no="1234567890",
        family_name="髙橋",
        given_name="花子",
        family_name_kana="タカハシ",
        given_name_kana="ハナコ",
        phone="0359961111",
        email="hanako.takahashi@example.jp",
    )


@pytest.mark.parametrize(
    "term",
    [
        "1234567890",  # member number
        "１２３４５６７８９０",  # member number typed full-width
        "03-5996-1111",  # phone with hyphens
        "０３（５９９６）１１１１",  # phone full-width with brackets
        "+81 3 5996 1111",  # phone in international form
        "たかはし",  # kana typed in hiragana
        "ﾀｶﾊｼ ﾊﾅｺ",  # half-width kana with a space
        "髙橋花子",  # kanji name
        "髙橋 花子",  # kanji name with a space
        "Hanako.Takahashi@example.jp",  # e-mail, any case
    ],
)
def test_one_search_box_finds_a_member_by_any_identifier(client, operator, hanako, term):
    login(client, operator)
    response = client.get(HOME, {"q": term})
    results = response.context["search_results"]
    assert [r["member"].pk for r in results] == [hanako.pk]
    assert reverse("member_workspace", args=[hanako.member_no]) in response.content.decode()


def test_a_search_is_logged_by_kind_and_hits_never_by_the_term(client, operator, hanako):
    login(client, operator)
    client.get(HOME, {"q": "たかはし"})
    log = AccessLog.objects.get(user=operator, action="search")
    assert log.member is None
    assert log.detail == "kind=kana hits=1 via=home"
    assert "たかはし" not in log.path and "q=" not in log.path


def test_opening_the_home_without_a_term_logs_no_search(client, operator, hanako):
    login(client, operator)
    response = client.get(HOME)
    assert response.context["search_done"] is False
    assert not AccessLog.objects.filter(action="search").exists()


def test_a_search_without_hits_says_so(client, operator, hanako):
    login(client, operator)
    response = client.get(HOME, {"q": "すずき"})
    assert response.context["search_results"] == []
    assert "該当する会員はいません" in response.content.decode()
    assert AccessLog.objects.get(action="search").detail == "kind=kana hits=0 via=home"


def test_a_broad_search_shows_twenty_and_asks_for_more_detail(client, operator):
    for _ in range(22):
        MemberFactory(family_name_kana="ヤマダ")
    login(client, operator)
    response = client.get(HOME, {"q": "やまだ"})
    assert len(response.context["search_results"]) == 20
    assert response.context["search_more"] is True
    assert AccessLog.objects.get(action="search").detail == "kind=kana hits=20+ via=home"


def test_the_search_box_has_a_label(client, operator):
    login(client, operator)
    html = client.get(HOME).content.decode()
    field_id = re.search(r'<input type="search" name="q"[^>]* id="([^"]+)"', html).group(1)
    assert f'<label for="{field_id}">会員を検索</label>' in html


# --- notifications and alerts -----------------------------------------------------------------


def test_deadline_reminders_show_as_notifications_and_can_be_marked_read(client, operator, operator2):
    due_soon = ticket(Kind.DISCLOSURE, member=MemberFactory(), actor=operator, received_at=days_ago(12))
    send_deadline_reminders()
    Notification.objects.create(user=operator2, kind="due_soon", title="someone else's")
    login(client, operator)

    html = client.get(HOME).content.decode()
    assert f"期限間近: {due_soon.number}" in html

    note = Notification.objects.get(user=operator)
    response = client.post(reverse("notifications_read"), {"id": note.pk}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["通知 1 件を既読にしました。"]
    note.refresh_from_db()
    assert note.read_at is not None
    assert f"期限間近: {due_soon.number}" not in response.content.decode()
    assert Notification.objects.get(user=operator2).read_at is None


def test_reminders_of_a_ticket_are_put_away_for_everyone_when_it_closes(
    client, operator, supervisor, supervisor2
):
    from requests import services

    member = MemberFactory()
    done = ticket(Kind.MARKETING_STOP, member=member, actor=operator, received_at=days_ago(20))
    still_open = ticket(Kind.DISCLOSURE, member=member, actor=operator, received_at=days_ago(20))
    send_deadline_reminders()
    about_done = Notification.objects.filter(subject=f"requests.ticket:{done.pk}")
    about_open = Notification.objects.filter(subject=f"requests.ticket:{still_open.pk}")
    # Overdue and escalation notices went to the operator and the supervisors.
    assert {n.user_id for n in about_done} >= {operator.pk, supervisor.pk}
    assert about_done.filter(read_at__isnull=True).count() == about_done.count() > 0

    services.verify_identity(done, actor=operator, method="driver_license")
    services.submit_for_approval(done, outcome=rules.Outcome.FULFILLED, actor=operator)
    services.approve(done, actor=supervisor2)

    # What is left unread about it is the one notice telling the preparer it was approved.
    left = about_done.filter(read_at__isnull=True)
    assert [(n.user_id, n.kind) for n in left] == [(operator.pk, Notification.Kind.APPROVED)]
    assert about_open.exists() and not about_open.filter(read_at__isnull=False).exists()
    login(client, operator)
    notices = client.get(HOME).content.decode().split('id="notifications"', 1)[1].split("</section>", 1)[0]
    assert f"期限超過: {done.number}" not in notices
    assert f"受付票 {done.number} が承認されました" in notices
    assert f"期限超過: {still_open.number}" in notices


def test_marking_all_read_touches_only_my_notifications(client, operator, operator2):
    for n in range(3):
        Notification.objects.create(user=operator, kind="overdue", title=f"n{n}")
    theirs = Notification.objects.create(user=operator2, kind="overdue", title="theirs")
    login(client, operator)

    response = client.post(reverse("notifications_read"), follow=True)
    assert [str(m) for m in response.context["messages"]] == ["通知 3 件を既読にしました。"]
    # Someone else's id changes nothing and says so.
    response = client.post(reverse("notifications_read"), {"id": theirs.pk}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["既読にする通知はありませんでした。"]
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_marking_read_needs_a_post(client, operator):
    login(client, operator)
    assert client.get(reverse("notifications_read")).status_code == 405


def _dead_event_and_reject(actor):
    member = MemberFactory()
    PartnerSyncEvent.objects.create(
        member=member, affiliate=AffiliateFactory(), payload={}, status=SyncStatus.DEAD
    )
    contract = ContractFactory(member=member)
    Submission.objects.create(
        bureau=Bureau.objects.get(code="CIC"),
        member=member,
        contract=contract,
        record_type=RecordType.CONTRACT,
        event_date=timezone.localdate(),
        status=SubmissionStatus.REJECTED,
    )


def test_bureau_rejects_show_to_operators_and_dead_sync_events_only_to_supervisors(
    client, operator, supervisor
):
    _dead_event_and_reject(operator)
    login(client, operator)
    response = client.get(HOME)
    assert response.context["alerts"] == {"bureau_rejects": 1, "sync_dead": None}
    assert "信用情報機関から返却された登録 1件" in response.content.decode()

    login(client, supervisor)
    response = client.get(HOME)
    assert response.context["alerts"] == {"bureau_rejects": 1, "sync_dead": 1}
    assert "提携先へ送信できなかった連携 1件" in response.content.decode()


# --- cost -------------------------------------------------------------------------------------


def _home_queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(HOME, params).status_code == 200
    return len(ctx.captured_queries)


def test_the_home_costs_the_same_queries_with_three_tickets_or_thirty(
    client, operator, operator2, hanako, django_assert_max_num_queries
):
    Notification.objects.create(user=operator, kind="overdue", title="n")
    member = MemberFactory()
    for n in range(3):
        ticket(Kind.DISCLOSURE, member=member, actor=operator, received_at=days_ago(n))
        unassigned(Kind.INQUIRY, member=member, actor=operator2)
    login(client, operator)
    few = _home_queries(client, q="たかはし")

    for n in range(27):
        ticket(Kind.CORRECTION, member=MemberFactory(), actor=operator, received_at=days_ago(n % 20))
        unassigned(Kind.INQUIRY, member=MemberFactory(), actor=operator2)
        Notification.objects.create(user=operator, kind="overdue", title=f"n{n}")
    many = _home_queries(client, q="たかはし")

    assert few == many
    with django_assert_max_num_queries(14):
        client.get(HOME, {"q": "03-5996-1111"})
