"""``/audit/members/<member_no>/``: every model's history about one member plus their access log."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from consentoffice.audit.selectors import ACCESS_LABEL, PAGE_SIZE, REFERENCE_FIELDS, tracked_models
from members import models as m
from members.models import AccessAction, AccessLog
from members.services import record_access
from requests.models import DisclosurePackage, Ticket
from tests.audit.conftest import at, member_with_everything, track
from tests.factories import ContractFactory, MemberFactory


def timeline(client, member, **params):
    response = client.get(reverse("audit:timeline", args=[member.member_no]), params)
    assert response.status_code == 200
    return response


def test_the_timeline_includes_every_model_about_the_member_and_their_access_entries(
    client, supervisor, system
):
    member = member_with_everything(system)
    other = member_with_everything(system)
    client.force_login(supervisor)
    rows = timeline(client, member).context["rows"]
    expected = {t.label for t in tracked_models() if t.member_path} | {ACCESS_LABEL}
    assert {r.label for r in rows} == expected
    assert {r.member_no for r in rows} == {member.member_no}
    assert other.member_no not in timeline(client, member).content.decode()


def test_the_timeline_is_in_order_newest_first_across_history_and_access(client, supervisor, operator):
    member = MemberFactory()
    member.city = "港区"
    track(member, user=operator, reason="住所変更", when=at(3))
    AccessLog.objects.create(member=member, user=operator, action=AccessAction.VIEW, at=at(2), detail="閲覧")
    contract = ContractFactory(member=member)
    contract.credit_limit = 1
    track(contract, user=operator, reason="減額", when=at(1))
    client.force_login(supervisor)
    rows = timeline(client, member, date_to=at(1).date().isoformat()).context["rows"]
    assert [r.reason for r in rows] == ["減額", "閲覧", "住所変更"]


def test_the_timeline_names_objects_by_their_numbers_not_their_ids(client, supervisor, system):
    member = member_with_everything(system)
    client.force_login(supervisor)
    response = timeline(client, member)
    rows = response.context["rows"]
    contract = m.Contract.objects.filter(member=member).first()
    ticket = Ticket.objects.get(member=member)
    expected = {
        "members.member": member.member_no,
        "members.contract": contract.contract_no,
        "requests.ticket": ticket.number,
        "requests.correctionitem": ticket.number,
        "requests.deletionitem": ticket.number,
        "requests.disclosurepackage": ticket.number,
    }
    for row in rows:
        if row.label in expected:
            # Named by its number, never by an id (ids of different tables coincide on a fresh
            # database, so "no '#<id>' of this object" could pass by chance: no "#" at all).
            assert row.object_label == f"{row.model_name} {expected[row.label]}", row.label
            assert "#" not in row.object_label
    assert set(expected) <= {row.label for row in rows}
    # Every object that has a reference field is named by it.
    assert all("#" not in row.object_label for row in rows if row.label in REFERENCE_FIELDS)
    # A record without a number of its own keeps its id.
    consent_ids = {f"#{pk}" for pk in m.Consent.objects.filter(member=member).values_list("pk", flat=True)}
    consent_labels = [r.object_label for r in rows if r.label == "members.consent"]
    assert consent_labels and all(
        label.startswith(f"{m.Consent._meta.verbose_name} #") for label in consent_labels
    )
    assert {label.rsplit(" ", 1)[1] for label in consent_labels} <= consent_ids
    html = response.content.decode()
    assert f"{DisclosurePackage._meta.verbose_name} {ticket.number}" in html


def test_viewing_a_timeline_is_logged(client, supervisor):
    member = MemberFactory()
    client.force_login(supervisor)
    timeline(client, member)
    assert AccessLog.objects.filter(user=supervisor, member=member, action=AccessAction.VIEW).count() == 1


def test_an_unknown_member_is_404(client, supervisor):
    client.force_login(supervisor)
    assert client.get(reverse("audit:timeline", args=["0000000000"])).status_code == 404


def test_the_timeline_pages_by_keyset(client, supervisor, operator):
    member = MemberFactory()
    for i in range(PAGE_SIZE + 5):
        record_access(user=operator, action="view", member=member, detail=f"{i}")
    client.force_login(supervisor)
    first = timeline(client, member)
    assert len(first.context["rows"]) == PAGE_SIZE
    second = client.get(f"{reverse('audit:timeline', args=[member.member_no])}?{first.context['next_query']}")
    seen = [(r.label, r.id) for r in [*first.context["rows"], *second.context["rows"]]]
    # The access rows, the first page's own view and the member's creation, each once.
    assert len(seen) == len(set(seen)) == PAGE_SIZE + 5 + 2


def _grow(member, actor, count: int) -> None:
    for i in range(count):
        member.city = f"市{i}"
        track(member, user=actor, reason="変更", when=at(i % 20))
        contract = ContractFactory(member=member)
        m.PaymentRecord.objects.create(contract=contract, month=at(0).date().replace(day=1), status_code="$")
        record_access(user=actor, action="view", member=member)
    for model in (m.Contract, m.PaymentRecord):
        model.history.filter(history_user__isnull=True).update(history_user=actor)


def test_the_timeline_costs_the_same_queries_whatever_the_member_has(
    client, supervisor, operator, django_assert_num_queries
):
    member = MemberFactory()
    _grow(member, operator, 2)
    client.force_login(supervisor)
    url = reverse("audit:timeline", args=[member.member_no])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    # Session (read, save in a savepoint), user, OTP device, permissions (2), the member, the
    # access-log row, the UNION page, its users and its members.
    assert len(few) <= 14
    _grow(member, operator, 2 * PAGE_SIZE)
    with django_assert_num_queries(len(few)):
        response = client.get(url)
    assert len(response.context["rows"]) == PAGE_SIZE
