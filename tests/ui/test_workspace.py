"""The member workspace (``/members/<member_no>/``): a member at a glance, and its acts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bureaus import services as bureau_services
from bureaus.models import Bureau, RecordType, Submission
from members import services as member_services
from members.models import AccessAction, AccessLog, ContactRecord, Member, PartnerSyncEvent
from requests import rules
from requests.models import Ticket
from tests.factories import (
    AffiliateFactory,
    ContactRecordFactory,
    ContractFactory,
    IdentityDocumentFactory,
    MemberFactory,
)
from tests.ui import assert_for_role_users_only, login, ticket

pytestmark = pytest.mark.django_db

Kind = rules.Kind


HANAKO = {
    "family_name": "髙橋",
    "given_name": "花子",
    "postal_code": "1658555",
    "prefecture": "東京都",
    "city": "中野区江原町",
    "address_line": "2-1-1",
    "phone": "0359961111",
}


@pytest.fixture
def member(db):
    return MemberFactory(**HANAKO)


@pytest.fixture
def partner(member):
    affiliate = AffiliateFactory(name="みどり百貨店")
    contract = ContractFactory(
        member=member,
        affiliate=affiliate,
        status="applied",
        contracted_on=None,
        settlement_account="みずほ 普通 1234567",
    )
    return contract


def url(member, name="member_workspace") -> str:
    return reverse(name, args=[member.member_no])


def test_only_role_users_may_open_the_workspace(client, nobody, member):
    assert_for_role_users_only(client, url(member), nobody)


def test_the_workspace_shows_the_member_at_a_glance(client, operator, member, partner):
    IdentityDocumentFactory(member=member)
    for n in range(7):
        ContactRecordFactory(member=member, summary=f"残高照会{n}")
    opened = ticket(Kind.DISCLOSURE, member=member, actor=operator)
    bureau_services.make_inquiry(
        actor=operator, contract=partner, bureau=Bureau.objects.get(code="CIC"), purpose="ability_to_pay"
    )
    login(client, operator)

    response = client.get(url(member))

    assert response.status_code == 200
    html = response.content.decode()
    assert "髙橋 花子" in html and "中野区江原町" in html and "03-5996-1111" in html
    assert html.count('class="use-allowed"') + html.count('class="use-denied"') == 6
    assert "みどり百貨店" in html and partner.contract_no in html
    assert f'data-ticket="{opened.number}"' in html
    assert reverse("admin:requests_ticket_change", args=[opened.pk]) in html
    assert "CIC" in html
    assert "応対記録（7件）" in html and html.count("残高照会") == 5  # the latest five, then a link
    assert 'id="ws-contacts-all"' in html
    assert reverse("admin:members_member_change", args=[member.pk]) in html  # the admin page, one click
    assert 'id="nav-sidebar"' not in html


def test_operators_see_sensitive_values_masked_and_nothing_sensitive_is_logged(
    client, operator, member, partner
):
    login(client, operator)
    html = client.get(url(member)).content.decode()
    assert "1234567" not in html
    assert list(AccessLog.objects.filter(member=member).values_list("action", flat=True)) == [
        AccessAction.VIEW
    ]
    assert "監査タイムライン" not in html  # operators do not read the audit trail


def test_supervisors_see_them_in_clear_and_the_view_is_logged_with_the_fields(
    client, supervisor, member, partner
):
    login(client, supervisor)
    html = client.get(url(member)).content.decode()
    assert "みずほ 普通 1234567" in html
    assert reverse("audit:timeline", args=[member.member_no]) in html
    logged = dict(AccessLog.objects.filter(member=member).values_list("action", "detail"))
    assert set(logged) == {AccessAction.VIEW, AccessAction.VIEW_SENSITIVE}
    assert logged[AccessAction.VIEW_SENSITIVE] == "決済口座"
    assert AccessLog.objects.get(action=AccessAction.VIEW).path == url(member)


def test_an_unknown_member_is_404(client, operator):
    login(client, operator)
    assert client.get(reverse("member_workspace", args=["9999999999"])).status_code == 404


def test_a_full_width_member_number_goes_to_the_normalized_one(client, operator, member):
    login(client, operator)
    wide = member.member_no.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    response = client.get(f"/members/{wide}/")
    assert response.status_code == 302
    assert response["Location"] == url(member)
    assert not AccessLog.objects.filter(member=member).exists()  # the redirect shows nothing


def test_member_links_lead_to_the_workspace(client, operator, supervisor, member):
    opened = ticket(Kind.DISCLOSURE, member=member, actor=operator)
    login(client, operator)
    assert url(member) in client.get("/", {"q": member.member_no}).content.decode()
    assert url(member) in client.get(reverse("member_list")).content.decode()
    admin_list = client.get(
        reverse("admin:members_member_changelist"), {"q": member.member_no}
    ).content.decode()
    assert url(member) in admin_list
    assert reverse("admin:members_member_change", args=[member.pk]) not in admin_list
    ticket_page = client.get(reverse("admin:requests_ticket_change", args=[opened.pk])).content.decode()
    assert f'href="{url(member)}" id="ticket-member-link"' in ticket_page
    assert reverse("admin:members_member_change", args=[member.pk]) not in ticket_page
    assert url(member) in client.get("/").content.decode()  # my tickets on the home
    client.get(url(member))  # a view in the access log
    login(client, supervisor)
    assert url(member) in client.get(reverse("audit:access")).content.decode()
    assert url(member) in client.get(reverse("audit:timeline", args=[member.member_no])).content.decode()


# --- acts ---------------------------------------------------------------------------------------

NOTIFICATION = {
    "postal_code": "１００－０００１",
    "prefecture": "東京都",
    "city": "千代田区千代田",
    "address_line": "1-1",
    "phone": "03-5996-1111",
    "email": "",
    "reason": "電話で転居の連絡",
}


def test_a_change_notification_is_applied_and_passed_on(client, operator, member, partner):
    bureau_services.make_inquiry(
        actor=operator, contract=partner, bureau=Bureau.objects.get(code="CIC"), purpose="ability_to_pay"
    )
    login(client, operator)

    response = client.post(
        url(member, "member_change_notification"), {**NOTIFICATION, "phone": "090-1111-2222"}
    )

    assert response.status_code == 302 and response["Location"] == url(member)
    member.refresh_from_db()
    assert (member.postal_code, member.city, member.phone) == ("1000001", "千代田区千代田", "09011112222")
    assert member.history.latest().history_change_reason == "住所変更等の届出: 電話で転居の連絡"
    assert Submission.objects.filter(record_type=RecordType.CORRECTION).count() == 1
    assert PartnerSyncEvent.objects.filter(member=member).exists()


@pytest.mark.parametrize(
    ("change", "field", "error"),
    [
        ({"reason": ""}, "reason", "このフィールドは必須です。"),
        ({"postal_code": "12"}, "postal_code", "郵便番号"),
    ],
)
def test_a_bad_notification_is_shown_with_a_japanese_error_and_nothing_saved(
    client, operator, member, change, field, error
):
    login(client, operator)
    response = client.post(url(member, "member_change_notification"), {**NOTIFICATION, **change})
    assert response.status_code == 200
    assert error in " ".join(response.context["forms"]["notification"].errors[field])
    assert Member.objects.get(pk=member.pk).city == "中野区江原町"
    assert member.history.count() == 1
    assert 'id="ws-notification" open' in response.content.decode()


def test_a_notification_changing_nothing_is_refused(client, operator, member):
    login(client, operator)
    unchanged = {
        **NOTIFICATION,
        "postal_code": "165-8555",
        "city": "中野区江原町",
        "address_line": "2-1-1",
        "email": member.email,
    }
    response = client.post(url(member, "member_change_notification"), unchanged)
    assert response.status_code == 200
    assert "変更された項目がありません" in response.content.decode()


def test_a_contact_note_is_recorded_for_the_member(client, operator, member):
    login(client, operator)
    response = client.post(
        url(member, "member_contact_note"),
        {"channel": "phone", "inbound": "on", "summary": "残高の問い合わせ"},
    )
    assert response.status_code == 302
    record = ContactRecord.objects.get(member=member)
    assert (record.channel, record.summary, record.recorded_by) == ("phone", "残高の問い合わせ", operator)
    assert record.history.get().history_user == operator


def test_an_empty_contact_note_is_refused_and_nothing_saved(client, operator, member):
    login(client, operator)
    response = client.post(url(member, "member_contact_note"), {"channel": "phone", "summary": ""})
    assert response.status_code == 200
    assert response.context["forms"]["contact"].errors["summary"] == ["このフィールドは必須です。"]
    assert not ContactRecord.objects.exists()


@pytest.mark.parametrize("kind", [Kind.DISCLOSURE, Kind.MARKETING_STOP])
def test_a_request_is_opened_with_the_member_filled_in(client, operator, member, kind):
    login(client, operator)
    response = client.post(url(member, "member_open_ticket"), {"kind": kind, "channel": "phone"})
    opened = Ticket.objects.get()
    assert (opened.member, opened.kind, opened.channel, opened.assignee) == (member, kind, "phone", operator)
    assert response["Location"] == reverse("admin:requests_ticket_change", args=[opened.pk])


def test_an_unknown_kind_opens_nothing(client, operator, member):
    login(client, operator)
    response = client.post(url(member, "member_open_ticket"), {"kind": "inquiry", "channel": "phone"})
    assert response.status_code == 200
    assert not Ticket.objects.exists()


def test_acts_need_their_permission(client, nobody, member):
    login(client, nobody)
    for name in ("member_change_notification", "member_contact_note", "member_open_ticket"):
        assert client.post(url(member, name), {}).status_code == 403
    assert member_services  # the services above are the only writers


def test_the_workspace_costs_the_same_queries_with_one_ticket_or_fourteen(
    client, operator, operator2, member, django_assert_max_num_queries
):
    """Its ticket rows load only what a row shows (``requests.selectors.ROW_FIELDS``): a row that
    read another field — the assignee's name, a hold, an outcome — would cost a query per row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from requests import services as request_services

    first = ticket(Kind.DISCLOSURE, member=member, actor=operator)
    login(client, operator)
    client.get(url(member))
    with CaptureQueriesContext(connection) as few:
        assert client.get(url(member)).status_code == 200

    others = [ticket(Kind.CORRECTION, member=member, actor=operator2, assignee=operator2) for _n in range(4)]
    held = request_services.hold(others[0], actor=operator2, reason="本人確認書類の到着待ち")
    closed = [
        request_services.close_ticket(ticket(Kind.INQUIRY, member=member, actor=operator2), actor=operator2)
        for _n in range(9)
    ]
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(url(member)).content.decode()
    for shown in (first, *others, *closed[-5:]):  # the latest five closed
        assert f'data-ticket="{shown.number}"' in page
    assert "保留中" in page and held.on_hold
    assert "受付票（未完了 5件・完了 9件）" in page
