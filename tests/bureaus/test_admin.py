"""The bureau pages of the admin: lists with constant query counts, actions through services."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.template import Context, Template
from django.urls import reverse

from bureaus import services
from bureaus.models import Inquiry, Submission, SubmissionStatus
from members.models import AccessLog
from tests.bureaus.conftest import bureau_answer
from tests.factories import ContractFactory


def _registered(system, n: int) -> None:
    for _ in range(n):
        contract = ContractFactory(contracted_on=date(2024, 1, 20))
        services.record_contract_event(actor=system, contract=contract, record_type="contract")


@pytest.fixture
def staff_supervisor(supervisor, client):
    supervisor.is_staff = True
    supervisor.save()
    client.force_login(supervisor)
    return supervisor


@pytest.fixture
def staff_operator(operator, client):
    operator.is_staff = True
    operator.save()
    client.force_login(operator)
    return operator


def _queries(client, url, django_assert_max_num_queries, limit):
    with django_assert_max_num_queries(limit):
        response = client.get(url)
    assert response.status_code == 200
    return response


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:bureaus_bureau_changelist",
        "admin:bureaus_submission_changelist",
        "admin:bureaus_submissionbatch_changelist",
        "admin:bureaus_inquiry_changelist",
    ],
)
def test_changelist_query_count_does_not_grow_with_rows(
    url_name, system, staff_supervisor, client, django_assert_max_num_queries, operator
):
    _registered(system, 2)
    services.build_batches(actor=system)
    contract = ContractFactory(status="applied", contracted_on=None)
    services.make_inquiry(actor=operator, contract=contract, bureau="CIC", purpose="ability_to_pay")
    url = reverse(url_name)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    _registered(system, 6)
    services.build_batches(actor=system)
    for _ in range(4):
        services.make_inquiry(
            actor=operator,
            contract=ContractFactory(status="applied", contracted_on=None),
            bureau="JICC",
            purpose="ability_to_pay",
        )
    _queries(client, url, django_assert_max_num_queries, len(few.captured_queries))


def test_bureau_page_shows_pending_batches_and_rejects(
    system, staff_supervisor, client, cic, private_storage
):
    _registered(system, 2)
    batch = services.build_batches(actor=system)[0]
    first = Submission.objects.filter(batch=batch).first()
    services.import_response(
        actor=staff_supervisor,
        batch=batch,
        stream=bureau_answer(batch, private_storage / batch.file_name, rejects={first.pk: "11"}),
    )
    _registered(system, 1)
    page = client.get(reverse("admin:bureaus_bureau_change", args=[cic.pk])).content.decode()
    assert "契約内容（契約成立）: 1" in page
    assert str(batch) in page
    assert "返却された登録情報の一覧を開く" in page
    listing = client.get(reverse("admin:bureaus_bureau_changelist")).content.decode()
    assert "status__exact=rejected" in listing


def _returned(system, supervisor, private_storage, code: str = "11") -> Submission:
    _registered(system, 1)
    batch = services.build_batches(actor=system)[0]
    rejected = Submission.objects.get(batch=batch)
    services.import_response(
        actor=supervisor,
        batch=batch,
        stream=bureau_answer(batch, private_storage / batch.file_name, rejects={rejected.pk: code}),
    )
    rejected.refresh_from_db()
    return rejected


def test_resubmit_action_goes_through_the_service(system, staff_supervisor, client, private_storage):
    rejected = _returned(system, staff_supervisor, private_storage, code="20")
    response = client.post(
        reverse("admin:bureaus_submission_changelist"),
        {"action": "resubmit_rejected", "_selected_action": [rejected.pk]},
    )
    assert response.status_code == 302
    again = Submission.objects.get(original=rejected)
    assert again.status == SubmissionStatus.PENDING
    assert again.history.get().history_user == staff_supervisor


def test_inquiry_is_added_through_the_service(staff_operator, client, cic):
    contract = ContractFactory(status="applied", contracted_on=None)
    response = client.post(
        reverse("admin:bureaus_inquiry_add"),
        {"contract": contract.pk, "bureau": cic.pk, "purpose": "ability_to_pay"},
    )
    assert response.status_code == 302
    inquiry = Inquiry.objects.get()
    assert (inquiry.operator, inquiry.member) == (staff_operator, contract.member)
    assert Submission.objects.filter(inquiry=inquiry, record_type="application").exists()


def test_inquiry_form_offers_no_other_purpose(staff_operator, client, cic):
    contract = ContractFactory(status="applied", contracted_on=None)
    response = client.post(
        reverse("admin:bureaus_inquiry_add"),
        {"contract": contract.pk, "bureau": cic.pk, "purpose": "marketing"},
    )
    assert response.status_code == 200
    assert not Inquiry.objects.exists()


def test_batch_download_is_logged_for_each_member_in_the_file(system, staff_supervisor, client):
    _registered(system, 3)
    batch = services.build_batches(actor=system)[0]
    members = set(Submission.objects.filter(batch=batch).values_list("member_id", flat=True))
    assert len(members) == 3

    response = client.get(reverse("admin:bureaus_submissionbatch_download", args=[batch.pk]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"1RG0100CIC")
    logs = AccessLog.objects.filter(user=staff_supervisor, action="download")
    assert set(logs.exclude(member=None).values_list("member_id", flat=True)) == members
    assert logs.filter(member=None).count() == 1  # the file itself, with its batch and count
    assert all(log.path and log.detail.startswith(f"bureau batch {batch.pk}") for log in logs)


def test_operators_may_not_download_a_bureau_file(system, staff_operator, client):
    _registered(system, 2)
    batch = services.build_batches(actor=system)[0]
    url = reverse("admin:bureaus_submissionbatch_download", args=[batch.pk])
    assert client.get(url).status_code == 403
    assert not AccessLog.objects.exists()
    page = client.get(reverse("admin:bureaus_submissionbatch_change", args=[batch.pk])).content.decode()
    assert url not in page
    assert url not in client.get(reverse("admin:bureaus_submissionbatch_changelist")).content.decode()


def test_response_import_page_imports_the_file(system, staff_supervisor, client, private_storage):
    _registered(system, 1)
    batch = services.build_batches(actor=system)[0]
    answer = bureau_answer(batch, private_storage / batch.file_name)
    answer.name = "answer.dat"
    url = reverse("admin:bureaus_submissionbatch_import", args=[batch.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"file": answer}).status_code == 302
    assert Submission.objects.get(batch=batch).status == SubmissionStatus.ACCEPTED


def test_operator_cannot_import_a_response(system, staff_operator, client):
    _registered(system, 1)
    batch = services.build_batches(actor=system)[0]
    assert client.get(reverse("admin:bureaus_submissionbatch_import", args=[batch.pk])).status_code == 403


def test_member_registrations_snippet_lists_registrations(system, formed_contract, member):
    services.record_contract_event(actor=system, contract=formed_contract, record_type="contract")
    html = Template("{% load bureaus %}{% member_registrations member %}").render(Context({"member": member}))
    assert "株式会社シー・アイ・シー" in html
    assert "契約期間中（終了後5年）" in html


def test_operator_group_can_view_submissions(db):
    assert Group.objects.get(name="operator").permissions.filter(codename="view_submission").exists()


def test_member_page_shows_what_is_registered_where_and_until_when(
    system, staff_operator, client, formed_contract, member
):
    services.record_contract_event(actor=system, contract=formed_contract, record_type="contract")
    response = client.get(reverse("admin:members_member_change", args=[member.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "個人信用情報機関への登録" in page
    assert "株式会社シー・アイ・シー" in page


def test_a_returned_record_offers_correct_and_resend_on_its_page(
    system, staff_supervisor, client, private_storage
):
    rejected = _returned(system, staff_supervisor, private_storage)
    page = client.get(reverse("admin:bureaus_submission_change", args=[rejected.pk])).content.decode()
    assert "修正して再送" in page and "生年月日に誤りがあります" in page
    assert reverse("admin:bureaus_submission_resubmit", args=[rejected.pk]) in page
    assert reverse("admin:members_member_change", args=[rejected.member_id]) in page


def test_correct_and_resend_queues_a_fresh_record_with_history(
    system, staff_supervisor, client, private_storage
):
    from members import services as member_services

    rejected = _returned(system, staff_supervisor, private_storage)
    member_services.update_member(
        rejected.member, actor=staff_supervisor, reason="生年月日の誤りを訂正", birth_date=date(1980, 2, 3)
    )
    response = client.post(
        reverse("admin:bureaus_submission_resubmit", args=[rejected.pk]), {"reason": "生年月日を訂正"}
    )
    again = Submission.objects.get(original=rejected)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:bureaus_submission_change", args=[again.pk])
    assert again.status == SubmissionStatus.PENDING
    assert again.payload["identity"]["birth_date"] == "1980-02-03"
    created = again.history.get()
    assert (created.history_user, created.history_change_reason) == (staff_supervisor, "生年月日を訂正")
    rejected.refresh_from_db()
    assert rejected.status == SubmissionStatus.SUPERSEDED
    assert rejected.history.first().history_user == staff_supervisor
    page = client.get(response["Location"]).content.decode()
    assert "再送待ちにしました" in page and 'id="resubmit-heading"' not in page


def test_only_a_returned_record_can_be_resent(system, staff_supervisor, client, private_storage):
    _registered(system, 1)
    pending = Submission.objects.first()
    response = client.post(reverse("admin:bureaus_submission_resubmit", args=[pending.pk]), follow=True)
    assert "返却された登録情報だけが再送できます。" in response.content.decode()
    assert not Submission.objects.filter(original=pending).exists()
    assert client.get(reverse("admin:bureaus_submission_resubmit", args=[pending.pk])).status_code == 405
