"""A supervisor opens the audit trail from the admin, filters by member, opens a diff (masked),
follows the member's timeline and exports it; the privacy officer sees the clear value."""

from __future__ import annotations

import pytest

from consentoffice.core.history import save_tracked
from members.models import AccessAction, AccessLog
from tests.e2e.conftest import login
from tests.factories import IdentityDocumentFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _document_with_a_corrected_number(actor):
    document = IdentityDocumentFactory(number="AB1234567")
    document.number = "CD7654321"
    save_tracked(document, actor=actor, reason="番号訂正 T-42", clean=False)
    return document


def test_supervisor_browses_filters_diffs_and_exports_the_audit_trail(page, shot, supervisor, operator):
    document = _document_with_a_corrected_number(operator)
    member = document.member

    login(page, supervisor.username)
    page.goto("/admin/")
    page.locator("#link-audit").click()
    page.wait_for_load_state("networkidle")
    shot("history-list")
    page.get_by_label("会員番号").fill(member.member_no)
    page.get_by_label("理由（部分一致）").fill("T-42")
    page.get_by_role("button", name="絞り込む").click()
    page.wait_for_load_state("networkidle")
    rows = page.locator("#audit-rows tbody tr")
    assert rows.count() == 1
    shot("history-filtered")
    rows.first.get_by_role("link", name="変更内容").click()
    page.wait_for_load_state("networkidle")
    shot("diff-masked")
    number_row = page.locator('#audit-diff tr[data-field="number"]')
    assert "****4567" in number_row.inner_text() and "****4321" in number_row.inner_text()
    assert "CD7654321" not in page.content()

    page.locator("#audit-summary .audit-timeline-link").click()  # the number itself opens the workspace
    page.wait_for_load_state("networkidle")
    shot("timeline")
    assert page.locator("#audit-rows tbody tr").count() >= 3
    with page.expect_download() as download:
        page.locator("#audit-export").click()
    assert download.value.suggested_filename == f"audit-timeline-{member.member_no}.csv"
    assert AccessLog.objects.filter(user=supervisor, member=member, action=AccessAction.EXPORT).exists()


def test_the_privacy_officer_sees_the_encrypted_value_in_the_diff(page, shot, privacy_officer, operator):
    document = _document_with_a_corrected_number(operator)
    row = document.history.get(history_change_reason="番号訂正 T-42")
    login(page, privacy_officer.username)
    page.goto(f"/audit/history/members.identitydocument/{row.history_id}/")
    shot("diff-clear")
    number_row = page.locator('#audit-diff tr[data-field="number"]')
    assert "AB1234567" in number_row.inner_text() and "CD7654321" in number_row.inner_text()
