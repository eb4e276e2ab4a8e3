"""The operators' ticket workplace in the admin: next-step buttons, four eyes, stale pages, queues."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from requests import rules, services
from requests.models import CorrectionItem, Ticket
from tests.conftest import Client  # force_login also passes the second factor
from tests.factories import MemberFactory
from tests.requests import open_request, verified_request

Kind, Status, Outcome = rules.Kind, rules.Status, rules.Outcome

STALE = "他の担当者が先に更新しました"
CHANGELIST = "admin:requests_ticket_changelist"


def login(client, user) -> None:
    """Role users work in the admin, so they are staff accounts (as seed_demo creates them)."""
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    client.force_login(user)


def change_url(ticket: Ticket) -> str:
    return reverse("admin:requests_ticket_change", args=[ticket.pk])


def steps_on_page(client, ticket: Ticket) -> set[str]:
    response = client.get(change_url(ticket))
    assert response.status_code == 200
    return set(re.findall(r'data-step="([a-z_]+)"', response.content.decode()))


def post_step(client, ticket: Ticket, step: str, *, version: int | None = None, **data):
    """Press a step button with the version the page showed (the current one unless given)."""
    if version is None:
        version = Ticket.objects.get(pk=ticket.pk).version
    response = client.post(
        reverse("admin:requests_ticket_step", args=[ticket.pk, step]),
        {"version": version, **data},
        follow=True,
    )
    assert response.redirect_chain == [(change_url(ticket), 302)]
    return [str(m) for m in response.context["messages"]]


def pending_marketing_stop(*, member, preparer) -> Ticket:
    ticket = verified_request(Kind.MARKETING_STOP, member=member, actor=preparer)
    services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=preparer)
    return ticket


def days_ago(days: float):
    return timezone.now() - timedelta(days=days)


# --- the stage guide ---------------------------------------------------------------------------


STAGES = (Status.RECEIVED, Status.VERIFYING, Status.IN_PROGRESS, Status.PENDING_APPROVAL, Status.CLOSED)


@pytest.mark.parametrize(
    ("kind", "status"),
    # Inquiries and opinions close without approval: they are never pending approval.
    [(kind, status) for kind in sorted(rules.REQUEST_KINDS) for status in STAGES]
    + [
        (kind, status)
        for kind in sorted(rules.CONVERSATION_KINDS)
        for status in STAGES
        if status != Status.PENDING_APPROVAL
    ],
)
def test_the_guide_marks_exactly_the_current_stage_in_order_and_says_what_to_do(kind, status):
    stages, hint = rules.stage_guide(kind, status)
    states = [state for _status, _label, state in stages]
    assert states.count("current") == 1
    current = states.index("current")
    assert stages[current][0] == status
    assert states == ["done"] * current + ["current"] + ["todo"] * (len(states) - current - 1)
    assert stages[0][0] == Status.RECEIVED and stages[-1][0] == Status.CLOSED
    assert (hint is None) == (status == Status.CLOSED)


def stage_guide_on_page(client, ticket: Ticket) -> tuple[list[tuple[str, str]], str]:
    html = client.get(change_url(ticket)).content.decode()
    stages = re.findall(r'<li class="stage-(done|current|todo)" data-stage="([a-z_]+)"', html)
    hint = re.search(r'<p class="ticket-hint" id="ticket-next-hint">(.*?)</p>', html)
    return [(status, state) for state, status in stages], (hint.group(1) if hint else "")


def test_the_ticket_page_shows_where_the_ticket_is_and_the_next_thing_to_do(client, operator):
    ticket = open_request(Kind.CORRECTION, member=MemberFactory(), actor=operator)
    login(client, operator)
    stages, hint = stage_guide_on_page(client, ticket)
    assert stages == [
        ("received", "current"),
        ("verifying", "todo"),
        ("in_progress", "todo"),
        ("pending_approval", "todo"),
        ("closed", "todo"),
    ]
    assert "本人確認を開始" in hint
    assert 'aria-current="step"' in client.get(change_url(ticket)).content.decode()

    services.verify_identity(ticket, actor=operator, method="driver_license")
    stages, hint = stage_guide_on_page(client, ticket)
    assert ("in_progress", "current") in stages and ("verifying", "done") in stages
    assert "訂正する項目を追加" in hint


# --- buttons for the next allowed steps -------------------------------------------------------


def test_received_correction_offers_verification_items_and_hold_but_no_outcome(client, operator):
    ticket = open_request(Kind.CORRECTION, member=MemberFactory(), actor=operator)
    login(client, operator)
    assert steps_on_page(client, ticket) == {
        "start_verification",
        "verify_identity",
        "add_address_correction",
        "add_correction_item",
        "hold",
    }


def test_in_progress_request_offers_submit_and_no_verification(client, operator):
    ticket = verified_request(Kind.CORRECTION, member=MemberFactory(), actor=operator)
    login(client, operator)
    assert steps_on_page(client, ticket) == {
        "add_address_correction",
        "add_correction_item",
        "submit_for_approval",
        "hold",
    }


def test_held_ticket_offers_only_resume_and_its_items(client, operator):
    ticket = verified_request(Kind.USAGE_STOP, member=MemberFactory(), actor=operator)
    services.hold(ticket, actor=operator, reason="委任状の到着待ち")
    login(client, operator)
    assert steps_on_page(client, ticket) == {"resume"}
    page = client.get(change_url(ticket)).content.decode()
    assert "委任状の到着待ち" in page


def test_disclosure_offers_fee_and_package_after_verification(client, operator):
    ticket = verified_request(Kind.DISCLOSURE, member=MemberFactory(), actor=operator)
    login(client, operator)
    assert steps_on_page(client, ticket) == {
        "record_fee_payment",
        "build_disclosure_package",
        "submit_for_approval",
        "hold",
    }


def test_inquiry_closes_without_approval(client, operator):
    ticket = open_request(Kind.INQUIRY, member=None, actor=operator)
    login(client, operator)
    steps = steps_on_page(client, ticket)
    assert "close_ticket" in steps
    assert "submit_for_approval" not in steps


def test_pending_approval_offers_approve_and_send_back_to_a_second_supervisor_only(
    client, operator, supervisor
):
    ticket = pending_marketing_stop(member=MemberFactory(), preparer=operator)
    login(client, operator)
    assert steps_on_page(client, ticket) == set()
    login(client, supervisor)
    assert steps_on_page(client, ticket) == {"approve", "send_back", "assign_to_me"}


def test_closed_ticket_offers_nothing(client, operator, supervisor):
    ticket = pending_marketing_stop(member=MemberFactory(), preparer=operator)
    services.approve(ticket, actor=supervisor)
    login(client, supervisor)
    assert steps_on_page(client, ticket) == set()


def test_status_and_outcome_are_never_an_editable_form(client, operator):
    ticket = open_request(Kind.CORRECTION, member=MemberFactory(), actor=operator)
    login(client, operator)
    page = client.get(change_url(ticket)).content.decode()
    assert 'name="status"' not in page
    assert 'name="outcome"' not in page
    response = client.post(change_url(ticket), {"status": Status.CLOSED, "outcome": Outcome.FULFILLED})
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == Status.RECEIVED


def test_no_one_can_delete_a_ticket(client, operator, supervisor, privacy_officer):
    ticket = open_request(Kind.INQUIRY, member=None, actor=operator)
    for user in (operator, supervisor, privacy_officer):
        login(client, user)
        response = client.post(reverse("admin:requests_ticket_delete", args=[ticket.pk]), {"post": "yes"})
        assert response.status_code == 403
    assert Ticket.objects.filter(pk=ticket.pk).exists()


# --- opening a ticket -------------------------------------------------------------------------


def open_form_data(member, kind=Kind.DISCLOSURE, **extra):
    received = timezone.localtime(days_ago(0.05))
    return {
        "kind": kind,
        "member": member.pk if member else "",
        "channel": rules.Channel.PHONE,
        "received_at_0": received.strftime("%Y-%m-%d"),
        "received_at_1": received.strftime("%H:%M:%S"),
        "requester_type": "self",
        "agent_name": "",
        "response_method": "paper",
        "summary": "",
        **extra,
    }


def test_add_form_opens_the_ticket_through_the_service_and_warns_of_a_duplicate(client, operator):
    member = MemberFactory()
    login(client, operator)
    add_url = reverse("admin:requests_ticket_add")
    assert client.get(add_url).status_code == 200

    first = client.post(add_url, open_form_data(member))
    ticket = Ticket.objects.get(member=member)
    assert first.status_code == 302 and first.url == change_url(ticket)
    assert ticket.due_at == rules.due_at(ticket.received_at)
    assert ticket.assignee == operator
    assert ticket.history.get().history_user == operator
    assert not [m for m in get_messages(first.wsgi_request) if m.level_tag == "warning"]

    second = client.post(add_url, open_form_data(member))
    warnings = [str(m) for m in get_messages(second.wsgi_request) if m.level_tag == "warning"]
    assert len(warnings) == 1 and ticket.number in warnings[0]
    assert Ticket.objects.filter(member=member).count() == 2


def test_add_form_shows_the_services_error_and_saves_nothing(client, operator):
    login(client, operator)
    response = client.post(reverse("admin:requests_ticket_add"), open_form_data(None))
    assert response.status_code == 200
    assert "請求には会員の特定が必要です" in response.content.decode()
    response = client.post(
        reverse("admin:requests_ticket_add"),
        open_form_data(MemberFactory(), requester_type="delegate", agent_name=""),
    )
    assert "代理人の氏名を入力してください" in response.content.decode()
    assert Ticket.objects.count() == 0


# --- the whole flow through the admin ---------------------------------------------------------


def test_correction_through_the_admin_ends_closed_and_changes_the_member(client, operator, supervisor):
    member = MemberFactory(city="中野区江原町")
    login(client, operator)
    opened = client.post(
        reverse("admin:requests_ticket_add"), open_form_data(member, kind=Kind.CORRECTION), follow=True
    )
    assert "を登録しました" in opened.content.decode()
    ticket = Ticket.objects.get(member=member)

    assert post_step(client, ticket, "start_verification") == ["本人確認を開始しました。"]
    assert post_step(client, ticket, "verify_identity", method="driver_license", documents_seen=1) == [
        "本人確認済みにしました。"
    ]
    assert post_step(client, ticket, "add_address_correction", city="中野区江古田") == [
        "住所の訂正項目を1件追加しました。"
    ]
    item = CorrectionItem.objects.get(ticket=ticket)
    assert item.current_value == "中野区江原町"
    page = client.get(change_url(ticket)).content.decode()
    assert "市区町村" in page and "中野区江古田" in page
    assert post_step(client, ticket, "decide_correction_item", item=item.pk, accept="1", note="") == [
        "訂正項目の判断を記録しました。"
    ]
    assert post_step(
        client, ticket, "submit_for_approval", outcome=Outcome.FULFILLED, ground="", reason=""
    ) == ["承認を依頼しました。"]

    login(client, supervisor)
    assert post_step(client, ticket, "approve") == ["承認しました。受付票は完了です。"]

    ticket.refresh_from_db()
    member.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert ticket.outcome == Outcome.FULFILLED
    assert ticket.prepared_by == operator and ticket.approver == supervisor
    assert member.city == "中野区江古田"
    assert member.history.latest().history_change_reason.startswith(ticket.number)

    page = client.get(change_url(ticket)).content.decode()
    timeline = page.split('id="ticket-timeline"', 1)[1]
    for text in ("受付", "本人確認中", "訂正項目: 市区町村", "訂正する", "承認待ち", "完了", "supervisor1"):
        assert text in timeline


def test_a_rejected_item_needs_a_reason_and_the_error_is_shown(client, operator):
    ticket = verified_request(Kind.CORRECTION, member=MemberFactory(), actor=operator)
    item = services.add_correction_item(ticket, field="city", requested_value="中野区江古田", actor=operator)
    login(client, operator)
    errors = post_step(client, ticket, "decide_correction_item", item=item.pk, accept="0", note="")
    assert len(errors) == 1 and "訂正しない理由を入力してください" in errors[0]
    item.refresh_from_db()
    assert item.decision == CorrectionItem.Decision.PENDING


def test_a_refusal_needs_a_ground_from_the_rules(client, operator):
    ticket = verified_request(Kind.USAGE_STOP, member=MemberFactory(), actor=operator)
    login(client, operator)
    errors = post_step(client, ticket, "submit_for_approval", outcome=Outcome.REFUSED, ground="", reason="x")
    assert "第33条第2項" in errors[0]
    post_step(
        client, ticket, "submit_for_approval", outcome=Outcome.REFUSED, ground="business", reason="理由"
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING_APPROVAL and ticket.refusal_ground == "business"


# --- four eyes --------------------------------------------------------------------------------


def test_the_preparer_does_not_see_approve_and_cannot_use_it(client, supervisor, supervisor2):
    ticket = pending_marketing_stop(member=MemberFactory(), preparer=supervisor)
    login(client, supervisor)
    response = client.get(change_url(ticket))
    steps = set(re.findall(r'data-step="([a-z_]+)"', response.content.decode()))
    assert "approve" not in steps and "send_back" in steps
    assert "起案・判断に関わった人は承認できません" in response.content.decode()

    errors = post_step(client, ticket, "approve")
    assert len(errors) == 1 and "起案・判断に関わった人は承認できません" in errors[0]
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING_APPROVAL and ticket.approver is None

    login(client, supervisor2)
    post_step(client, ticket, "approve")
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED and ticket.approver == supervisor2


def test_an_operator_cannot_approve_by_posting(client, operator, operator2):
    ticket = pending_marketing_stop(member=MemberFactory(), preparer=operator)
    login(client, operator2)
    errors = post_step(client, ticket, "approve")
    assert errors == ["この操作を行う権限がありません。"]
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING_APPROVAL


# --- two operators at once --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "first_data", "second", "second_data"),
    [
        ("hold", {"reason": "書類待ち"}, "start_verification", {}),
        ("start_verification", {}, "hold", {"reason": "書類待ち"}),
    ],
)
def test_a_step_from_an_outdated_page_is_refused_and_changes_nothing(
    client, operator, operator2, first, first_data, second, second_data
):
    ticket = open_request(Kind.DELETION, member=MemberFactory(), actor=operator)
    seen_version = ticket.version
    login(client, operator2)
    assert post_step(client, ticket, first, version=seen_version, **first_data)[0].endswith("。")
    after_first = Ticket.objects.get(pk=ticket.pk)
    history_rows = ticket.history.count()

    login(client, operator)
    errors = post_step(client, ticket, second, version=seen_version, **second_data)
    assert len(errors) == 1 and STALE in errors[0]
    now = Ticket.objects.get(pk=ticket.pk)
    assert (now.status, now.on_hold, now.version) == (
        after_first.status,
        after_first.on_hold,
        after_first.version,
    )
    assert ticket.history.count() == history_rows


def test_a_second_approval_of_the_same_page_gets_the_stale_message(client, operator, supervisor, supervisor2):
    ticket = pending_marketing_stop(member=MemberFactory(), preparer=operator)
    seen_version = Ticket.objects.get(pk=ticket.pk).version
    login(client, supervisor)
    post_step(client, ticket, "approve", version=seen_version)
    login(client, supervisor2)
    errors = post_step(client, ticket, "approve", version=seen_version)
    assert STALE in errors[0]
    ticket.refresh_from_db()
    assert ticket.approver == supervisor


# --- lists, badges and queues -----------------------------------------------------------------


def test_overdue_and_due_soon_tickets_show_their_badges(client, operator):
    overdue = open_request(Kind.DISCLOSURE, member=MemberFactory(), actor=operator, received_at=days_ago(20))
    soon = open_request(Kind.DISCLOSURE, member=MemberFactory(), actor=operator, received_at=days_ago(12))
    fresh = open_request(Kind.DISCLOSURE, member=MemberFactory(), actor=operator)
    login(client, operator)
    page = client.get(reverse(CHANGELIST)).content.decode()
    rows = {t.number: row for t in (overdue, soon, fresh) for row in page.split("<tr") if t.number in row}
    assert "due-overdue" in rows[overdue.number]
    assert "due-soon" in rows[soon.number]
    assert "due-ok" in rows[fresh.number]
    assert 'id="ticket-due-state"' in client.get(change_url(overdue)).content.decode()
    assert "due-overdue" in client.get(change_url(overdue)).content.decode()


def test_due_filter_shows_only_overdue_tickets(client, operator):
    overdue = open_request(Kind.DISCLOSURE, member=MemberFactory(), actor=operator, received_at=days_ago(20))
    fresh = open_request(Kind.DISCLOSURE, member=MemberFactory(), actor=operator)
    login(client, operator)
    page = client.get(reverse(CHANGELIST), {"due": "overdue"}).content.decode()
    assert overdue.number in page and fresh.number not in page
    page = client.get(reverse(CHANGELIST), {"due": "ok"}).content.decode()
    assert fresh.number in page and overdue.number not in page


def test_a_second_open_ticket_of_the_same_kind_is_flagged(client, operator):
    member = MemberFactory()
    first = open_request(Kind.CORRECTION, member=member, actor=operator)
    open_request(Kind.CORRECTION, member=member, actor=operator)
    single = open_request(Kind.CORRECTION, member=MemberFactory(), actor=operator)
    login(client, operator)
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert page.count('class="ticket-duplicate"') == 2
    row = next(r for r in page.split("<tr") if single.number in r)
    assert "ticket-duplicate" not in row
    assert "ticket-duplicate" in client.get(change_url(first)).content.decode()


def test_search_by_member_number(client, operator):
    member = MemberFactory()
    mine = open_request(Kind.INQUIRY, member=member, actor=operator)
    other = open_request(Kind.INQUIRY, member=MemberFactory(), actor=operator)
    login(client, operator)
    page = client.get(reverse(CHANGELIST), {"q": member.member_no}).content.decode()
    assert mine.number in page and other.number not in page


def make_tickets(n: int, *, operator) -> None:
    """A mix where every queue has rows: overdue with a duplicate and a pending twin, due soon
    and held, fresh and unassigned."""
    for i in range(n):
        member = MemberFactory()
        kind = [Kind.DISCLOSURE, Kind.CORRECTION, Kind.INQUIRY][i % 3]
        ticket = open_request(kind, member=member, actor=operator, received_at=days_ago((20, 12, 1)[i % 3]))
        if i % 3 == 0:
            open_request(kind, member=member, actor=operator)
            pending_marketing_stop(member=member, preparer=operator)
        if i % 3 == 1:
            services.hold(ticket, actor=operator, reason="書類待ち")
        if i % 3 == 2:
            # Tickets arriving from the web have no assignee yet; no service leaves one unassigned.
            Ticket.objects.filter(pk=ticket.pk).update(assignee=None)


def page_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


QUEUE_PAGES = [
    ("operator", "admin:requests_ticket_queue", ["mine"]),
    ("operator", "admin:requests_ticket_queue", ["unassigned"]),
    ("operator", "admin:requests_ticket_queue", ["due_soon"]),
    ("operator", "admin:requests_ticket_queue", ["overdue"]),
    ("supervisor", "admin:requests_ticket_queue", ["approval"]),
    ("operator", CHANGELIST, []),
    ("supervisor", CHANGELIST, []),
]


def test_lists_and_queues_need_the_same_queries_for_3_or_30_tickets(
    operator, supervisor, django_assert_max_num_queries
):
    clients = {"operator": Client(), "supervisor": Client()}
    login(clients["operator"], operator)
    login(clients["supervisor"], supervisor)
    pages = [(clients[who], reverse(name, args=args)) for who, name, args in QUEUE_PAGES]
    make_tickets(3, operator=operator)
    few = {}
    for client, url in pages:
        client.get(url)
        few[url, id(client)] = page_queries(client, url)
    make_tickets(27, operator=operator)
    for client, url in pages:
        with django_assert_max_num_queries(few[url, id(client)], info=url):
            assert client.get(url).status_code == 200


def test_queues_show_the_right_tickets(client, operator, operator2, supervisor):
    overdue = open_request(Kind.DISCLOSURE, member=MemberFactory(), actor=operator, received_at=days_ago(20))
    soon = open_request(Kind.DISCLOSURE, member=MemberFactory(), actor=operator, received_at=days_ago(12))
    theirs = open_request(Kind.INQUIRY, member=None, actor=operator2)
    pending = pending_marketing_stop(member=MemberFactory(), preparer=operator)
    login(client, operator)

    def numbers(scope: str) -> set[str]:
        page = client.get(reverse("admin:requests_ticket_queue", args=[scope])).content.decode()
        return {t.number for t in (overdue, soon, theirs, pending) if t.number in page}

    assert numbers("mine") == {overdue.number, soon.number, pending.number}
    assert numbers("overdue") == {overdue.number}
    assert numbers("due_soon") == {soon.number}
    assert client.get(reverse("admin:requests_ticket_queue", args=["approval"])).status_code == 403

    login(client, supervisor)
    assert numbers("approval") == {pending.number}


def test_the_changelist_links_to_the_queues(client, operator, supervisor):
    login(client, operator)
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert reverse("admin:requests_ticket_queue", args=["mine"]) in page
    assert reverse("admin:requests_ticket_queue", args=["approval"]) not in page
    login(client, supervisor)
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert reverse("admin:requests_ticket_queue", args=["approval"]) in page


def test_the_ticket_page_needs_the_same_queries_for_1_or_8_items(
    client, operator, django_assert_max_num_queries
):
    ticket = verified_request(Kind.CORRECTION, member=MemberFactory(), actor=operator)
    fields = ["city", "address_line", "occupation", "employer_name", "family_name", "given_name", "email"]
    services.add_correction_item(ticket, field="phone", requested_value="09011112222", actor=operator)
    login(client, operator)
    client.get(change_url(ticket))
    few = page_queries(client, change_url(ticket))
    values = {"email": "new@example.jp"}
    for field in fields:
        services.add_correction_item(
            ticket, field=field, requested_value=values.get(field, "サンプル"), actor=operator
        )
    with django_assert_max_num_queries(few):
        assert client.get(change_url(ticket)).status_code == 200


def test_the_disclosure_page_lists_packages_and_links_them_only_for_who_may_open(client, operator):
    ticket = verified_request(Kind.DISCLOSURE, member=MemberFactory(), actor=operator)
    login(client, operator)
    assert post_step(client, ticket, "build_disclosure_package") == ["開示パッケージを作成しました。"]
    package = ticket.packages.get()
    page = client.get(change_url(ticket)).content.decode()
    section = page.split('id="ticket-packages"', 1)[1]
    assert package.sha256 in section
    # Issue 14: the operator who built it does not open it; the approving supervisor does.
    assert reverse("requests:download_package", args=[package.pk]) not in section


def _outcomes_offered(client, ticket: Ticket) -> set[str]:
    page = client.get(change_url(ticket)).content.decode()
    select = page.split('id="id_submit_for_approval_outcome"', 1)[1].split("</select>", 1)[0]
    return set(re.findall(r'<option value="([a-z]+)"', select))


@pytest.mark.parametrize(
    ("kind", "offered", "ground_shown"),
    [
        (Kind.MARKETING_STOP, {Outcome.FULFILLED, Outcome.WITHDRAWN}, False),
        (Kind.USAGE_STOP, {Outcome.FULFILLED, Outcome.REFUSED, Outcome.WITHDRAWN}, True),
        (Kind.DISCLOSURE, {Outcome.FULFILLED, Outcome.PARTLY, Outcome.REFUSED, Outcome.WITHDRAWN}, True),
    ],
)
def test_the_ticket_page_offers_only_the_outcomes_of_its_kind(client, operator, kind, offered, ground_shown):
    ticket = verified_request(kind, member=MemberFactory(), actor=operator)
    login(client, operator)
    assert _outcomes_offered(client, ticket) == offered
    page = client.get(change_url(ticket)).content.decode()
    assert ('id="id_submit_for_approval_ground"' in page) is ground_shown


def test_a_refusal_of_a_marketing_stop_posted_anyway_is_refused_and_nothing_saved(client, operator):
    ticket = verified_request(Kind.MARKETING_STOP, member=MemberFactory(), actor=operator)
    login(client, operator)
    errors = post_step(
        client, ticket, "submit_for_approval", outcome=Outcome.REFUSED, ground="business", reason="理由"
    )
    assert errors == ["結果: 正しく選択してください。 refused は候補にありません。"]
    ticket.refresh_from_db()
    assert (ticket.status, ticket.outcome) == (Status.IN_PROGRESS, "")
