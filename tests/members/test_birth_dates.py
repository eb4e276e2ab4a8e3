"""A birth date is an identity item sent to the bureaus (clause Art. 3): a future date or one before
1900 is refused on every path that writes one, in Japanese, with nothing saved. The adult check
(Civil Code Art. 4) is for a new application only."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from members import services
from members.models import Member, PartnerSyncEvent
from requests import rules
from requests import services as request_services
from requests.models import CorrectionItem
from tests.factories import AffiliateFactory, ContractFactory, MemberFactory
from tests.members.test_admin import _staff
from tests.members.test_partner_inbound import SECRET, _doc, _post
from tests.members.test_services import valid_fields
from tests.requests import verified_request

FUTURE = "生年月日が未来の日付です。"
TOO_EARLY = "生年月日は1900年1月1日以降の日付で入力してください。"
STORED = date(1980, 4, 1)


def _tomorrow() -> date:
    return timezone.localdate() + timedelta(days=1)


# Each path writes ``value`` as the birth date and returns the Japanese messages its caller sees
# (``None`` where the caller is an affiliate's system and gets an error code instead).


def via_create_member(ctx, value: date):
    with pytest.raises(ValidationError) as exc:
        services.create_member(actor=ctx["operator"], **valid_fields(birth_date=value))
    return exc.value.message_dict["birth_date"]


def via_update_member(ctx, value: date):
    with pytest.raises(ValidationError) as exc:
        services.update_member(
            ctx["member"], actor=ctx["operator"], reason="生年月日の届出", birth_date=value
        )
    return exc.value.message_dict["birth_date"]


def via_admin_add_form(ctx, value: date):
    client = ctx["client"]
    fields = {**valid_fields(birth_date=value.isoformat()), "status": "active", "reason": "申込書の受付"}
    response = client.post(reverse("admin:members_member_add"), fields)
    assert response.status_code == 200
    return response.context["adminform"].form.errors["birth_date"]


def via_correction_item(ctx, value: date):
    ticket = verified_request(rules.Kind.CORRECTION, member=ctx["member"], actor=ctx["operator"])
    with pytest.raises(ValidationError) as exc:
        request_services.add_correction_item(
            ticket, field="birth_date", requested_value=value.isoformat(), actor=ctx["operator"]
        )
    return exc.value.message_dict["requested_value"]


def via_partner_notice(ctx, value: date):
    response = _post(ctx["client"], "sakura", _doc(ctx["member"], birth_date=value.isoformat()))
    assert (response.status_code, response.json()["error"]) == (400, "invalid_value")
    return None


PATHS = [
    via_create_member,
    via_update_member,
    via_admin_add_form,
    via_correction_item,
    via_partner_notice,
]


@pytest.fixture
def ctx(client, operator):
    member = MemberFactory(birth_date=STORED)
    ContractFactory(member=member, affiliate=AffiliateFactory(code="sakura", shared_secret=SECRET))
    ContractFactory(member=member, affiliate=AffiliateFactory(code="minato"))
    client.force_login(_staff(operator))
    return {"member": member, "operator": operator, "client": client}


def _written(member: Member) -> tuple[int, ...]:
    return (
        Member.objects.count(),
        Member.history.count(),
        PartnerSyncEvent.objects.count(),
        CorrectionItem.objects.count(),
    )


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.__name__)
@pytest.mark.parametrize(
    ("value", "message"),
    [
        (_tomorrow, FUTURE),
        (lambda: date(1899, 12, 31), TOO_EARLY),
        (lambda: date(1, 1, 1), TOO_EARLY),
    ],
    ids=["tomorrow", "1899-12-31", "year-1"],
)
def test_an_impossible_birth_date_is_refused_on_every_path_and_nothing_is_saved(ctx, path, value, message):
    member = ctx["member"]
    before = _written(member)
    messages = path(ctx, value())
    if messages is not None:
        assert messages == [message]
    assert _written(member) == before
    member.refresh_from_db()
    assert member.birth_date == STORED


@pytest.mark.parametrize(
    "value",
    [date(1900, 1, 1), lambda: timezone.localdate(), date(2015, 6, 30)],
    ids=["1900-01-01", "today", "a-minor"],
)
def test_a_change_accepts_any_real_birth_date_because_the_adult_check_is_for_applications_only(ctx, value):
    value = value() if callable(value) else value
    member = services.update_member(
        ctx["member"], actor=ctx["operator"], reason="生年月日の訂正", birth_date=value
    )
    member.refresh_from_db()
    assert member.birth_date == value
    assert member.history.first().history_change_reason == "生年月日の訂正"


def test_a_new_application_still_needs_an_adult(ctx):
    with pytest.raises(ValidationError) as exc:
        services.create_member(actor=ctx["operator"], **valid_fields(birth_date=date(2015, 6, 30)))
    assert exc.value.message_dict["birth_date"] == ["お申込みは18歳以上の方に限られます。"]


def test_an_accepted_correction_of_the_birth_date_is_stored(ctx):
    ticket = verified_request(rules.Kind.CORRECTION, member=ctx["member"], actor=ctx["operator"])
    item = request_services.add_correction_item(
        ticket, field="birth_date", requested_value="1900-01-01", actor=ctx["operator"]
    )
    assert item.requested_value == "1900-01-01"
