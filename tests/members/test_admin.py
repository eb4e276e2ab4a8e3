"""The members back-office (admin): search, member page, access log, export, writes via services."""

from __future__ import annotations

import csv
import io
from datetime import date

import factory
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from factory.django import DjangoModelFactory

from members import selectors
from members.models import (
    CATEGORY_1_FIELDS,
    AccessAction,
    AccessLog,
    Affiliate,
    Consent,
    ConsentVersion,
    Contract,
    ContractStatus,
    Member,
    Purpose,
)
from tests.factories import (
    AffiliateFactory,
    ContactRecordFactory,
    ContractFactory,
    IdentityDocumentFactory,
    MemberFactory,
    current_version,
    grant_all_consents,
)

CHANGELIST = reverse("admin:members_member_changelist")


class FinancialDeclarationFactory(DjangoModelFactory):
    class Meta:
        model = "members.FinancialDeclaration"

    member = factory.SubFactory(MemberFactory)
    declared_on = date(2024, 4, 1)
    annual_income = 5_400_000


def _staff(user):
    """The back-office needs ``is_staff`` (Django admin); the role fixtures create plain users."""
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


@pytest.fixture
def operator_client(client, operator):
    client.force_login(_staff(operator))
    return client


@pytest.fixture
def supervisor_client(client, supervisor):
    client.force_login(_staff(supervisor))
    return client


def change_url(member: Member) -> str:
    return reverse("admin:members_member_change", args=[member.pk])


def found(response) -> list[Member]:
    return list(response.context["cl"].result_list)


def change_form_data(client, member: Member, **overrides) -> dict:
    """What the browser posts back: the form's current values and each inline's management form."""
    response = client.get(change_url(member))
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is not None:
            data[name] = value
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
            data[f"{management.prefix}-{name}"] = management.initial.get(name, 0)
    data.update(overrides)
    return data


# --- Search ----------------------------------------------------------------------------------


def test_search_finds_member_by_member_number(operator_client):
    member = MemberFactory(member_no="2000012345")
    MemberFactory()
    response = operator_client.get(CHANGELIST, {"q": "２００００１２３４５"})
    assert found(response) == [member]


@pytest.mark.parametrize("typed", ["090-1234-5678", "０９０１２３４５６７８", "+81 90 1234 5678"])
def test_search_finds_member_by_phone_in_any_format(operator_client, typed):
    member = MemberFactory(phone="09012345678")
    MemberFactory(phone="09012345679")
    response = operator_client.get(CHANGELIST, {"q": typed})
    assert found(response) == [member]


def test_search_by_first_digits_of_a_phone_number_finds_by_prefix(operator_client):
    member = MemberFactory(phone="0359961111")
    MemberFactory(phone="0312345678")
    response = operator_client.get(CHANGELIST, {"q": "03-5996"})
    assert found(response) == [member]


@pytest.mark.parametrize("typed", ["すずき", "ｽｽﾞｷ", "スズキ　ハナ", "すずき はなこ"])
def test_search_finds_member_by_kana_in_any_script_from_the_start(operator_client, typed):
    member = MemberFactory(
        family_name="鈴木", given_name="花子", family_name_kana="スズキ", given_name_kana="ハナコ"
    )
    MemberFactory(family_name_kana="ヤマダ")
    response = operator_client.get(CHANGELIST, {"q": typed})
    assert found(response) == [member]


def test_search_finds_member_by_kanji_name(operator_client):
    member = MemberFactory(family_name="髙橋", given_name="一郎")
    variant = MemberFactory(family_name="高橋", given_name="一郎")
    MemberFactory(family_name="高橋", given_name="次郎")
    # 髙 and 高 are one name to the caller: the search folds variants (normalize.name_key).
    response = operator_client.get(CHANGELIST, {"q": "髙橋 一郎"})
    assert set(found(response)) == {member, variant}


def test_search_finds_member_by_email_ignoring_case(operator_client):
    member = MemberFactory(email="hanako.suzuki@example.jp")
    MemberFactory(email="other@example.jp")
    response = operator_client.get(CHANGELIST, {"q": " Hanako.Suzuki@Example.JP "})
    assert found(response) == [member]


@pytest.mark.parametrize(
    ("term", "kind"),
    [
        ("1000000001", selectors.SearchKind.MEMBER_NO),
        ("03(5996)1111", selectors.SearchKind.PHONE),
        ("819012345678", selectors.SearchKind.PHONE),
        ("0120-81", selectors.SearchKind.PHONE_PREFIX),
        ("a@b.jp", selectors.SearchKind.EMAIL),
        ("ﾀﾅｶ", selectors.SearchKind.KANA),
        ("田中", selectors.SearchKind.NAME),
    ],
)
def test_search_kind_follows_the_shape_of_the_term(term, kind):
    assert selectors.parse_search_term(term).kind == kind


def test_an_empty_search_term_is_no_search():
    assert selectors.parse_search_term("　 ") is None


def test_a_search_logs_its_kind_and_hit_count_but_never_the_term(operator_client, operator):
    MemberFactory(phone="09012345678")
    operator_client.get(CHANGELIST, {"q": "090-1234-5678"})
    log = AccessLog.objects.get()
    assert (log.user, log.action, log.member) == (operator, AccessAction.SEARCH, None)
    assert "kind=phone" in log.detail
    assert "hits=1" in log.detail
    assert "1234" not in log.detail + log.path


def test_browsing_the_list_without_a_term_logs_no_search(operator_client):
    MemberFactory()
    operator_client.get(CHANGELIST)
    assert not AccessLog.objects.filter(action=AccessAction.SEARCH).exists()


def test_member_autocomplete_uses_the_same_search_and_logs_it(operator_client):
    member = MemberFactory(phone="09012345678")
    response = operator_client.get(
        reverse("admin:autocomplete"),
        {"term": "090-1234-5678", "app_label": "members", "model_name": "contract", "field_name": "member"},
    )
    assert [r["id"] for r in response.json()["results"]] == [str(member.pk)]
    log = AccessLog.objects.get(action=AccessAction.SEARCH)
    assert "kind=phone hits=1" in log.detail
    assert "1234" not in log.detail + log.path


# --- Member page and access log ---------------------------------------------------------------


def test_viewing_a_member_page_logs_a_view(operator_client, operator):
    member = MemberFactory()
    response = operator_client.get(change_url(member))
    assert response.status_code == 200
    log = AccessLog.objects.get(action=AccessAction.VIEW)
    assert (log.user, log.member) == (operator, member)


def test_the_view_log_keeps_the_path_without_the_search_that_led_there(operator_client):
    member = MemberFactory()
    operator_client.get(change_url(member), {"_changelist_filters": "q=09012345678"})
    log = AccessLog.objects.get(action=AccessAction.VIEW)
    assert log.path == change_url(member)


def _member_with_sensitive_rows():
    member = MemberFactory()
    IdentityDocumentFactory(member=member, number="DL-123456787890")
    ContractFactory(member=member, settlement_account="0001-001-7654321")
    FinancialDeclarationFactory(member=member, annual_income=5_400_000)
    return member


def test_operators_see_sensitive_values_masked_and_nothing_is_logged_as_revealed(operator_client):
    member = _member_with_sensitive_rows()
    content = operator_client.get(change_url(member)).content.decode()
    assert "****7890" in content
    assert "****4321" in content
    assert "****0000" in content
    assert "DL-123456787890" not in content
    assert "0001-001-7654321" not in content
    assert "5,400,000" not in content
    assert not AccessLog.objects.filter(action=AccessAction.VIEW_SENSITIVE).exists()


def test_supervisors_see_sensitive_values_in_clear_and_the_page_logs_it_once(supervisor_client, supervisor):
    member = _member_with_sensitive_rows()
    IdentityDocumentFactory(member=member, number="PP-99887766")
    content = supervisor_client.get(change_url(member)).content.decode()
    assert "DL-123456787890" in content
    assert "PP-99887766" in content
    assert "0001-001-7654321" in content
    assert "5,400,000" in content
    log = AccessLog.objects.get(action=AccessAction.VIEW_SENSITIVE)
    assert (log.user, log.member) == (supervisor, member)
    assert "記号番号" in log.detail
    assert "DL-" not in log.detail


def test_partner_cards_show_their_affiliate_on_the_member_page(operator_client):
    member = MemberFactory()
    affiliate = AffiliateFactory(name="サンプル航空")
    ContractFactory(member=member, affiliate=affiliate, product_name="サンプル航空カード")
    content = operator_client.get(change_url(member)).content.decode()
    assert "提携カード" in content
    assert "サンプル航空" in content
    assert "test-shared-secret" not in content


# --- Export ----------------------------------------------------------------------------------


def test_export_writes_masked_csv_and_logs_one_row_per_member(operator_client, operator):
    members = [MemberFactory() for _ in range(3)]
    FinancialDeclarationFactory(member=members[0], annual_income=5_400_000)
    MemberFactory()
    response = operator_client.post(
        CHANGELIST, {"action": "export_csv", "_selected_action": [m.pk for m in members]}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][0] == "会員番号"
    assert sorted(r[0] for r in rows[1:]) == sorted(m.member_no for m in members)
    incomes = {r[0]: r[-1] for r in rows[1:]}
    assert incomes[members[0].member_no] == "****0000"
    logs = AccessLog.objects.filter(action=AccessAction.EXPORT)
    assert sorted(logs.values_list("member_id", flat=True)) == sorted(m.pk for m in members)
    assert set(logs.values_list("user_id", flat=True)) == {operator.pk}


def test_export_cells_never_start_a_spreadsheet_formula(operator_client):
    member = MemberFactory(email="=cmd@example.jp", occupation="x")
    Member.objects.filter(pk=member.pk).update(address_line="+SUM(1,1)")
    response = operator_client.post(CHANGELIST, {"action": "export_csv", "_selected_action": [member.pk]})
    row = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))[1]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row)
    assert "'=cmd@example.jp" in row


@pytest.mark.parametrize("client_fixture", ["operator_client", "supervisor_client"])
def test_an_export_above_the_limit_needs_the_privacy_officer(request, client_fixture, settings):
    """Issue 14: an operator exported every member in one POST; now at most the limit at once."""
    settings.MEMBER_EXPORT_LIMIT = 3
    client = request.getfixturevalue(client_fixture)
    members = [MemberFactory() for _ in range(4)]
    response = client.post(
        CHANGELIST, {"action": "export_csv", "_selected_action": [m.pk for m in members]}, follow=True
    )
    assert not response["Content-Type"].startswith("text/csv")
    assert "3人まで" in str(list(response.context["messages"])[0])
    assert not AccessLog.objects.filter(action=AccessAction.EXPORT).exists()
    # "select all" across the pages is the same number of members
    response = client.post(
        CHANGELIST, {"action": "export_csv", "select_across": "1", "_selected_action": [members[0].pk]}
    )
    assert not response["Content-Type"].startswith("text/csv")


def test_the_privacy_officer_may_export_above_the_limit(client, privacy_officer, settings):
    settings.MEMBER_EXPORT_LIMIT = 3
    client.force_login(_staff(privacy_officer))
    members = [MemberFactory() for _ in range(4)]
    response = client.post(CHANGELIST, {"action": "export_csv", "_selected_action": [m.pk for m in members]})
    assert response["Content-Type"].startswith("text/csv")
    logs = AccessLog.objects.filter(action=AccessAction.EXPORT, user=privacy_officer)
    assert sorted(logs.values_list("member_id", flat=True)) == sorted(m.pk for m in members)


# --- No deletion -----------------------------------------------------------------------------


def test_members_cannot_be_deleted_from_the_admin(supervisor_client):
    member = MemberFactory()
    delete_url = reverse("admin:members_member_delete", args=[member.pk])
    assert supervisor_client.get(delete_url).status_code == 403
    assert supervisor_client.post(delete_url, {"post": "yes"}).status_code == 403
    actions = supervisor_client.get(CHANGELIST).context["action_form"].fields["action"].choices
    assert "delete_selected" not in [name for name, _label in actions]
    assert Member.objects.filter(pk=member.pk).exists()


# --- Edits go through services ---------------------------------------------------------------


def test_an_edit_without_a_reason_is_refused_and_nothing_is_saved(operator_client):
    member = MemberFactory(city="中野区江原町")
    data = change_form_data(operator_client, member, city="新宿区西新宿", reason="")
    response = operator_client.post(change_url(member), data)
    assert response.status_code == 200
    assert "reason" in response.context["adminform"].form.errors
    member.refresh_from_db()
    assert member.city == "中野区江原町"
    assert member.history.count() == 1


def test_personal_items_are_read_only_on_the_change_form(operator_client, operator):
    """Category ① items change by a change notification or a correction request (the member
    workspace), never by editing the admin form: the form offers no input for them and ignores them."""
    member = MemberFactory(postal_code="1658555", city="中野区江原町", phone="09000000001")
    page = operator_client.get(change_url(member))
    form = page.context["adminform"].form
    assert not set(CATEGORY_1_FIELDS) & set(form.fields)
    html = page.content.decode()
    assert 'name="postal_code"' not in html and 'name="phone"' not in html
    assert reverse("member_workspace", args=[member.member_no]) in html

    data = change_form_data(
        operator_client, member, postal_code="1000001", phone="08011112222", status="suspended", reason="停止"
    )
    assert operator_client.post(change_url(member), data).status_code == 302
    member.refresh_from_db()
    assert (member.postal_code, member.city, member.phone, member.status) == (
        "1658555",
        "中野区江原町",
        "09000000001",
        "suspended",
    )


def test_a_bad_postal_code_on_the_add_form_shows_the_japanese_error_and_saves_nothing(operator_client):
    data = {"family_name": "佐藤", "postal_code": "165-85", "status": "active"}
    response = operator_client.post(reverse("admin:members_member_add"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["postal_code"] == ["郵便番号は7桁の数字で入力してください（例: 165-8555）。"]
    assert not Member.objects.filter(family_name="佐藤").exists()


def test_a_status_change_goes_through_the_service_with_its_reason(operator_client, operator):
    member = MemberFactory()
    data = change_form_data(operator_client, member, status="suspended", reason="本人申出による利用停止")
    assert operator_client.post(change_url(member), data).status_code == 302
    member.refresh_from_db()
    assert member.status == "suspended"
    assert member.history.first().history_change_reason == "本人申出による利用停止"


def test_adding_a_member_goes_through_the_service(operator_client, operator):
    data = {
        "family_name": "佐藤",
        "given_name": "花子",
        "family_name_kana": "さとう",
        "given_name_kana": "ﾊﾅｺ",
        "birth_date": "1990-05-01",
        "gender": "female",
        "postal_code": "〒１００－０００１",
        "prefecture": "東京都",
        "city": "千代田区千代田",
        "address_line": "1-1",
        "phone": "03-1234-5678",
        "status": "active",
    }
    response = operator_client.post(reverse("admin:members_member_add"), data)
    assert response.status_code == 302
    member = Member.objects.get(family_name="佐藤")
    assert (member.family_name_kana, member.given_name_kana) == ("サトウ", "ハナコ")
    assert (member.postal_code, member.phone) == ("1000001", "0312345678")
    assert member.member_no
    assert member.history.get().history_user == operator


# --- Query counts ----------------------------------------------------------------------------


def _count_queries(client, url, params=None) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params or {}).status_code == 200
    return len(ctx.captured_queries)


def test_member_list_uses_a_constant_number_of_queries(operator_client, django_assert_max_num_queries):
    MemberFactory.create_batch(5)
    few = _count_queries(operator_client, CHANGELIST)
    MemberFactory.create_batch(35)
    many = _count_queries(operator_client, CHANGELIST)
    assert few == many
    with django_assert_max_num_queries(10):
        operator_client.get(CHANGELIST, {"q": "やまだ"})


def _related_rows(member, n: int) -> None:
    affiliate = AffiliateFactory()
    ContractFactory.create_batch(n, member=member)
    ContractFactory.create_batch(n, member=member, affiliate=affiliate)
    ContactRecordFactory.create_batch(n, member=member)
    IdentityDocumentFactory.create_batch(n, member=member)
    FinancialDeclarationFactory.create_batch(n, member=member)
    version = current_version()
    for purpose in Purpose.objects.all()[: min(n, 5)]:
        Consent.objects.create(
            member=member, purpose=purpose, granted=True, version=version, source="application"
        )


# Marked so pytest-django orders it with the database tests (the clients come via getfixturevalue).
@pytest.mark.django_db
@pytest.mark.parametrize("client_fixture", ["operator_client", "supervisor_client"])
def test_member_page_uses_a_constant_number_of_queries(
    request, client_fixture, django_assert_max_num_queries
):
    client = request.getfixturevalue(client_fixture)
    one, thirty = MemberFactory(), MemberFactory()
    _related_rows(one, 1)
    _related_rows(thirty, 30)
    assert _count_queries(client, change_url(one)) == _count_queries(client, change_url(thirty))
    with django_assert_max_num_queries(25):
        client.get(change_url(thirty))


# --- Other admins: permissions and services --------------------------------------------------


def test_operators_may_not_add_affiliates(operator_client):
    assert operator_client.get(reverse("admin:members_affiliate_add")).status_code == 403
    assert operator_client.post(reverse("admin:members_affiliate_add"), {"code": "x"}).status_code == 403
    assert not Affiliate.objects.exists()


def test_supervisors_add_affiliates_and_the_system_issues_the_secret_shown_once(
    supervisor_client, supervisor
):
    response = supervisor_client.post(
        reverse("admin:members_affiliate_add"),
        {
            "code": "skyair",
            "name": "スカイエア",
            "endpoint": "https://partner.example.jp/api",
            "basis": "consent",
            "shared_items": ["family_name", "phone"],
            "active": "on",
            "new_shared_secret": "typed-by-hand",  # no such field any more: ignored
        },
    )
    assert response.status_code == 200
    affiliate = Affiliate.objects.get(code="skyair")
    secret = affiliate.shared_secret
    assert len(secret) >= 43 and secret != "typed-by-hand"
    assert secret in response.content.decode()  # shown this once
    assert "no-store" in response["Cache-Control"]
    assert affiliate.history.get().history_user == supervisor
    page = supervisor_client.get(reverse("admin:members_affiliate_change", args=[affiliate.pk]))
    assert secret not in page.content.decode()


def test_a_supervisor_rotates_the_secret_with_a_reason_and_sees_the_new_one_once(
    supervisor_client, supervisor
):
    affiliate = AffiliateFactory()
    old = affiliate.shared_secret
    url = reverse("admin:members_affiliate_rotate_secret", args=[affiliate.pk])
    assert supervisor_client.post(url, {"reason": ""}).status_code == 200  # a reason is needed
    affiliate.refresh_from_db()
    assert affiliate.shared_secret == old

    response = supervisor_client.post(url, {"reason": "提携先の担当者交代"})

    affiliate.refresh_from_db()
    assert affiliate.shared_secret != old and len(affiliate.shared_secret) >= 43
    assert affiliate.shared_secret in response.content.decode()
    assert affiliate.history.first().history_change_reason == "提携先の担当者交代"


def test_operators_may_not_rotate_a_secret(operator_client):
    affiliate = AffiliateFactory()
    url = reverse("admin:members_affiliate_rotate_secret", args=[affiliate.pk])
    assert operator_client.post(url, {"reason": "x"}).status_code == 403


def test_operators_may_not_publish_a_consent_version(operator_client, privacy_officer):
    version = ConsentVersion.objects.create(
        code="v-draft",
        title="草案",
        body="本文",
        effective_from=date(2030, 1, 1),
        prepared_by=privacy_officer,
    )
    url = reverse("admin:members_consentversion_publish", args=[version.pk])
    assert operator_client.post(url).status_code == 403
    version.refresh_from_db()
    assert not version.is_published


def test_a_consent_version_is_published_by_a_second_privacy_officer(
    client, privacy_officer, privacy_officer2
):
    client.force_login(_staff(privacy_officer))
    response = client.post(
        reverse("admin:members_consentversion_add"),
        {"code": "v2030", "title": "第2版", "body": "改定後の本文", "effective_from": "2030-01-01"},
    )
    assert response.status_code == 302
    version = ConsentVersion.objects.get(code="v2030")
    publish = reverse("admin:members_consentversion_publish", args=[version.pk])
    client.post(publish)
    version.refresh_from_db()
    assert not version.is_published
    client.force_login(_staff(privacy_officer2))
    page = client.get(reverse("admin:members_consentversion_change", args=[version.pk])).content.decode()
    assert publish in page
    client.post(publish)
    version.refresh_from_db()
    assert version.published_by == privacy_officer2


def test_supervisors_approve_applications_with_an_action(supervisor_client, supervisor):
    contract = ContractFactory(status=ContractStatus.APPLIED, contracted_on=None)
    grant_all_consents(contract.member)
    response = supervisor_client.post(
        reverse("admin:members_contract_changelist"),
        {"action": "approve_applications", "_selected_action": [contract.pk]},
    )
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.status == ContractStatus.FORMED
    assert contract.history.first().history_user == supervisor


def test_operators_are_not_offered_the_decision_actions(operator_client):
    contract = ContractFactory(status=ContractStatus.APPLIED, contracted_on=None)
    response = operator_client.post(
        reverse("admin:members_contract_changelist"),
        {"action": "approve_applications", "_selected_action": [contract.pk]},
    )
    assert response.status_code in (200, 302)
    contract.refresh_from_db()
    assert contract.status == ContractStatus.APPLIED


def test_declining_asks_for_a_reason_and_refuses_marketing_refusal_alone(supervisor_client):
    member = MemberFactory()
    # Everything but the marketing purposes of Art. 2(1)①②, which Art. 5 protects.
    for purpose in Purpose.objects.exclude(code__in=["marketing_own", "marketing_partner"]):
        Consent.objects.create(
            member=member, purpose=purpose, granted=True, version=current_version(), source="application"
        )
    contract = ContractFactory(member=member, status=ContractStatus.APPLIED, contracted_on=None)
    url = reverse("admin:members_contract_changelist")
    page = supervisor_client.post(url, {"action": "decline_applications", "_selected_action": [contract.pk]})
    assert page.status_code == 200
    assert "不成立の理由" in page.content.decode()
    supervisor_client.post(
        url,
        {
            "action": "decline_applications",
            "_selected_action": [contract.pk],
            "apply": "1",
            "reason": "consent_refused",
        },
    )
    contract.refresh_from_db()
    assert contract.status == ContractStatus.APPLIED
    supervisor_client.post(
        url,
        {
            "action": "decline_applications",
            "_selected_action": [contract.pk],
            "apply": "1",
            "reason": "credit_judgement",
        },
    )
    contract.refresh_from_db()
    assert (contract.status, contract.decline_reason) == (ContractStatus.DECLINED, "credit_judgement")


def test_an_application_refused_by_the_service_shows_the_error_and_saves_nothing(operator_client):
    member = MemberFactory()
    response = operator_client.post(
        reverse("admin:members_contract_add"),
        {
            "member": member.pk,
            "kind": "shopping",
            "product_name": "スタンダードカード",
            "applied_on": "1999-01-01",  # before any published consent version
            "credit_limit": "300000",
            "installments": "1",
        },
    )
    assert response.status_code == 200
    assert "適用中の同意条項の版がありません。" in str(response.context["adminform"].form.errors)
    assert not Contract.objects.exists()


def test_identity_document_numbers_are_write_only_and_shown_masked(operator_client, operator):
    member = MemberFactory()
    response = operator_client.post(
        reverse("admin:members_identitydocument_add"),
        {
            "member": member.pk,
            "kind": "passport",
            "number": "TK1234567",
            "verified_at_0": "2025-01-10",
            "verified_at_1": "10:00:00",
        },
    )
    assert response.status_code == 302
    document = member.documents.get()
    assert (document.number, document.verified_by) == ("TK1234567", operator)
    page = operator_client.get(reverse("admin:members_identitydocument_change", args=[document.pk]))
    content = page.content.decode()
    assert "****4567" in content
    assert "TK1234567" not in content


def test_access_logs_are_read_only_for_everyone(client, privacy_officer):
    client.force_login(_staff(privacy_officer))
    log = AccessLog.objects.create(user=privacy_officer, action=AccessAction.VIEW)
    assert client.get(reverse("admin:members_accesslog_changelist")).status_code == 200
    assert client.get(reverse("admin:members_accesslog_add")).status_code == 403
    assert client.get(reverse("admin:members_accesslog_delete", args=[log.pk])).status_code == 403
    response = client.post(reverse("admin:members_accesslog_change", args=[log.pk]), {"detail": "x"})
    assert response.status_code == 403


def test_contact_records_are_added_through_the_service_and_name_the_recorder(operator_client, operator):
    member = MemberFactory()
    response = operator_client.post(
        reverse("admin:members_contactrecord_add"),
        {
            "member": member.pk,
            "at_0": "2025-02-03",
            "at_1": "14:30:00",
            "channel": "phone",
            "inbound": "on",
            "summary": "請求書の送付先についての問い合わせ",
        },
    )
    assert response.status_code == 302
    record = member.contacts.get()
    assert record.recorded_by == operator
    assert record.history.get().history_user == operator
    change = reverse("admin:members_contactrecord_change", args=[record.pk])
    assert operator_client.post(change, {"summary": "書き換え"}).status_code == 403


@pytest.mark.parametrize("member_no", ["2000000777", "1/2", "a%b"])
def test_the_admin_list_links_each_member_to_its_workspace(operator_client, member_no):
    """The number column's link is the workspace URL ``reverse`` gives, also for numbers typed
    before numbers had one format (a slash or a percent sign must not be encoded twice)."""
    MemberFactory(member_no=member_no)
    html = operator_client.get(CHANGELIST).content.decode()
    url = reverse("member_workspace", args=[member_no])
    assert f'<a href="{url}">' in html
    assert operator_client.get(url).status_code == 200
