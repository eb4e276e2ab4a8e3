"""``manage.py seed_demo``: demo users per role, members through the services, idempotent."""

from __future__ import annotations

import io
import re

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import override_settings
from faker.providers.person.ja_JP import Provider as JaPersonProvider

from consentoffice.core import roles
from members import demo
from members.models import (
    Consent,
    Contract,
    ContractStatus,
    DeclineReason,
    Entrustment,
    IdentityDocument,
    Member,
    PaymentRecord,
    Purpose,
    looks_like_individual_number,
)
from members.services import entrust, save_contractor
from tests.factories import MemberFactory

# Small enough to run fast, large enough to hit every scenario (see demo.scenario_of).
N = 20
FULL_WIDTH_KATAKANA = re.compile(r"^[\u30a1-\u30f6\u30fc]+$")


FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker):
    """Seed once per class inside a transaction that is rolled back afterwards; each test then
    runs in its own savepoint (pytest-django's ``db``), so tests stay independent and fast."""
    with django_db_blocker.unblock(), override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        with pytest.MonkeyPatch.context() as mp, transaction.atomic():
            mp.delenv("DEMO_PASSWORD", raising=False)
            output = seed()
            yield output
            transaction.set_rollback(True)


def seed(members: int = N) -> str:
    out = io.StringIO()
    call_command("seed_demo", members=members, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    """Rows of every model of our apps, history tables included, plus users and memberships."""
    counts = {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in {"members", "consentoffice", "requests", "bureaus"}
    }
    User = get_user_model()
    counts["users"] = User.objects.count()
    counts["memberships"] = User.groups.through.objects.count()
    return counts


@pytest.mark.usefixtures("seeded")
class TestSeededDemo:
    """One seed of N members, shared by these tests (read-only for them)."""

    def test_seed_creates_one_staff_login_per_role_in_its_group(self, db, seeded):
        output = seeded

        User = get_user_model()
        for spec in demo.DEMO_USERS:
            user = User.objects.get(username=spec.username)
            assert user.is_staff and not user.is_superuser
            assert list(user.groups.values_list("name", flat=True)) == [spec.role]
            assert user.check_password(demo.DEFAULT_DEMO_PASSWORD)
            assert spec.username in output
        assert {s.username for s in demo.DEMO_USERS} == {
            "operator",
            "operator2",
            "supervisor",
            "supervisor2",
            "privacy_officer",
        }
        assert demo.DEFAULT_DEMO_PASSWORD in output
        assert "パスワード" in output and "Password" in output

    def test_seed_creates_members_with_consent_for_every_purpose(self, db, seeded):
        assert Member.objects.count() == N
        assert Member.objects.filter(member_no=demo.member_no_for(1)).exists()
        purposes = Purpose.objects.count()
        assert purposes == 5
        assert Consent.objects.count() == N * purposes
        assert not Member.objects.exclude(pk__in=Consent.objects.values("member")).exists()
        refused = set(Consent.objects.filter(granted=False).values_list("purpose__code", flat=True))
        assert {"marketing_own", "bureau"} <= refused

    def test_about_a_fifth_of_members_hold_a_partner_card(self, db, seeded):
        holders = Member.objects.filter(contracts__affiliate__isnull=False).distinct().count()
        assert holders == sum(1 for i in range(1, N + 1) if demo.partner_affiliate_code(i))
        assert 0.15 <= holders / N <= 0.25
        codes = set(
            Contract.objects.filter(affiliate__isnull=False).values_list("affiliate__code", flat=True)
        )
        assert codes == {"sakura-dept", "minato-air"}

    def test_contracts_are_mostly_formed_with_a_few_in_every_other_state(self, db, seeded):
        statuses = dict.fromkeys(ContractStatus.values, 0)
        for status in Contract.objects.values_list("status", flat=True):
            statuses[status] += 1
        assert all(statuses.values()), statuses
        assert statuses[ContractStatus.FORMED] > sum(statuses.values()) / 2
        # Art. 5: the refusal of the bureau consent (not of marketing) is what declines with consent_refused.
        refused = Contract.objects.get(decline_reason=DeclineReason.CONSENT_REFUSED)
        assert refused.member.consents.get(purpose__code="bureau").granted is False

    def test_seed_writes_history_with_the_demo_users_as_actors(self, db, seeded):
        User = get_user_model()
        demo_users = set(
            User.objects.filter(username__in=[s.username for s in demo.DEMO_USERS]).values_list(
                "pk", flat=True
            )
        )
        for model in (Member, Contract, Consent, PaymentRecord, Entrustment):
            history = model.history.all()
            assert history.exists(), model
            assert set(history.values_list("history_user", flat=True)) <= demo_users
            assert not history.filter(history_change_reason="").exists()
        deciders = set(
            Contract.history.filter(status=ContractStatus.FORMED).values_list(
                "history_user__username", flat=True
            )
        )
        assert deciders <= {"supervisor", "supervisor2"}

    def test_payment_records_cover_twelve_months_mostly_paid_as_billed(self, db, seeded):
        months = PaymentRecord.objects.values("contract").distinct().count()
        assert PaymentRecord.objects.count() == months * 12
        codes = list(PaymentRecord.objects.values_list("status_code", flat=True))
        assert codes.count("$") > len(codes) / 2
        assert {"P", "A"} <= set(codes)

    def test_identity_documents_never_hold_an_individual_number(self, db, seeded):
        numbers = [doc.number for doc in IdentityDocument.objects.all()]
        assert len(numbers) == N
        assert not any(looks_like_individual_number(number) for number in numbers if number)

    def test_kana_are_full_width_katakana_readings_of_the_names(self, db, seeded):
        family_pairs = {(kanji, kana) for kanji, kana, _romaji in JaPersonProvider.last_name_pairs}
        given_pairs = {(kanji, kana) for kanji, kana, _romaji in JaPersonProvider.first_name_pairs}
        for member in Member.objects.all():
            assert FULL_WIDTH_KATAKANA.match(member.family_name_kana)
            assert FULL_WIDTH_KATAKANA.match(member.given_name_kana)
            assert (member.family_name, member.family_name_kana) in family_pairs
            assert (member.given_name, member.given_name_kana) in given_pairs

    def test_running_twice_creates_nothing_and_changes_nothing(self, db, seeded):
        before = row_counts()
        snapshot = list(Member.objects.order_by("pk").values())

        output = seed()

        assert row_counts() == before
        assert list(Member.objects.order_by("pk").values()) == snapshot
        assert "operator" in output


def test_demo_password_comes_from_the_environment(db, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "another-demo-pass-77")
    output = seed(members=0)

    assert get_user_model().objects.get(username="operator").check_password("another-demo-pass-77")
    assert "another-demo-pass-77" in output


def test_member_profiles_are_the_same_on_every_run():
    forward = [demo.member_profile(i) for i in (1, 2, 150)]
    backward = [demo.member_profile(i) for i in (150, 2, 1)]
    assert forward == backward[::-1]
    assert demo.member_profile(1) != demo.member_profile(2)


def test_a_larger_second_run_adds_only_the_missing_members(db):
    seed(members=3)
    first = list(Member.objects.order_by("member_no").values_list("member_no", "family_name", "given_name"))

    seed(members=5)

    assert Member.objects.count() == 5
    assert (
        list(Member.objects.order_by("member_no").values_list("member_no", "family_name", "given_name"))[:3]
        == first
    )


def test_seed_refuses_to_run_in_production(db, settings):
    settings.PRODUCTION = True

    with pytest.raises(CommandError, match="production"):
        seed()

    assert Member.objects.count() == 0
    assert not get_user_model().objects.filter(username="operator").exists()


def test_user_roles_are_the_roles_table():
    assert {spec.role for spec in demo.DEMO_USERS} == set(roles.ROLES)


def test_entrustment_to_a_contractor_is_recorded_with_actor_and_items(db, supervisor):

    contractor = save_contractor(actor=supervisor, name="テスト回収株式会社", business="督促業務")
    member = MemberFactory()

    record = entrust(
        actor=supervisor, contractor=contractor, member=member, purpose="督促", items=["family_name", "phone"]
    )

    assert record.items == ["family_name", "phone"]
    history = record.history.get()
    assert history.history_user == supervisor and history.history_change_reason


def test_operators_may_not_entrust_and_inactive_contractors_get_nothing(db, operator, supervisor):

    contractor = save_contractor(actor=supervisor, name="休止中の委託先", business="発送", active=False)
    member = MemberFactory()

    with pytest.raises(PermissionDenied):
        entrust(actor=operator, contractor=contractor, member=member, purpose="発送", items=["city"])
    with pytest.raises(ValidationError):
        entrust(actor=supervisor, contractor=contractor, member=member, purpose="発送", items=["city"])
    assert not Entrustment.objects.exists()
