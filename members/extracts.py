"""営業・調査リストの抽出 (marketing extract): the privacy officer draws the members whose data may be
used for marketing or research (clause Art. 2(1)①②③, Art. 7; DESIGN "Use of data") as a CSV.

1. ``count_extract``: one COUNT over ``members.selectors.usable_members(purpose)`` narrowed by what
   the channel needs (``CHANNELS``) — the page shows it before anything is drawn.
2. ``start_extract``: records the extract (``MarketingExtract``) and writes one access-log
   ``export`` row per member with one INSERT … SELECT over that same queryset: the log is the
   snapshot of the rule at that moment.
3. ``stream_extract``: the CSV of exactly the logged members (server-side cursor, blocks of rows;
   memory stays flat however many there are), hashing the bytes as they go out; when the last
   byte has gone, ``finish_extract`` records the count and the SHA-256. A download broken off
   leaves the extract unfinished — its members stay in the access log, since data may have left.

The rule is never restated here: the only filter on top of ``usable_members`` is the channel's
contact item.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consentoffice.core import roles
from consentoffice.core.csv_export import csv_blocks
from consentoffice.core.history import save_tracked
from consentoffice.core.i18n import record_text
from consentoffice.core.queries import jit_off
from members import selectors
from members.models import AccessAction, AccessLog, ExtractChannel, ExtractPurpose, MarketingExtract, Member
from members.normalize import format_phone, format_postal_code
from members.services import record_access_set, require_perm

# Rows fetched per round trip and written per block of the CSV.
CHUNK_ROWS = 2000
# A mobile number (SMS): 070, 080 or 090 and eight digits — but 0800 is toll-free, not a mobile.
MOBILE_PHONE = Q(phone__regex=r"^0[789]0[0-9]{8}$") & ~Q(phone__startswith="0800")


@dataclass(frozen=True)
class Column:
    label: Promise
    field: str
    format: Callable[[str], str] | None = None


NAME_COLUMNS = (
    Column(gettext_lazy("会員番号"), "member_no"),
    Column(gettext_lazy("姓"), "family_name"),
    Column(gettext_lazy("名"), "given_name"),
    Column(gettext_lazy("セイ"), "family_name_kana"),
    Column(gettext_lazy("メイ"), "given_name_kana"),
)
PHONE_COLUMNS = (Column(gettext_lazy("電話番号"), "phone", format_phone),)


@dataclass(frozen=True)
class ChannelRule:
    """What a channel needs of a member (``needs``) and the contact items the file carries."""

    needs: Q
    columns: tuple[Column, ...]


# One table: per channel, the members it can reach and the only contact items it may carry.
CHANNELS: dict[str, ChannelRule] = {
    ExtractChannel.POST: ChannelRule(
        ~Q(postal_code="") & ~Q(city="") & ~Q(address_line=""),
        (
            Column(gettext_lazy("郵便番号"), "postal_code", format_postal_code),
            Column(gettext_lazy("都道府県"), "prefecture"),
            Column(gettext_lazy("市区町村"), "city"),
            Column(gettext_lazy("番地・建物名"), "address_line"),
        ),
    ),
    ExtractChannel.PHONE: ChannelRule(~Q(phone=""), PHONE_COLUMNS),
    ExtractChannel.SMS: ChannelRule(MOBILE_PHONE, PHONE_COLUMNS),
    ExtractChannel.EMAIL: ChannelRule(~Q(email=""), (Column(gettext_lazy("メールアドレス"), "email"),)),
}


def _checked(purpose: str, channel: str) -> tuple[str, str]:
    errors = {}
    if purpose not in ExtractPurpose.values:
        errors["purpose"] = _("利用目的を選んでください。")
    if channel not in CHANNELS:
        errors["channel"] = _("連絡方法を選んでください。")
    if errors:
        raise ValidationError(errors)
    return purpose, channel


def columns(channel: str) -> tuple[Column, ...]:
    return NAME_COLUMNS + CHANNELS[channel].columns


def extract_members(purpose: str, channel: str, *, on: date | None = None) -> QuerySet[Member]:
    """The members an extract for ``purpose`` by ``channel`` holds: ``usable_members`` and the
    channel's contact item, nothing else."""
    purpose, channel = _checked(purpose, channel)
    return selectors.usable_members(purpose, on=on).filter(CHANNELS[channel].needs)


def _without_jit() -> None:
    """PostgreSQL compiles the rule's plan with JIT (its cost estimate is high), which took about
    0.7 s of each 2 s statement at 200,000 members and saves nothing on a plan of index lookups:
    off for the rest of the caller's transaction."""
    jit_off(router.db_for_write(AccessLog))


def count_extract(*, actor, purpose: str, channel: str, on: date | None = None) -> int:
    """How many members an extract would hold (one COUNT): shown before the download."""
    require_perm(actor, roles.EXTRACT_MARKETING)
    queryset = extract_members(purpose, channel, on=on).order_by()
    with transaction.atomic():
        _without_jit()
        return queryset.count()


def _log_members(extract: MarketingExtract, queryset: QuerySet[Member], *, request=None) -> int:
    """One access-log ``export`` row per member of ``queryset``, written by the database in one
    INSERT … SELECT (``services.record_access_set``); returns how many."""
    return record_access_set(
        user=extract.user,
        action=AccessAction.EXPORT,
        member_ids=queryset.order_by().values("id"),
        request=request,
        detail=extract.log_detail,
        at=extract.started_at,
        distinct=False,
    )


def start_extract(
    *, actor, purpose: str, channel: str, request=None, on: date | None = None
) -> tuple[MarketingExtract, int]:
    """Record the extract and log its members (one access-log row each); returns the extract and
    the number of members logged. The CSV is then ``stream_extract``."""
    require_perm(actor, roles.EXTRACT_MARKETING)
    purpose, channel = _checked(purpose, channel)
    on = on or timezone.localdate()
    with transaction.atomic():
        extract = save_tracked(
            MarketingExtract(user=actor, judged_on=on, purpose=purpose, channel=channel),
            actor=actor,
            reason=record_text("営業リストの抽出を開始"),
        )
        _without_jit()
        logged = _log_members(extract, extract_members(purpose, channel, on=on), request=request)
    return extract, logged


def extract_rows(extract: MarketingExtract) -> QuerySet:
    """The CSV's rows: the members logged for ``extract`` (its snapshot of the rule), by number."""
    logged = AccessLog.objects.filter(
        user_id=extract.user_id,
        at=extract.started_at,
        action=AccessAction.EXPORT,
        detail=extract.log_detail[:300],
    ).values("member_id")
    fields = [column.field for column in columns(extract.channel)]
    return Member.objects.filter(pk__in=logged).order_by("member_no").values_list(*fields)


def header(channel: str) -> list[str]:
    return [str(column.label) for column in columns(channel)]


def stream_extract(extract: MarketingExtract, *, actor, logged: int) -> Iterator[bytes]:
    """The CSV (UTF-8 with BOM, formula cells guarded) as bytes; when the last byte is out, the
    count and SHA-256 of exactly those bytes are recorded (``finish_extract``)."""
    formats = [column.format for column in columns(extract.channel)]
    digest = hashlib.sha256()
    count = 0

    def formatted(rows) -> Iterator[list]:
        nonlocal count
        for row in rows:
            count += 1
            yield [value if fmt is None else fmt(value) for value, fmt in zip(row, formats, strict=True)]

    # In a transaction, so PostgreSQL streams through a server-side cursor (outside one, Django
    # declares it WITH HOLD and the server materializes the whole result first).
    with transaction.atomic():
        _without_jit()
        rows = extract_rows(extract).iterator(chunk_size=CHUNK_ROWS)
        for block in csv_blocks(header(extract.channel), formatted(rows), rows_per_block=CHUNK_ROWS):
            data = block.encode("utf-8")
            digest.update(data)
            yield data
    finish_extract(extract, actor=actor, count=count, logged=logged, sha256=digest.hexdigest())


def finish_extract(
    extract: MarketingExtract, *, actor, count: int, logged: int, sha256: str
) -> MarketingExtract:
    """Record that the whole file went out: its row count and SHA-256. Once only."""
    require_perm(actor, roles.EXTRACT_MARKETING)
    with transaction.atomic():
        extract = MarketingExtract.objects.select_for_update().get(pk=extract.pk)
        if extract.finished:
            raise ValidationError(_("この抽出記録は完了済みのため変更できません。"))
        extract.count, extract.logged, extract.sha256 = count, logged, sha256
        extract.finished, extract.finished_at = True, timezone.now()
        return save_tracked(extract, actor=actor, reason=record_text("営業リストの出力を完了"))
