"""The ticket page shaped like the request (issue 16): the address form, items decided in place and
changed only explicitly, one primary next step near the items, a stop's purposes, the send-back
reason, the postal look-up; and supervisors' home leading with the approvals waiting."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from members.models import AccessLog
from requests import rules, services
from requests.models import CorrectionItem, Ticket
from tests.factories import MemberFactory
from tests.requests import verified_request
from tests.requests.test_admin import change_url, login, open_request, post_step

pytestmark = pytest.mark.django_db

Kind, Outcome = rules.Kind, rules.Outcome


def page_of(client, ticket: Ticket) -> str:
    response = client.get(change_url(ticket))
    assert response.status_code == 200
    return response.content.decode()


def primary_steps(html: str) -> list[str]:
    """The data-step of every primary (``button default``) button on the page."""
    return re.findall(r'class="button default"[^>]*data-step="([a-z_]+)"', html)


def correction_with_member(operator, **member):
    member = MemberFactory(
        **{
            "postal_code": "1658555",
            "prefecture": "東京都",
            "city": "中野区江原町",
            "address_line": "1-13-22",
            **member,
        }
    )
    return verified_request(Kind.CORRECTION, member=member, actor=operator)


# --- the address as one group ----------------------------------------------------------------


def test_the_address_form_shows_the_current_values_beside_and_logs_the_view(client, operator):
    ticket = correction_with_member(operator)
    login(client, operator)
    html = page_of(client, ticket)
    form = html.split('id="ticket-address-form"', 1)[1].split("</form>", 1)[0]
    for current in ("165-8555", "東京都", "中野区江原町", "1-13-22"):
        assert current in form
    assert 'data-postal-lookup="/requests/postal-codes/"' in form
    assert "requests/address_correction.js" in html
    log = AccessLog.objects.get(user=operator, member=ticket.member)
    assert log.action == "view" and ticket.number in log.detail


def test_one_submit_adds_the_changed_address_fields_filling_prefecture_and_city(client, operator):
    ticket = correction_with_member(operator)
    login(client, operator)
    assert post_step(
        client,
        ticket,
        "add_address_correction",
        postal_code="１００－０００１",
        prefecture="",
        city="",
        address_line="千代田1-1",
    ) == ["住所の訂正項目を3件追加しました。"]
    # The prefecture the code names is the member's already: no item for it.
    assert dict(CorrectionItem.objects.filter(ticket=ticket).values_list("field", "requested_value")) == {
        "postal_code": "1000001",
        "city": "千代田区",
        "address_line": "千代田1-1",
    }


def test_an_invalid_address_field_is_named_and_nothing_is_added(client, operator):
    ticket = correction_with_member(operator)
    login(client, operator)
    errors = post_step(client, ticket, "add_address_correction", postal_code="12", address_line="2-5-8")
    assert len(errors) == 1 and errors[0].startswith("郵便番号: ")
    assert not CorrectionItem.objects.filter(ticket=ticket).exists()


def test_the_single_field_form_offers_every_category_one_field_but_the_address(client, operator):
    ticket = correction_with_member(operator)
    login(client, operator)
    html = page_of(client, ticket)
    single = html.split('data-step="add_correction_item"', 1)[0].rsplit("<form", 1)[1]
    options = set(re.findall(r'<option value="([a-z_]+)"', single))
    assert "phone" in options and "family_name" in options
    assert not options & set(rules.ADDRESS_FIELDS)


# --- decided in place, changed only explicitly ----------------------------------------------


def test_a_pending_item_is_decided_beside_its_values_and_a_decided_one_offers_only_a_change(client, operator):
    ticket = correction_with_member(operator)
    item = services.add_correction_item(ticket, field="phone", requested_value="0312345678", actor=operator)
    login(client, operator)
    html = page_of(client, ticket)
    row = html.split('data-item="phone"', 1)[1].split("</tr>", 1)[0]
    assert "0312345678" in row and 'data-step="accept_correction"' in row

    assert post_step(client, ticket, "decide_correction_item", item=item.pk, accept="1", note="") == [
        "訂正項目の判断を記録しました。"
    ]
    html = page_of(client, ticket)
    row = html.split('data-item="phone"', 1)[1].split("</tr>", 1)[0]
    assert 'data-decision="accepted"' in html and "訂正する</strong>" in row
    assert 'data-step="accept_correction"' not in row
    assert "<summary>判断を変更</summary>" in row and 'data-step="change_reject_correction"' in row


def test_a_second_press_records_no_second_decision_and_a_change_is_recorded_once(client, operator):
    ticket = correction_with_member(operator)
    item = services.add_correction_item(ticket, field="phone", requested_value="0312345678", actor=operator)
    login(client, operator)
    post_step(client, ticket, "decide_correction_item", item=item.pk, accept="1", note="")
    rows = item.history.count()
    errors = post_step(client, ticket, "decide_correction_item", item=item.pk, accept="1", note="")
    assert len(errors) == 1 and "判断を変更" in errors[0]
    assert item.history.count() == rows

    assert post_step(
        client,
        ticket,
        "decide_correction_item",
        item=item.pk,
        accept="0",
        note="事実と相違ない",
        change="True",
    ) == ["訂正項目の判断を変更しました。"]
    item.refresh_from_db()
    assert item.decision == CorrectionItem.Decision.REJECTED and item.history.count() == rows + 1


def test_a_second_press_on_a_deletion_item_records_no_second_decision(client, operator):
    ticket = verified_request(Kind.DELETION, member=MemberFactory(), actor=operator)
    item = services.add_deletion_item(ticket, target="contact_records", actor=operator)
    login(client, operator)
    post_step(client, ticket, "decide_deletion_item", item=item.pk, accept="1", ground="")
    errors = post_step(client, ticket, "decide_deletion_item", item=item.pk, accept="1", ground="")
    assert len(errors) == 1 and "判断を変更" in errors[0]
    assert item.history.filter(decision="accepted").count() == 1


# --- one primary next step, near the items ---------------------------------------------------


def test_the_next_step_is_the_one_primary_button_as_the_ticket_moves_on(client, operator, supervisor):
    member = MemberFactory()
    ticket = open_request(Kind.CORRECTION, member=member, actor=operator)
    login(client, operator)
    assert primary_steps(page_of(client, ticket)) == ["verify_identity"]

    services.verify_identity(ticket, actor=operator, method="driver_license")
    assert primary_steps(page_of(client, ticket)) == ["add_address_correction"]
    item = services.add_correction_item(ticket, field="phone", requested_value="0312345678", actor=operator)
    assert primary_steps(page_of(client, ticket)) == ["accept_correction"]
    services.decide_correction_item(item, actor=operator, accept=True)
    html = page_of(client, ticket)
    assert primary_steps(html) == ["submit_for_approval"]
    # The items, the decision and the submit button come before the record's fields.
    assert html.index('id="ticket-correction-items"') < html.index('data-step="submit_for_approval"')
    assert html.index('data-step="submit_for_approval"') < html.index('<fieldset class="module aligned')

    services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    login(client, supervisor)
    assert primary_steps(page_of(client, ticket)) == ["approve"]


# --- what a stop will stop; the send-back reason ---------------------------------------------


def test_a_stop_shows_its_purposes_to_the_operator_and_to_the_approver(client, operator, supervisor):
    ticket = verified_request(Kind.MARKETING_STOP, member=MemberFactory(), actor=operator)
    login(client, operator)
    preview = page_of(client, ticket).split('id="ticket-stop-preview"', 1)[1].split("</section>", 1)[0]
    assert "当社の営業案内・宣伝物の送付" in preview and "第三者から受託した営業案内" in preview
    assert "市場調査" not in preview

    services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    login(client, supervisor)
    html = page_of(client, ticket)
    assert "第三者から受託した営業案内" in html.split('id="ticket-stop-preview"', 1)[1]
    assert html.index('id="ticket-stop-preview"') < html.index('data-step="approve"')


def test_the_send_back_reason_is_on_the_ticket_for_the_preparer(client, operator, supervisor):
    ticket = verified_request(Kind.USAGE_STOP, member=MemberFactory(), actor=operator)
    services.submit_for_approval(ticket, outcome=Outcome.FULFILLED, actor=operator)
    login(client, supervisor)
    post_step(client, ticket, "send_back", reason="本人確認書類の写しを添付してください")
    login(client, operator)
    html = page_of(client, ticket)
    assert (
        "本人確認書類の写しを添付してください"
        in html.split('id="ticket-sent-back"', 1)[1].split("</p>", 1)[0]
    )


# --- the postal look-up --------------------------------------------------------------------------


def test_the_postal_look_up_answers_prefecture_and_city_only(client, operator):
    login(client, operator)
    url = reverse("requests:postal_code", args=["1000001"])
    assert client.get(url).json() == {"found": True, "prefecture": "東京都", "city": "千代田区"}
    assert client.get(reverse("requests:postal_code", args=["0000000"])).json() == {"found": False}
    assert client.get(reverse("requests:postal_code", args=["abc"])).json() == {"found": False}


def test_the_postal_look_up_needs_a_login(client):
    response = client.get(reverse("requests:postal_code", args=["1000001"]))
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- supervisors' home ------------------------------------------------------------------------


def test_supervisors_home_leads_with_approvals_waiting_oldest_first_linked_to_the_approve_step(
    client, operator, supervisor
):
    from datetime import timedelta

    from django.utils import timezone

    tickets = []
    for days in (2, 5, 1):
        t = verified_request(
            Kind.MARKETING_STOP,
            member=MemberFactory(),
            actor=operator,
            received_at=timezone.now() - timedelta(days=days),
        )
        tickets.append(services.submit_for_approval(t, outcome=Outcome.FULFILLED, actor=operator))
    login(client, supervisor)
    html = client.get("/").content.decode()
    main = html.split('class="home-main"', 1)[1]
    assert main.index('id="approvals"') < main.index('id="my-tickets-heading"')
    section = main.split('id="approvals"', 1)[1].split("</section>", 1)[0]
    numbers = re.findall(r'data-ticket="([^"]+)"', section)
    assert numbers == [tickets[1].number, tickets[0].number, tickets[2].number]
    assert f'href="{change_url(tickets[1])}#ticket-steps"' in section

    login(client, operator)  # operators approve nothing: no such section
    assert 'id="approvals"' not in client.get("/").content.decode()


def test_the_correction_page_costs_the_same_queries_with_one_item_or_nine(client, operator):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ticket = correction_with_member(operator)
    fields = ["phone", "email", "occupation", "employer_name", "family_name", "given_name"]
    first = services.add_correction_item(ticket, field="phone", requested_value="0312345678", actor=operator)
    services.decide_correction_item(first, actor=operator, accept=True)
    login(client, operator)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            page_of(client, ticket)
        return len(ctx.captured_queries)

    count()  # the first request fills the process's content-type cache (alone, this test ran first)
    one = count()
    values = {
        "email": "a@example.jp",
        "occupation": "会社員",
        "employer_name": "株式会社テスト",
        "family_name": "山田",
        "given_name": "花子",
    }
    for field in fields[1:]:
        services.add_correction_item(ticket, field=field, requested_value=values[field], actor=operator)
    services.add_address_correction(ticket, actor=operator, postal_code="1000001", address_line="千代田1-1")
    assert CorrectionItem.objects.filter(ticket=ticket).count() == 9
    assert count() == one
