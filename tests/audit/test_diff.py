"""Each history row opens a diff against the previous row of the same object; encrypted values
are masked for everyone but the privacy officer."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from members import models as m
from members.models import AccessAction, AccessLog
from tests.audit.conftest import at, track
from tests.factories import ContractFactory, IdentityDocumentFactory, MemberFactory


def diff_url(obj, row) -> str:
    return reverse("audit:history_detail", args=[obj._meta.label_lower, row.history_id])


def changes(response) -> dict[str, tuple[str, str, bool]]:
    assert response.status_code == 200
    return {c.name: (c.before, c.after, c.changed) for c in response.context["diff"].changes}


def test_a_change_shows_field_before_and_after_against_the_previous_row(client, supervisor, operator):
    member = MemberFactory(city="中野区")
    member.city = "港区"
    member.occupation = "自営業"
    track(member, user=operator, reason="住所変更")
    member.phone = "0312345678"
    track(member, user=operator, reason="電話番号変更")
    middle = member.history.get(history_change_reason="住所変更")
    client.force_login(supervisor)
    response = client.get(diff_url(member, middle))
    shown = changes(response)
    assert shown["city"] == ("中野区", "港区", True)
    assert shown["occupation"] == ("会社員", "自営業", True)
    assert shown["phone"][2] is False
    assert [c.name for c in response.context["diff"].changes if c.changed] == ["city", "occupation"]
    body = response.content.decode()
    assert "住所変更" in body and "変更前" in body and "変更後" in body


def test_the_first_row_shows_what_was_created(client, supervisor):
    member = MemberFactory(city="中野区")
    client.force_login(supervisor)
    shown = changes(client.get(diff_url(member, member.history.get())))
    assert shown["city"] == ("", "中野区", True)
    assert shown["gender"] == ("", "男性", True)  # choices shown by their label


def test_the_diff_of_a_same_instant_change_compares_with_the_lower_history_id(client, supervisor, operator):
    contract = ContractFactory(credit_limit=100000)
    same = timezone.now()
    for limit in (200000, 300000):
        contract.credit_limit = limit
        track(contract, user=operator, reason=f"{limit}", when=same)
    client.force_login(supervisor)
    last = contract.history.get(history_change_reason="300000")
    assert changes(client.get(diff_url(contract, last)))["credit_limit"] == ("200,000", "300,000", True)


@pytest.mark.parametrize("role", ["supervisor"])
def test_encrypted_values_are_masked_for_supervisors(client, request, role, operator):
    document = IdentityDocumentFactory(number="AB1234567")
    document.number = "CD7654321"
    track(document, user=operator, reason="番号訂正")
    contract = ContractFactory(settlement_account="0001-001-1234567")
    declaration = m.FinancialDeclaration.objects.create(
        member=contract.member, declared_on=at(0).date(), annual_income=5123456
    )
    client.force_login(request.getfixturevalue(role))
    shown = changes(client.get(diff_url(document, document.history.get(history_change_reason="番号訂正"))))
    assert shown["number"] == ("****4567", "****4321", True)
    body = client.get(
        diff_url(document, document.history.get(history_change_reason="番号訂正"))
    ).content.decode()
    assert "AB1234567" not in body and "CD7654321" not in body
    assert (
        changes(client.get(diff_url(contract, contract.history.get())))["settlement_account"][1] == "****4567"
    )
    assert (
        changes(client.get(diff_url(declaration, declaration.history.get())))["annual_income"][1]
        == "****3456"
    )
    assert not AccessLog.objects.filter(action=AccessAction.VIEW_SENSITIVE).exists()


def test_the_privacy_officer_sees_encrypted_values_and_that_is_logged(client, privacy_officer, operator):
    document = IdentityDocumentFactory(number="AB1234567")
    document.number = "CD7654321"
    track(document, user=operator, reason="番号訂正")
    client.force_login(privacy_officer)
    response = client.get(diff_url(document, document.history.get(history_change_reason="番号訂正")))
    assert changes(response)["number"] == ("AB1234567", "CD7654321", True)
    assert AccessLog.objects.filter(
        user=privacy_officer, member=document.member, action=AccessAction.VIEW_SENSITIVE
    ).exists()


def test_opening_a_diff_is_logged_against_the_member(client, supervisor):
    contract = ContractFactory()
    client.force_login(supervisor)
    client.get(diff_url(contract, contract.history.get()))
    log = AccessLog.objects.get(user=supervisor, action=AccessAction.VIEW)
    assert log.member == contract.member
    assert log.path.startswith("/audit/history/members.contract/")


def test_unknown_models_and_rows_are_404(client, supervisor):
    client.force_login(supervisor)
    assert client.get(reverse("audit:history_detail", args=["auth.user", 1])).status_code == 404
    assert client.get(reverse("audit:history_detail", args=["members.member", 999999999])).status_code == 404


def test_references_are_named_by_member_number_and_login_name(client, supervisor, operator):
    document = IdentityDocumentFactory(verified_by=operator)
    client.force_login(supervisor)
    shown = changes(client.get(diff_url(document, document.history.get())))
    assert shown["member"][1] == f"{document.member.member_no} (#{document.member_id})"
    assert shown["verified_by"][1] == f"operator1 (#{operator.pk})"


def test_the_diff_page_costs_a_bounded_number_of_queries(
    client, supervisor, operator, django_assert_max_num_queries
):
    document = IdentityDocumentFactory(verified_by=operator)
    for i in range(5):
        document.note = f"備考{i}"
        track(document, user=operator, reason="備考")
    client.force_login(supervisor)
    client.get(reverse("audit:history"))
    # Session (read, save), user, OTP device, permissions (2), the row with its user, the previous
    # row, the member and user it references, its member, the access-log row.
    with django_assert_max_num_queries(15):
        assert client.get(diff_url(document, document.history.latest())).status_code == 200
