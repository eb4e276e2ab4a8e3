"""One keeping table (clause Art. 7, APPI Art. 35): the nightly erasure and the refusal of a
deletion request read it alike; legal holds stop the erasure until released."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse

from consentoffice.core.history import system_user
from members import keeping, retention, services
from members.models import FinancialDeclaration, IdentityDocument, LegalHold, MemberStatus, PublicRecord
from requests import rules, selectors
from requests import services as request_services
from tests.factories import ContactRecordFactory, ContractFactory, IdentityDocumentFactory, MemberFactory
from tests.requests import open_request, verified_request

DOC = Path(settings.BASE_DIR) / "docs" / "retention.md"


def _doc_rows() -> dict[str, tuple[str, ...]]:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] in keeping.KEEPING:
            rows[cells[0]] = tuple(cells)
    return rows


def test_the_doc_prints_the_keeping_table_row_by_row():
    expected = {
        k.target: (
            k.target,
            k.category,
            str(k.years) if k.years is not None else "bureau",
            k.ground or "—",
            k.erased_by,
        )
        for k in keeping.KEEPING.values()
    }
    assert _doc_rows() == expected
    text = DOC.read_text(encoding="utf-8")
    for code in keeping.GROUNDS:
        assert re.search(rf"^\| {code} \|", text, re.M), code


def test_deletion_targets_and_grounds_are_read_from_the_keeping_table():
    for target, (label, ground) in rules.DELETION_TARGETS.items():
        if target == "marketing":
            assert ground is None
            continue
        assert (label, ground or "") == (keeping.KEEPING[target].label, keeping.KEEPING[target].ground)
    assert set(rules.RETENTION_GROUNDS) == set(keeping.GROUNDS)
    assert retention.retention_years() == keeping.nightly_targets()
    # the two grounded periods a deletion request can meet while the nightly job keeps the data
    assert retention.retention_years()["identity_documents"] == 7
    assert retention.retention_years()["financial_declarations"] == 10


def _ended_member(ended: date):
    member = MemberFactory()
    ContractFactory(member=member, status="ended", ended_on=ended)
    IdentityDocumentFactory(member=member, number="DL999")
    FinancialDeclaration.objects.create(member=member, declared_on=ended, annual_income=4000000)
    return member


def _planned(member, target, today) -> bool:
    return any(
        s.member_id == member.pk and s.target == target and not s.held for s in retention.plan(today=today)
    )


# (target, ended_on): leap day, month end, plain day; checked the day before, on and after the
# first erasable day. A deletion item is refused exactly while the nightly job keeps the target.
# The first erasable day is the day after the period, counted as the Civil Code counts it: the
# end day is not counted (DESIGN, Retention), e.g. ended 31 Aug 2015 + 7 years → kept through
# 31 Aug 2022, erasable from 1 Sep 2022.
AGREEMENT = [
    ("identity_documents", date(2016, 2, 29), date(2023, 3, 1)),
    ("identity_documents", date(2015, 8, 31), date(2022, 9, 1)),
    ("financial_declarations", date(2014, 3, 31), date(2024, 4, 1)),
    ("financial_declarations", date(2012, 2, 29), date(2022, 3, 1)),
]


@pytest.mark.parametrize(("target", "ended", "first"), AGREEMENT)
def test_refusal_and_nightly_erasure_agree_day_by_day(db, target, ended, first):
    member = _ended_member(ended)
    years = keeping.KEEPING[target].years
    assert keeping.erasable_from(ended, years) == first
    assert keeping.erasable_from(date(2019, 1, 10), 5) == date(2024, 1, 11)  # a plain day: the day after
    for today in (first - timedelta(days=1), first, first + timedelta(days=1)):
        refused = selectors.retention_ground(member, target, today=today) != ""
        assert refused == (today < first), today
        assert _planned(member, target, today) == (not refused), today


@pytest.mark.parametrize("target", sorted(keeping.nightly_targets()))
def test_each_nightly_target_is_erased_on_the_day_its_period_is_over(db, target):
    ended = date(2010, 5, 15)
    member = _ended_member(ended)
    member.auth_events.create(kind="login", device="PC")
    PublicRecord.objects.create(member=member, source="gazette", summary="官報", found_on=ended)
    ContactRecordFactory(member=member, summary="解約")
    first = keeping.erasable_from(ended, keeping.KEEPING[target].years)
    assert not _planned(member, target, first - timedelta(days=1))
    assert _planned(member, target, first)


# --- legal holds -----------------------------------------------------------------------------


def _due_member():
    member = _ended_member(date(2010, 1, 10))
    return member


TODAY = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("kind", "verify", "holds"),
    [
        (rules.Kind.DISCLOSURE, True, True),  # open and verified (the reproduced case)
        (rules.Kind.DELETION, False, True),  # received, not verified yet
        (rules.Kind.USAGE_STOP, True, True),
        (rules.Kind.INQUIRY, False, False),  # not a request (clause Art. 6 conversation)
    ],
)
def test_an_open_request_of_the_member_holds_erasure(db, operator, kind, verify, holds):
    member = _due_member()
    (verified_request if verify else open_request)(kind, member=member, actor=operator)
    steps = [s for s in retention.plan(today=TODAY) if s.member_id == member.pk]
    assert steps and all(s.held == holds for s in steps)
    if holds:
        assert all(s.held_by == ("open_request",) for s in steps)
    retention.apply(actor=system_user(), today=TODAY)
    member.refresh_from_db()
    assert (member.status == MemberStatus.ANONYMIZED) == (not holds)
    assert (IdentityDocument.objects.get(member=member).number == "") == (not holds)


def test_a_closed_request_no_longer_holds(db, operator, supervisor):
    member = _due_member()
    ticket = open_request(rules.Kind.INQUIRY, member=member, actor=operator)
    request_services.close_ticket(ticket, actor=operator)
    disclosure = open_request(rules.Kind.DISCLOSURE, member=member, actor=operator)
    assert all(s.held for s in retention.plan(today=TODAY) if s.member_id == member.pk)
    request_services.submit_for_approval(
        disclosure, outcome=rules.Outcome.WITHDRAWN, actor=operator, reason="取下げ"
    )
    request_services.approve(disclosure, actor=supervisor)
    assert not any(s.held for s in retention.plan(today=TODAY) if s.member_id == member.pk)


def test_a_privacy_officer_s_hold_stops_erasure_until_released(db, privacy_officer):
    member = _due_member()
    hold = services.place_legal_hold(
        member, actor=privacy_officer, reason_kind="litigation", note="令和8年(ワ)第123号"
    )
    steps = [s for s in retention.plan(today=TODAY) if s.member_id == member.pk]
    assert steps and all(s.held_by == ("officer_hold",) for s in steps)
    assert retention.apply(actor=system_user(), today=TODAY) == []
    member.refresh_from_db()
    assert member.status != MemberStatus.ANONYMIZED

    services.release_legal_hold(hold, actor=privacy_officer, reason="和解により終了")
    retention.apply(actor=system_user(), today=TODAY)
    member.refresh_from_db()
    assert member.status == MemberStatus.ANONYMIZED

    rows = list(LegalHold.history.filter(id=hold.pk).order_by("history_id"))
    assert [r.history_user for r in rows] == [privacy_officer, privacy_officer]
    assert "法的保全を設定" in rows[0].history_change_reason
    assert "法的保全を解除" in rows[1].history_change_reason
    assert rows[1].release_reason == "和解により終了" and rows[1].released_by == privacy_officer


def test_a_hold_placed_after_the_plan_is_still_seen_by_the_run(db, privacy_officer, monkeypatch):
    member = _due_member()
    planned = retention.plan(today=TODAY)
    services.place_legal_hold(member, actor=privacy_officer, reason_kind="aml_inquiry", note="照会 第7号")
    monkeypatch.setattr(retention, "plan", lambda today=None: planned)
    assert retention.apply(actor=system_user(), today=TODAY) == []


@pytest.mark.parametrize("role", ["operator", "supervisor"])
def test_only_a_privacy_officer_places_and_releases_holds(db, request, privacy_officer, role):
    user = request.getfixturevalue(role)
    member = MemberFactory()
    with pytest.raises(PermissionDenied):
        services.place_legal_hold(member, actor=user, reason_kind="litigation", note="事件")
    hold = services.place_legal_hold(member, actor=privacy_officer, reason_kind="litigation", note="事件")
    with pytest.raises(PermissionDenied):
        services.release_legal_hold(hold, actor=user, reason="終了")
    assert LegalHold.objects.get(pk=hold.pk).released_at is None


@pytest.mark.parametrize(
    ("reason_kind", "note", "field"),
    [("", "事件", "reason_kind"), ("gossip", "事件", "reason_kind"), ("litigation", "  ", "note")],
)
def test_a_hold_needs_a_reason_kind_and_a_note(db, privacy_officer, reason_kind, note, field):
    with pytest.raises(ValidationError) as exc:
        services.place_legal_hold(MemberFactory(), actor=privacy_officer, reason_kind=reason_kind, note=note)
    assert field in exc.value.message_dict
    assert not LegalHold.objects.exists()


def test_a_release_needs_a_reason_and_happens_once(db, privacy_officer):
    hold = services.place_legal_hold(MemberFactory(), actor=privacy_officer, reason_kind="other", note="x")
    with pytest.raises(ValidationError):
        services.release_legal_hold(hold, actor=privacy_officer, reason=" ")
    services.release_legal_hold(hold, actor=privacy_officer, reason="終了")
    with pytest.raises(ValidationError):
        services.release_legal_hold(hold, actor=privacy_officer, reason="もう一度")


def test_the_plan_reads_holds_set_based(db, privacy_officer, operator, django_assert_max_num_queries):
    def queries_for_plan() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            retention.plan(today=TODAY)
        return len(ctx.captured_queries)

    first = _due_member()
    services.place_legal_hold(first, actor=privacy_officer, reason_kind="litigation", note="a")
    one = queries_for_plan()
    for _ in range(4):
        member = _due_member()
        services.place_legal_hold(member, actor=privacy_officer, reason_kind="litigation", note="b")
        open_request(rules.Kind.DISCLOSURE, member=member, actor=operator)
    assert queries_for_plan() == one


def test_the_dry_run_shows_held_members(db, privacy_officer, capsys):
    member = _due_member()
    services.place_legal_hold(member, actor=privacy_officer, reason_kind="litigation", note="a")
    call_command("apply_retention", "--dry-run")
    out = capsys.readouterr().out
    assert f"{member.member_no}\tattributes" in out and "held: officer_hold" in out


def test_the_privacy_officer_places_and_releases_a_hold_in_the_admin(client, privacy_officer, operator):
    member = MemberFactory()
    client.force_login(operator)
    assert client.get(reverse("admin:members_legalhold_add")).status_code == 403
    client.force_login(privacy_officer)
    response = client.post(
        reverse("admin:members_legalhold_add"),
        {"member": member.pk, "reason_kind": "litigation", "note": "令和8年(ワ)第1号"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    hold = LegalHold.objects.get(member=member)
    assert hold.placed_by == privacy_officer and hold.history.get().history_user == privacy_officer
    page = client.get(reverse("admin:members_member_change", args=[member.pk]))
    assert "令和8年(ワ)第1号" in page.content.decode()

    changelist = reverse("admin:members_legalhold_changelist")
    form = client.post(changelist, {"action": "release_holds", "_selected_action": [hold.pk]})
    assert form.status_code == 200 and "release_reason" in form.content.decode()
    client.post(
        changelist,
        {
            "action": "release_holds",
            "_selected_action": [hold.pk],
            "apply": "1",
            "release_reason": "判決確定",
        },
    )
    hold.refresh_from_db()
    assert hold.released_by == privacy_officer and hold.release_reason == "判決確定"
