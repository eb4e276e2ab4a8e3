"""Which records a ticket holds besides itself, by kind (``rules.may_hold``): the one rule that the
services apply when records are added and that the ticket page and its timeline apply when they
look for them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from requests import rules, selectors, services, timeline
from tests.factories import MemberFactory
from tests.requests import verified_request
from tests.requests.test_admin import change_url, login

pytestmark = pytest.mark.django_db

Kind = rules.Kind

TABLES = {
    "correction_items": "requests_correctionitem",
    "deletion_items": "requests_deletionitem",
    "packages": "requests_disclosurepackage",
}


def add(records: str, ticket, actor):
    """The service that adds ``records`` to a ticket."""
    if records == "correction_items":
        return services.add_correction_item(ticket, field="phone", requested_value="0312345678", actor=actor)
    if records == "deletion_items":
        return services.add_deletion_item(ticket, target=next(iter(rules.DELETION_TARGETS)), actor=actor)
    return services.build_disclosure_package(ticket, actor=actor)


def test_each_kind_of_record_belongs_to_exactly_one_kind_of_request():
    assert set(rules.HELD_BY_KIND) == set(TABLES)
    for records, kind in rules.HELD_BY_KIND.items():
        assert [k for k in Kind if rules.may_hold(k, records)] == [kind]


@pytest.mark.parametrize("records", sorted(TABLES))
@pytest.mark.parametrize("kind", [Kind.CORRECTION, Kind.DELETION, Kind.DISCLOSURE, Kind.USAGE_STOP])
def test_the_services_add_records_only_where_the_rule_allows(records, kind, operator, private_storage):
    ticket = verified_request(kind, member=MemberFactory(), actor=operator)
    if rules.may_hold(kind, records):
        assert add(records, ticket, operator).ticket_id == ticket.pk
    else:
        with pytest.raises(ValidationError):
            add(records, ticket, operator)
        assert not getattr(ticket, records).exists()


def _tables_read(client, ticket) -> set[str]:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(change_url(ticket)).status_code == 200
    sql = " ".join(q["sql"] for q in ctx.captured_queries)
    return {records for records, table in TABLES.items() if f'"{table}"' in sql}


@pytest.mark.parametrize("kind", [Kind.CORRECTION, Kind.DELETION, Kind.DISCLOSURE, Kind.INQUIRY])
def test_the_ticket_page_reads_only_the_records_its_kind_may_hold(client, operator, kind):
    """The page lists the items and packages and the timeline their history (the history tables'
    names contain the tables' names): nothing is read for records the kind cannot hold."""
    ticket = verified_request(kind, member=MemberFactory(), actor=operator)
    login(client, operator)
    client.get(change_url(ticket))
    assert _tables_read(client, ticket) == {r for r in TABLES if rules.may_hold(kind, r)}


def test_the_page_the_timeline_and_the_services_ask_the_rule(client, operator, monkeypatch, private_storage):
    """The paths that must ask ``rules.may_hold``: a rule that said "no" everywhere hides a
    correction request's items from the page and the timeline and refuses new ones."""
    ticket = verified_request(Kind.CORRECTION, member=MemberFactory(), actor=operator)
    add("correction_items", ticket, operator)
    asked = []

    def never(kind, records):
        asked.append(records)
        return False

    monkeypatch.setattr(rules, "may_hold", never)
    assert not selectors.held(ticket, "correction_items").exists()
    assert not any(e.subject.startswith("訂正項目") for e in timeline.ticket_timeline(ticket))
    login(client, operator)
    assert _tables_read(client, ticket) == set()
    with pytest.raises(ValidationError):
        add("correction_items", ticket, operator)
    with pytest.raises(ValidationError):
        services.add_address_correction(
            ticket,
            postal_code="1000001",
            prefecture="東京都",
            city="千代田区千代田",
            address_line="1-1",
            actor=operator,
        )
    assert {"correction_items", "deletion_items", "packages"} <= set(asked)
