"""Query-count baselines for every page of the role matrix (issue 15), in ``query_counts.json``.

Each GET page a role opens with 200 in ``tests/security/test_role_matrix.py`` is counted for one
role (the richest one, see ``_roles_for``) twice: in the matrix's ``world`` and again after
``_add_rows`` has put ten more of every kind of row next to it. A page whose count moves with the
rows has an N+1 and fails; a page whose count differs from its recorded baseline fails too, so a
change in a page's queries is a reviewed change of the JSON file.

Regenerate the file after a deliberate change (and read its diff):

    UPDATE_QUERY_COUNTS=1 DATABASE_URL=postgres://… pytest tests/test_query_counts.py
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from django.utils import timezone

from bureaus import services as bureau_services
from consentoffice.core.history import system_user
from consentoffice.core.roles import OPERATOR, PRIVACY_OFFICER, SUPERVISOR
from members import services as member_services
from members.models import AccessAction, ConsentSource, ProvisionBasis, Purpose, RecipientKind
from requests import rules
from requests import services as request_services
from requests.models import Reminder
from tests import factories
from tests.requests import verified_request
from tests.security import test_role_matrix as matrix

pytestmark = pytest.mark.postgres

world = matrix.world  # the matrix's fixture: the same objects behind the same URLs

BASELINES = Path(__file__).with_name("query_counts.json")
UPDATE = os.environ.get("UPDATE_QUERY_COUNTS") == "1"
HINT = "run UPDATE_QUERY_COUNTS=1 pytest tests/test_query_counts.py and commit tests/query_counts.json"
EXTRA = 10  # rows of each kind added for the second count: enough for an N+1 to show

# The role counted on a page: the first of these the matrix lets in. Supervisors see every
# register but the privacy officer's own; the home page also lists the operator's tickets.
PREFERENCE = (SUPERVISOR, PRIVACY_OFFICER, OPERATOR, matrix.ANONYMOUS)
ALSO_COUNTED = {"": (OPERATOR,)}
# The matrix's autocomplete term finds nobody; this one finds every member, so the list can grow.
COUNTED_URLS = {
    "admin/autocomplete/": "/admin/autocomplete/?"
    + urlencode({"app_label": "requests", "model_name": "ticket", "field_name": "member", "term": "ヤマダ"})
}


def _roles_for(expect: tuple) -> tuple[str, ...]:
    opened = [role for role in PREFERENCE if expect[matrix.ROLES.index(role)] == 200]
    return tuple(opened[:1])


def _admin_route(label: str, view: str) -> str:
    args = [1] if view in ("change", "delete", "history") else []
    return resolve(reverse(f"admin:{label.replace('.', '_')}_{view}", args=args)).route


def expected_pages() -> dict[str, tuple[str, tuple[str, ...]]]:
    """The matrix's name of each GET page opened with 200 → (its route, the roles counted)."""
    pages = {}
    for route, row in matrix.URLS.items():
        roles = (*_roles_for(row.expect), *ALSO_COUNTED.get(route, ()))
        if row.method == "get" and roles:
            pages[route or "/"] = (route, roles)
    for label, views in matrix.ADMIN_MODELS.items():
        for view in matrix.ADMIN_VIEWS:
            if roles := _roles_for(views[view]):
                pages[f"{label} {view}"] = (_admin_route(label, view), roles)
    return pages


def baseline_keys() -> set[tuple[str, str]]:
    return {(route, role) for route, roles in expected_pages().values() for role in roles}


def _read() -> dict[str, dict[str, int]]:
    return json.loads(BASELINES.read_text()) if BASELINES.exists() else {}


def _write(counts: dict[tuple[str, str], int]) -> None:
    table: dict[str, dict[str, int]] = {}
    for (route, role), count in sorted(counts.items()):
        table.setdefault(route, {})[role] = count
    BASELINES.write_text(json.dumps(table, ensure_ascii=False, indent=2, sort_keys=True) + "\n")


def _count(client, user, url: str) -> int:
    """Queries of one GET, after a first GET has filled the per-process caches (content types).
    The shared cache is emptied between the two: what a page keeps there for a minute (the
    dashboard's figures) is counted as when it is counted again, so its N+1s show too."""
    client.logout()
    if user is not None:
        client.force_login(user)
    client.get(url)
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    return len(queries)


def _count_pages(client, world) -> dict[tuple[str, str], int]:
    pages = expected_pages()
    counts = {}
    for what, method, url, _expect, _payload in matrix.url_checks(world) + matrix.admin_checks(world):
        if method == "get" and what in pages:
            route, roles = pages[what]
            for role in roles:
                counts[route, role] = _count(client, world.users.get(role), COUNTED_URLS.get(what, url))
    return counts


def _add_rows(world, *, operator, supervisor, privacy_officer) -> None:
    """Ten more of every row the pages list. The change and audit pages open the matrix's own
    member and ticket, so those get contracts, records, history and reminders of their own too."""
    contractor = member_services.save_contractor(
        actor=supervisor, name="督促代行テスト", business="督促", address="東京都港区芝浦1-1-1"
    )
    provided = []
    for n in range(EXTRA):
        member = factories.MemberFactory()
        affiliate = factories.AffiliateFactory()
        contract = factories.ContractFactory(member=member, affiliate=affiliate)
        own_contract = factories.ContractFactory(member=world.member, affiliate=affiliate)
        provided += [(member, affiliate.name), (world.member, affiliate.name)]
        for owner in (member, world.member):
            member_services.update_member(owner, actor=operator, reason="転居の届出", phone=f"03{n:08d}")
            factories.ContactRecordFactory(member=owner)
            factories.IdentityDocumentFactory(member=owner)
            member_services.record_access(user=operator, action=AccessAction.VIEW, member=owner)
            member_services.entrust(
                actor=supervisor, contractor=contractor, member=owner, purpose="督促業務", items=["氏名"]
            )
        member_services.place_legal_hold(
            member, actor=privacy_officer, reason_kind="litigation", note=f"第{n}号"
        )
        ticket = verified_request(rules.Kind.DISCLOSURE, member=member, actor=operator)
        request_services.record_fee_payment(ticket, actor=operator, paid_on=timezone.localdate())
        request_services.build_disclosure_package(ticket, actor=operator)
        request_services.submit_for_approval(ticket, outcome=rules.Outcome.FULFILLED, actor=operator)
        Reminder.objects.create(ticket=ticket, kind=Reminder.Kind.DUE_SOON, sent_on=timezone.localdate())
        Reminder.objects.create(
            ticket=world.ticket, kind=Reminder.Kind.DUE_SOON, sent_on=date(2026, 2, n + 1)
        )
        unassigned = verified_request(rules.Kind.CORRECTION, member=member, actor=operator)
        request_services.assign(unassigned, actor=supervisor, assignee=None)
        world.ticket = request_services.send_back(world.ticket, actor=supervisor, reason="記載の確認")
        world.ticket = request_services.submit_for_approval(
            world.ticket, outcome=rules.Outcome.FULFILLED, actor=operator
        )
        for inquired in (contract, own_contract):
            bureau_services.make_inquiry(
                actor=operator, contract=inquired, bureau="CIC", purpose="ability_to_pay"
            )
        member_services.add_financial_declaration(
            actor=operator, member=world.member, annual_income=5_000_000
        )
    for purpose in Purpose.objects.all():
        member_services.set_consent(
            world.member, purpose=purpose, granted=True, actor=operator, source=ConsentSource.APPLICATION
        )
    member_services.record_provisions_bulk(
        {
            "member": owner,
            "recipient_kind": RecipientKind.AFFILIATE,
            "recipient": name,
            "items": ["氏名"],
            "basis": ProvisionBasis.CONSENT,
        }
        for owner, name in provided
    )
    bureau_services.build_batches(actor=system_user())
    _add_admin_log_entries(EXTRA, user=supervisor)


def _add_admin_log_entries(count: int, *, user) -> None:
    """The admin's history pages list LogEntry rows, which the services do not write; the world
    gets one per page first, as it has one row of every other kind (an empty page skips a query)."""
    for model in admin.site._registry:
        obj = model._default_manager.order_by("pk").first()
        if obj is not None:
            LogEntry.objects.log_actions(user.pk, [obj] * count, CHANGE, change_message="件数テスト")


# --- Tests ------------------------------------------------------------------------------------


def test_counts_stay_flat_and_match_the_baselines(world, client, operator, supervisor, privacy_officer):
    _add_admin_log_entries(1, user=supervisor)
    small = _count_pages(client, world)
    _add_rows(world, operator=operator, supervisor=supervisor, privacy_officer=privacy_officer)
    large = _count_pages(client, world)
    assert set(small) == baseline_keys(), "pages of the role matrix that were not counted"
    grows = [
        f"{route!r} as {role}: {small[route, role]} queries, {large[route, role]} with {EXTRA} more rows"
        for route, role in sorted(small)
        if small[route, role] != large[route, role]
    ]
    if UPDATE:
        _write(small)
    recorded = _read()
    moved = [
        f"{route!r} as {role}: baseline {recorded[route][role]}, now {count}"
        for (route, role), count in sorted(small.items())
        if role in recorded.get(route, {}) and recorded[route][role] != count
    ]
    assert not grows, "queries grow with the rows (an N+1), fix the page's queryset:\n" + "\n".join(grows)
    assert not moved, f"query counts changed; if that is meant, {HINT}:\n" + "\n".join(moved)


def test_every_page_has_a_baseline():
    """A page added to the role matrix needs its count; a count left behind by a page goes."""
    recorded = {(route, role) for route, roles in _read().items() for role in roles}
    assert sorted(baseline_keys() - recorded) == [], f"pages without a baseline: {HINT}"
    assert sorted(recorded - baseline_keys()) == [], (
        f"baselines of pages no longer in the role matrix: {HINT}"
    )
