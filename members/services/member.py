"""Registering members and changing their category ① data (Art. 10 sync queued on change)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from consentoffice.core.history import save_tracked
from consentoffice.core.i18n import record_text
from members.models import (
    CATEGORY_1_FIELDS,
    Affiliate,
    Member,
    NumberSequence,
)
from members.services.common import _require_reason, require_perm
from members.services.partners import queue_partner_sync

MEMBER_EDITABLE_FIELDS = frozenset(CATEGORY_1_FIELDS) | {"status"}
# What a member reports in a change notification (住所変更等の届出): the address as a group, phone
# and e-mail (``requests.services.file_change_notification``).
NOTIFIABLE_FIELDS = ("postal_code", "prefecture", "city", "address_line", "phone", "email")


MEMBER_NO_SEQUENCE = "member_no"


def next_member_no() -> str:
    """The next member number from the database's sequence, never the largest number in use
    (docs/postgresql.md#member-numbers-from-a-sequence)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval('member_no_seq')")
            value = cursor.fetchone()[0]
    else:
        with transaction.atomic():
            counter = NumberSequence.objects.filter(name=MEMBER_NO_SEQUENCE)
            if not counter.update(last_value=F("last_value") + 1):
                # A flushed test database: start again after the numbers in use (as the migration does).
                NumberSequence.objects.create(name=MEMBER_NO_SEQUENCE, last_value=_member_no_start())
            value = counter.get().last_value
    return f"{value:010d}"


FIRST_MEMBER_NO = 1_000_000_001
BULK_MEMBER_NO_START = "2000000000"  # seed_bulk's benchmark members are numbered from here on


def _member_no_start() -> int:
    last = (
        Member.objects.filter(member_no__regex=r"^[0-9]{10}$", member_no__lt=BULK_MEMBER_NO_START)
        .order_by("-member_no")
        .values_list("member_no", flat=True)
        .first()
    )
    return max(int(last) + 1, FIRST_MEMBER_NO) if last else FIRST_MEMBER_NO


def create_member(*, actor, reason: str = "", **fields: Any) -> Member:
    """Register a member (会員) with category ① data, normalized and validated."""
    require_perm(actor, "members.add_member")
    unknown = set(fields) - MEMBER_EDITABLE_FIELDS - {"member_no"}
    if unknown:
        raise ValidationError(_("登録できない項目です: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    for attempt in range(5):
        member = Member(**fields)
        if not member.member_no:
            member.member_no = next_member_no()
            if Member.objects.filter(member_no=member.member_no).exists():
                continue  # a number typed by hand earlier holds the sequence's next value
        try:
            with transaction.atomic():
                return save_tracked(member, actor=actor, reason=reason or record_text("会員登録"))
        except IntegrityError:
            if "member_no" in fields or attempt == 4:
                raise ValidationError({"member_no": _("この会員番号はすでに使われています。")}) from None
    raise ValidationError({"member_no": _("会員番号を採番できませんでした。もう一度登録してください。")})


def update_member(
    member: Member, *, actor, reason: str, source_affiliate: Affiliate | None = None, **changes: Any
) -> Member:
    """Change category ① data with a reason; affiliates holding a partner card are told (Art. 10).

    ``source_affiliate`` is the affiliate a change came from: it is not told again.
    """
    require_perm(actor, "members.change_member")
    reason = _require_reason(reason)
    unknown = set(changes) - MEMBER_EDITABLE_FIELDS
    if unknown:
        raise ValidationError(_("変更できない項目です: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    with transaction.atomic():
        locked = Member.objects.select_for_update().get(pk=member.pk)
        before = {field: getattr(locked, field) for field in changes}
        for field, value in changes.items():
            setattr(locked, field, value)
        locked.full_clean()
        changed = [field for field in changes if getattr(locked, field) != before[field]]
        if not changed:
            return locked
        save_tracked(locked, actor=actor, reason=reason, clean=False)
        queue_partner_sync(locked, changed, actor=actor, exclude=source_affiliate)
    for field in MEMBER_EDITABLE_FIELDS:
        setattr(member, field, getattr(locked, field))
    return locked
