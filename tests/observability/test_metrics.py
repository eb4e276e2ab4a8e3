"""/metrics/ (docs/operations.md, Metrics): who may scrape, the request histogram by view, and
the supervisor's figures equal to what the dashboard shows for the same data."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from bureaus import services as bureau_services
from bureaus.models import Submission, SubmissionStatus
from consentoffice.audit.seal import seal_audit_trail, unsealed_rows
from consentoffice.core.history import system_user
from consentoffice.models import Heartbeat
from consentoffice.tasks import BEAT
from members.models import PartnerSyncEvent, SyncDirection, SyncStatus
from requests import rules
from requests import services as request_services
from tests.conftest import Client
from tests.factories import AffiliateFactory, ContractFactory, MemberFactory
from tests.ui import login, ticket, unassigned

pytestmark = pytest.mark.django_db

URL = "/metrics/"
TOKEN = "metrics-token-for-the-tests-0123456789"
Kind = rules.Kind


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """``{(sample name, sorted labels): value}`` of an exposition."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client=None, **headers) -> dict:
    response = (client or Client()).get(URL, **headers)
    assert response.status_code == 200, response.content
    return samples(response.content.decode())


def value(found: dict, name: str, **labels) -> float | None:
    return found.get((name, tuple(sorted(labels.items()))))


# --- who may scrape -------------------------------------------------------------------------


def test_a_caller_on_this_machine_may_scrape_without_a_token_outside_production():
    assert Client(REMOTE_ADDR="127.0.0.1").get(URL).status_code == 200
    assert Client(REMOTE_ADDR="::1").get(URL).status_code == 200


@pytest.mark.parametrize(
    ("remote", "headers"),
    [
        ("192.0.2.7", {}),
        ("10.0.0.5", {}),
        # A proxy on this machine makes every visitor look local: its headers give it away …
        ("127.0.0.1", {"HTTP_X_FORWARDED_FOR": "198.51.100.4"}),
        ("127.0.0.1", {"HTTP_X_FORWARDED_PROTO": "https"}),
        ("127.0.0.1", {"HTTP_FORWARDED": "for=198.51.100.4"}),
    ],
)
def test_refused_without_a_token_from_elsewhere_or_through_a_proxy(remote, headers):
    response = Client(REMOTE_ADDR=remote).get(URL, **headers)
    assert response.status_code == 403
    assert b"consentoffice_" not in response.content


def test_refused_from_a_trusted_proxy_on_this_machine_even_without_its_headers(settings):
    # … and a proxy named in DJANGO_TRUSTED_PROXIES never counts as this machine.
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    assert Client(REMOTE_ADDR="127.0.0.1").get(URL).status_code == 403


def test_the_token_opens_it_from_anywhere_and_a_wrong_one_does_not(settings):
    settings.METRICS_TOKEN = TOKEN
    stranger = Client(REMOTE_ADDR="192.0.2.7")
    assert stranger.get(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    assert stranger.get(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}x").status_code == 403
    assert stranger.get(URL, HTTP_AUTHORIZATION="Bearer ").status_code == 403
    assert stranger.get(URL, HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 403
    # A wrong token is refused even from this machine: it is not silently ignored.
    assert Client().get(URL, HTTP_AUTHORIZATION="Bearer wrong").status_code == 403


def test_production_needs_the_token_even_on_this_machine(settings):
    settings.PRODUCTION = True
    assert Client().get(URL).status_code == 403
    settings.METRICS_TOKEN = TOKEN
    assert Client().get(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200


def test_no_login_no_session(settings):
    settings.METRICS_TOKEN = TOKEN
    response = Client(REMOTE_ADDR="192.0.2.7").get(URL, HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert "sessionid" not in response.cookies and "Set-Cookie" not in response.headers


# --- requests -------------------------------------------------------------------------------


def test_a_request_shows_in_the_histogram_under_its_view_never_its_path(client, operator):
    member = MemberFactory()
    login(client, operator)
    labels = {"view": "member_workspace", "method": "GET", "status": "2xx"}
    before = scrape()
    assert client.get(f"/members/{member.member_no}/", {"q": member.phone}).status_code == 200
    text = Client().get(URL).content.decode()
    after = samples(text)
    name = "consentoffice_http_request_duration_seconds"
    assert value(after, f"{name}_count", **labels) == (value(before, f"{name}_count", **labels) or 0) + 1
    assert value(after, "consentoffice_http_requests_total", **labels) >= 1
    assert value(after, f"{name}_bucket", **labels, le="+Inf") >= 1
    assert member.member_no not in text and member.phone not in text and "/members/" not in text


# --- the supervisor's figures ---------------------------------------------------------------


def _figures(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-figure="(\w+)">(\d+)<', html)}


def _business_data(operator) -> None:
    now = timezone.now()
    member = MemberFactory()
    ticket(Kind.DISCLOSURE, member=member, actor=operator, received_at=now - timedelta(days=20))  # overdue
    ticket(Kind.DELETION, member=member, actor=operator, received_at=now - timedelta(days=12))  # due soon
    unassigned(Kind.INQUIRY, member=member, actor=operator, received_at=now - timedelta(days=20))
    waiting = ticket(Kind.MARKETING_STOP, member=member, actor=operator)
    request_services.verify_identity(waiting, actor=operator, method="driver_license")
    request_services.submit_for_approval(waiting, outcome=rules.Outcome.FULFILLED, actor=operator)
    affiliate = AffiliateFactory()
    for status, attempts in ((SyncStatus.PENDING, 0), (SyncStatus.PENDING, 2), (SyncStatus.DEAD, 8)):
        PartnerSyncEvent.objects.create(
            affiliate=affiliate,
            member=member,
            direction=SyncDirection.OUTBOUND,
            status=status,
            attempts=attempts,
            payload={},
        )
    system = system_user()
    for _ in range(3):
        contract = ContractFactory(contracted_on=date(2024, 1, 20))
        bureau_services.record_contract_event(actor=system, contract=contract, record_type="contract")
    # Test setup: two of the records came back rejected (the import of an answer file has its own tests).
    Submission.objects.filter(pk__in=Submission.objects.values("pk")[:2]).update(
        status=SubmissionStatus.REJECTED
    )
    Heartbeat.objects.update_or_create(name=BEAT, defaults={"last_seen": now - timedelta(seconds=90)})


def test_the_gauges_equal_the_dashboard_and_the_home(client, operator, supervisor):
    _business_data(operator)
    login(client, supervisor)
    shown = _figures(client.get("/dashboard/").content.decode())
    home = client.get("/").context["alerts"]
    found = scrape()

    def gauge(name: str) -> float | None:
        return value(found, f"consentoffice_{name}")

    assert shown["open"] == 4 and shown["overdue"] == 1 and shown["sync_dead"] == 1  # the data is there
    assert gauge("tickets_open") == shown["open"]
    assert gauge("tickets_overdue") == shown["overdue"]
    assert gauge("tickets_due_soon") == shown["due_soon"]
    assert gauge("approvals_waiting") == shown["pending_approval"] == 1
    assert gauge("partner_sync_backlog") == shown["sync_pending"] == 2
    assert gauge("partner_sync_dead") == shown["sync_dead"]
    assert gauge("partner_sync_oldest_pending_age_seconds") >= 0
    assert gauge("bureau_rejects_open") == home["bureau_rejects"] == 2
    assert 90 <= gauge("beat_heartbeat_age_seconds") < 90 + 600


def test_the_unsealed_rows_and_the_age_of_the_oldest_go_to_zero_once_sealed(operator):
    ticket(Kind.INQUIRY, member=MemberFactory(), actor=operator)
    found = scrape()
    count, _oldest = unsealed_rows()
    assert count > 0
    assert value(found, "consentoffice_audit_unsealed_rows") == count
    assert value(found, "consentoffice_audit_oldest_unsealed_age_seconds") >= 0
    seal_audit_trail(delay_seconds=0)
    found = scrape()
    assert value(found, "consentoffice_audit_unsealed_rows") == 0
    assert ("consentoffice_audit_oldest_unsealed_age_seconds", ()) not in found


def test_a_scrape_costs_the_same_queries_whatever_the_data(operator):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            scrape()
        return len(queries)

    empty = count()
    _business_data(operator)
    assert count() == empty == 5  # tickets, partner sync, bureau rejects, unsealed rows, beat
