"""The provision records (第三者提供記録) a registration file leaves: one per member and file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy

from bureaus.models import RecordType, Submission, SubmissionBatch
from bureaus.services.common import CHUNK_SIZE, _set_based
from consentoffice.core.dates import period_end
from consentoffice.core.history import history_select
from consentoffice.core.i18n import record_text
from members.models import ProvisionBasis, ProvisionRecord, RecipientKind
from members.services import PROVISION_RECORD_YEARS, record_provisions_bulk

# The items of a provision record (第三者提供記録) per record type; identity data goes with every record.
IDENTITY_ITEM = gettext_lazy("本人を特定するための情報（氏名・生年月日・性別・住所・電話番号・勤務先）")
PROVIDED_ITEMS: dict[str, Any] = {
    RecordType.APPLICATION: gettext_lazy("申込みをした事実"),
    RecordType.CONTRACT: gettext_lazy("契約内容に関する情報"),
    RecordType.CONTRACT_END: gettext_lazy("契約内容に関する情報"),
    RecordType.PAYMENT: gettext_lazy("返済状況に関する情報"),
    RecordType.DELINQUENCY: gettext_lazy("返済状況に関する情報（延滞）"),
    RecordType.DELINQUENCY_RESOLVED: gettext_lazy("返済状況に関する情報（延滞解消）"),
    RecordType.COLLECTION: gettext_lazy("取引事実に関する情報"),
    RecordType.DEBT_SETTLEMENT: gettext_lazy("取引事実に関する情報"),
    RecordType.GUARANTEE_PERFORMANCE: gettext_lazy("取引事実に関する情報"),
    RecordType.FORCED_CANCELLATION: gettext_lazy("取引事実に関する情報"),
    RecordType.BANKRUPTCY: gettext_lazy("取引事実に関する情報"),
    RecordType.CREDIT_TRANSFER: gettext_lazy("取引事実に関する情報（債権譲渡）"),
    RecordType.IDENTITY: IDENTITY_ITEM,
    RecordType.CORRECTION: gettext_lazy("本人を特定するための情報の訂正"),
    RecordType.DELETION: gettext_lazy("登録情報の削除の依頼"),
}


def _record_provisions(batch: SubmissionBatch, *, actor, provided_on: date) -> int:
    """One provision record (第三者提供記録; APPI Art. 29, consent-based, clause Art. 3) per member
    in the batch, with its history row: the items are the identity data and the kinds of facts
    sent (``PROVIDED_ITEMS``, in record type order, each once). On PostgreSQL one statement
    writes them all; elsewhere ``members.services.record_provisions_bulk`` does, in chunks."""
    reason = record_text("個人信用情報機関への登録（第三者提供記録）")
    if not _set_based():
        return record_provisions_bulk(
            _provision_rows(batch, provided_on=provided_on), actor=actor, reason=reason, batch_size=CHUNK_SIZE
        )
    types = sorted(PROVIDED_ITEMS)
    if len(types) > 31:
        raise ImproperlyConfigured("record types must fit the bits of an integer")
    identity = str(IDENTITY_ITEM)
    basis = ProvisionBasis.CONSENT
    quote = connection.ops.quote_name
    # The history rows come from the INSERT's own rows (as ``copy_to_history`` writes them).
    columns, values, history_params = history_select(
        ProvisionRecord,
        connection,
        actor=actor,
        reason=reason,
        history_type="+",
        at=timezone.now(),
        named=True,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH kinds AS MATERIALIZED (
                -- the record types of each member's records in the batch, as bits (position in types)
                SELECT member_id,
                       COALESCE(bit_or(1 << (array_position(%(types)s::text[], record_type::text) - 1)), 0) AS mask
                FROM {quote(Submission._meta.db_table)} WHERE batch_id = %(batch)s
                GROUP BY member_id
            ), labels AS MATERIALIZED (
                -- the items of each combination of record types found, made once per combination
                -- (inlined, PostgreSQL made them again for every member: it cannot count a CTE's rows)
                SELECT m.mask, jsonb_build_array(%(identity)s::text) || COALESCE((
                    SELECT jsonb_agg(i.item ORDER BY i.position) FROM (
                        SELECT k.item, min(k.position) AS position
                        FROM unnest(%(types)s::text[], %(items)s::text[]) WITH ORDINALITY
                            AS k(record_type, item, position)
                        WHERE m.mask & (1 << (k.position::int - 1)) <> 0 AND k.item <> %(identity)s
                        GROUP BY k.item
                    ) i), '[]'::jsonb) AS items
                FROM (SELECT DISTINCT mask FROM kinds) m
            ), source AS (
                INSERT INTO {quote(ProvisionRecord._meta.db_table)} (
                    member_id, recipient_kind, recipient, items, provided_on, basis, consent_recorded,
                    kept_until, reference)
                SELECT kinds.member_id, %(recipient_kind)s, %(recipient)s, labels.items,
                       %(provided_on)s, %(basis)s, %(consent_recorded)s, %(kept_until)s, %(reference)s
                FROM kinds JOIN labels ON labels.mask = kinds.mask ORDER BY kinds.member_id
                RETURNING *
            ), history AS (
                INSERT INTO {quote(ProvisionRecord.history.model._meta.db_table)} ({columns})
                SELECT {values} FROM source
            )
            SELECT count(*) FROM source
            """,
            {
                "batch": batch.pk,
                "types": types,
                "items": [str(PROVIDED_ITEMS[record_type]) for record_type in types],
                "identity": identity,
                "recipient_kind": RecipientKind.BUREAU,
                "recipient": batch.bureau.name,
                "provided_on": provided_on,
                "basis": basis,
                "consent_recorded": True,
                "kept_until": period_end(provided_on, years=PROVISION_RECORD_YEARS[basis]),
                "reference": f"bureau-batch:{batch.pk}",
                **history_params,
            },
        )
        return cursor.fetchone()[0]


def _provision_rows(batch: SubmissionBatch, *, provided_on: date) -> Iterator[dict[str, Any]]:
    rows = (
        Submission.objects.filter(batch=batch)
        .order_by("member_id", "record_type")
        .values_list("member_id", "record_type")
        .distinct()
    )
    current, types = None, []
    for member_id, record_type in rows.iterator(chunk_size=CHUNK_SIZE):
        if member_id != current and current is not None:
            yield _provision_row(batch, current, types, provided_on)
            types = []
        current = member_id
        types.append(record_type)
    if current is not None:
        yield _provision_row(batch, current, types, provided_on)


def _provision_row(batch: SubmissionBatch, member_id: int, types: list[str], provided_on: date) -> dict:
    items = [str(IDENTITY_ITEM)]
    for record_type in types:
        item = str(PROVIDED_ITEMS[record_type])
        if item not in items:
            items.append(item)
    return {
        "member_id": member_id,
        "recipient_kind": RecipientKind.BUREAU,
        "recipient": batch.bureau.name,
        "items": items,
        "basis": ProvisionBasis.CONSENT,
        "provided_on": provided_on,
        "reference": f"bureau-batch:{batch.pk}",
    }
