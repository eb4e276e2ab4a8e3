"""Consent (clauses Art. 2, 5, 9): the history of a consent is its proof, published versions are
frozen and need a second person, and an application is never declined over marketing alone."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from members import services
from members.models import Consent, ConsentVersion, Contract, ContractStatus
from tests.factories import MemberFactory, current_version

REFUSABLE = ("marketing_own", "marketing_partner", "research")
REQUIRED = ("credit", "bureau")
MARKETING = ("marketing_own", "marketing_partner")


def new_version(actor, code: str = "v2") -> ConsentVersion:
    return services.create_consent_version(
        actor=actor,
        code=code,
        title="同意条項 第2版",
        body="第1条 …（改定版）",
        effective_from=date(2030, 4, 1),
    )


# --- set_consent ------------------------------------------------------------------------------


def test_set_consent_records_the_state_and_a_history_row_as_proof(operator):
    member = MemberFactory()

    consent = services.set_consent(
        member, purpose="marketing_own", granted=True, actor=operator, source="phone"
    )

    consent.refresh_from_db()
    assert consent.granted is True
    assert consent.version == current_version()
    assert consent.source == "phone"
    assert consent.recorded_at is not None
    proof = consent.history.get()
    assert proof.history_user == operator
    assert proof.granted is True
    assert proof.version_id == current_version().pk
    assert proof.history_change_reason


def test_withdrawing_consent_adds_a_second_history_row(operator):
    member = MemberFactory()
    services.set_consent(member, purpose="marketing_own", granted=True, actor=operator, source="application")

    consent = services.set_consent(
        member, purpose="marketing_own", granted=False, actor=operator, source="ticket"
    )

    assert Consent.objects.get(pk=consent.pk).granted is False
    assert list(consent.history.order_by("history_id").values_list("granted", "source")) == [
        (True, "application"),
        (False, "ticket"),
    ]


def test_recording_the_same_consent_again_adds_no_history(operator):
    member = MemberFactory()
    services.set_consent(member, purpose="research", granted=True, actor=operator, source="web")
    services.set_consent(member, purpose="research", granted=True, actor=operator, source="web")
    assert Consent.history.count() == 1


def test_consent_to_an_unpublished_version_is_refused(operator, privacy_officer):
    member = MemberFactory()
    draft = new_version(privacy_officer)

    with pytest.raises(ValidationError) as exc:
        services.set_consent(
            member, purpose="credit", granted=True, actor=operator, source="application", version=draft
        )

    assert "未公開の同意条項の版には同意を記録できません。" in exc.value.message_dict["version"]
    assert Consent.objects.count() == 0
    assert Consent.history.count() == 0


# --- Consent versions (Art. 9) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [("body", "本文を書き換え"), ("title", "別の表題"), ("effective_from", date(2000, 1, 1))],
)
def test_a_published_consent_version_cannot_be_changed(db, field, value):
    version = current_version()
    assert version.is_published
    setattr(version, field, value)

    with pytest.raises(ValidationError) as exc:
        version.full_clean()

    assert "公開済みの同意条項は変更できません。新しい版を作成してください。" in exc.value.messages


def test_a_draft_consent_version_can_still_be_edited(privacy_officer):
    draft = new_version(privacy_officer)
    draft.body = "第1条 …（再改定）"
    draft.full_clean()
    assert draft.body_sha256 == ConsentVersion.digest("第1条 …（再改定）")


def test_publishing_needs_a_privacy_officer_other_than_the_preparer(privacy_officer, privacy_officer2):
    draft = new_version(privacy_officer)

    with pytest.raises(PermissionDenied):
        services.publish_consent_version(draft, actor=privacy_officer)
    draft.refresh_from_db()
    assert draft.published_at is None

    published = services.publish_consent_version(draft, actor=privacy_officer2)

    published.refresh_from_db()
    assert published.is_published
    assert published.published_by == privacy_officer2
    assert published.prepared_by == privacy_officer
    latest = published.history.first()
    assert latest.history_user == privacy_officer2
    assert latest.published_at is not None


def test_a_supervisor_cannot_publish_a_consent_version(privacy_officer, supervisor):
    draft = new_version(privacy_officer)
    with pytest.raises(PermissionDenied):
        services.publish_consent_version(draft, actor=supervisor)
    draft.refresh_from_db()
    assert draft.published_at is None


def test_an_operator_cannot_prepare_a_consent_version(operator):
    with pytest.raises(PermissionDenied):
        new_version(operator)
    assert not ConsentVersion.objects.filter(code="v2").exists()


def test_a_version_is_published_only_once(privacy_officer, privacy_officer2):
    draft = services.publish_consent_version(new_version(privacy_officer), actor=privacy_officer2)
    with pytest.raises(ValidationError):
        services.publish_consent_version(draft, actor=privacy_officer2)


# --- decide_application (Art. 5) -------------------------------------------------------------


@pytest.fixture
def application(operator):
    member = MemberFactory(status="applicant")
    return services.apply_for_contract(
        actor=operator, member=member, kind="shopping", product_name="一般カード"
    )


def consents(member, actor, *, granted: tuple[str, ...], refused: tuple[str, ...] = ()) -> None:
    for code in granted:
        services.set_consent(member, purpose=code, granted=True, actor=actor, source="application")
    for code in refused:
        services.set_consent(member, purpose=code, granted=False, actor=actor, source="application")


def test_approving_an_application_forms_the_contract(application, operator, supervisor):
    consents(application.member, operator, granted=REQUIRED + REFUSABLE)

    contract = services.decide_application(application, approve=True, actor=supervisor)

    contract.refresh_from_db()
    assert contract.status == ContractStatus.FORMED
    assert contract.contracted_on == timezone.localdate()
    assert contract.history.first().history_user == supervisor
    contract.member.refresh_from_db()
    assert contract.member.status == "active"


def test_refusing_only_marketing_is_no_ground_to_decline(application, operator, supervisor):
    """Art. 5 protects the refusal of Art. 2(1)①② and nothing else."""
    consents(application.member, operator, granted=REQUIRED + ("research",), refused=MARKETING)

    with pytest.raises(ValidationError) as exc:
        services.decide_application(application, approve=False, actor=supervisor, reason="consent_refused")

    message = exc.value.message_dict["reason"][0]
    assert "同意条項第5条" in message and "①②" in message
    application.refresh_from_db()
    assert application.status == ContractStatus.APPLIED
    assert application.history.count() == 1


def test_refusing_research_may_decline_the_application(application, operator, supervisor):
    """Market research (Art. 2(1)③) is not protected by Art. 5: its refusal may decline."""
    consents(application.member, operator, granted=REQUIRED + MARKETING, refused=("research",))

    contract = services.decide_application(
        application, approve=False, actor=supervisor, reason="consent_refused"
    )

    assert contract.status == ContractStatus.DECLINED
    assert contract.decline_reason == "consent_refused"


def test_refused_marketing_still_allows_approval(application, operator, supervisor):
    consents(application.member, operator, granted=REQUIRED, refused=REFUSABLE)
    contract = services.decide_application(application, approve=True, actor=supervisor)
    assert contract.status == ContractStatus.FORMED


@pytest.mark.parametrize(
    ("granted", "refused"),
    [
        (("bureau",), ("credit",)),  # credit refused
        (("credit",), ()),  # bureau consent missing
        ((), ()),  # nothing recorded
    ],
)
def test_missing_credit_or_bureau_consent_may_decline_the_application(
    application, operator, supervisor, granted, refused
):
    consents(application.member, operator, granted=granted + REFUSABLE, refused=refused)

    contract = services.decide_application(
        application, approve=False, actor=supervisor, reason="consent_refused"
    )

    contract.refresh_from_db()
    assert contract.status == ContractStatus.DECLINED
    assert contract.decline_reason == "consent_refused"
    assert contract.history.first().history_change_reason.startswith("申込を謝絶")


def test_declining_needs_a_known_reason(application, supervisor):
    with pytest.raises(ValidationError) as exc:
        services.decide_application(application, approve=False, actor=supervisor, reason="")
    assert "reason" in exc.value.message_dict
    assert Contract.objects.get(pk=application.pk).status == ContractStatus.APPLIED


def test_an_operator_cannot_decide_an_application(application, operator):
    consents(application.member, operator, granted=REQUIRED)
    with pytest.raises(PermissionDenied):
        services.decide_application(application, approve=True, actor=operator)
    application.refresh_from_db()
    assert application.status == ContractStatus.APPLIED


def test_a_decided_application_cannot_be_decided_again(application, operator, supervisor):
    consents(application.member, operator, granted=REQUIRED)
    services.decide_application(application, approve=True, actor=supervisor)
    with pytest.raises(ValidationError):
        services.decide_application(application, approve=False, actor=supervisor, reason="other")
