"""Registration periods at the credit bureaus (登録期間, consent clause Art. 3(3)), as one table.

Each rule is ``(bureau code, record type) -> (anchor, months)``:

- ``event``: the period runs from the event date (an inquiry, a credit transfer);
- ``contract_end``: the fact stays registered while the contract runs and ``months`` after it
  ends (契約期間中及び契約終了後5年以内), so the date is ``None`` while the contract runs;
- ``registrations``: identity data (本人を特定するための情報) has no period of its own: it stays as
  long as anything else of the member is registered at that bureau (JICC: 契約内容に関する情報等が
  登録されている期間).

A combination missing from the table is not registered at that bureau (KSC, the partner bureau,
is only inquired): asking for it raises ``ValueError``. Periods are counted as the Civil Code
counts them (``consentoffice.core.dates.period_end``, Art. 140/143): the anchor day is not counted, so
28 February + 6 months = 31 August and 31 August + 6 months = 28/29 February.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from enum import StrEnum

from consentoffice.core.dates import period_end


class Anchor(StrEnum):
    EVENT = "event"
    CONTRACT_END = "contract_end"
    REGISTRATIONS = "registrations"


class RecordType(StrEnum):
    """What a submission registers; values are stored in ``Submission.record_type``."""

    APPLICATION = "application"  # 申込みをした事実 (registered by an inquiry)
    CONTRACT = "contract"  # 契約内容 (contract formed)
    PAYMENT = "payment"  # 返済状況 (monthly payment status)
    DELINQUENCY = "delinquency"  # 延滞 (異動: 61 days or 3 months overdue)
    DELINQUENCY_RESOLVED = "delinquency_resolved"  # 延滞解消
    CONTRACT_END = "contract_end"  # 完済・解約 (end of contract)
    COLLECTION = "collection"  # 債権回収
    DEBT_SETTLEMENT = "debt_settlement"  # 債務整理
    GUARANTEE_PERFORMANCE = "guarantee_performance"  # 保証履行
    FORCED_CANCELLATION = "forced_cancellation"  # 強制解約
    BANKRUPTCY = "bankruptcy"  # 破産申立
    CREDIT_TRANSFER = "credit_transfer"  # 債権譲渡
    IDENTITY = "identity"  # 本人を特定するための情報
    CORRECTION = "correction"  # 訂正 (APPI Art. 34; clause Art. 4)
    DELETION = "deletion"  # 削除 (clause Art. 4)


FIVE_YEARS = 60
CIC = "CIC"
JICC = "JICC"

_CONTRACT_FACTS = (
    RecordType.CONTRACT,
    RecordType.PAYMENT,
    RecordType.DELINQUENCY,
    RecordType.DELINQUENCY_RESOLVED,
    RecordType.CONTRACT_END,
)
# JICC 取引事実に関する情報: 契約継続中及び契約終了後5年以内 (credit transfer: 1 year from the event).
_JICC_TRANSACTION_FACTS = (
    RecordType.COLLECTION,
    RecordType.DEBT_SETTLEMENT,
    RecordType.GUARANTEE_PERFORMANCE,
    RecordType.FORCED_CANCELLATION,
    RecordType.BANKRUPTCY,
)

RULES: dict[tuple[str, str], tuple[Anchor, int]] = {
    # 本契約に係る申込みをした事実: 照会した日から6ヶ月 (CIC), 6ヶ月以内 (JICC).
    (CIC, RecordType.APPLICATION): (Anchor.EVENT, 6),
    (JICC, RecordType.APPLICATION): (Anchor.EVENT, 6),
    # 客観的な取引事実 / 契約内容及び返済状況 / 延滞: 契約期間中及び契約終了後5年以内.
    **{(CIC, rt): (Anchor.CONTRACT_END, FIVE_YEARS) for rt in _CONTRACT_FACTS},
    **{(JICC, rt): (Anchor.CONTRACT_END, FIVE_YEARS) for rt in _CONTRACT_FACTS},
    **{(JICC, rt): (Anchor.CONTRACT_END, FIVE_YEARS) for rt in _JICC_TRANSACTION_FACTS},
    (JICC, RecordType.CREDIT_TRANSFER): (Anchor.EVENT, 12),
    # 本人を特定するための情報: while anything else is registered; a correction replaces it.
    (CIC, RecordType.IDENTITY): (Anchor.REGISTRATIONS, 0),
    (JICC, RecordType.IDENTITY): (Anchor.REGISTRATIONS, 0),
    (CIC, RecordType.CORRECTION): (Anchor.REGISTRATIONS, 0),
    (JICC, RecordType.CORRECTION): (Anchor.REGISTRATIONS, 0),
    # A deletion instruction registers nothing: it lapses on its own date.
    (CIC, RecordType.DELETION): (Anchor.EVENT, 0),
    (JICC, RecordType.DELETION): (Anchor.EVENT, 0),
}

# Adverse registration (異動) after 61 days or 3 months overdue (CIC's published rule).
ADVERSE_DAYS_OVERDUE = 61
ADVERSE_MONTHS_UNPAID = 3
UNPAID_STATUS_CODES = frozenset({"A", "C"})  # unpaid for the member's reason or for no known reason
PAID_STATUS_CODES = frozenset({"$", "R", "-"})


def bureau_code(bureau) -> str:
    return getattr(bureau, "code", bureau)


def rule_for(bureau, record_type: str) -> tuple[Anchor, int]:
    try:
        return RULES[(bureau_code(bureau), str(record_type))]
    except KeyError:
        raise ValueError(f"no registration rule for {bureau_code(bureau)}/{record_type}") from None


def is_registered(bureau, record_type: str) -> bool:
    """Whether this bureau registers this kind of fact at all."""
    return (bureau_code(bureau), str(record_type)) in RULES


def registered_until(
    *,
    bureau,
    record_type: str,
    event_date: date,
    contract_end: date | None = None,
    others: Iterable[date | None] | None = None,
) -> date | None:
    """The day a registration lapses, or ``None`` while it runs with the contract.

    ``others`` (identity and correction records only) are the lapse dates of the member's other
    live registrations at the bureau: identity data lasts as long as the longest of them, runs
    open-ended while any of them does, and lapses at once when nothing else is registered.
    """
    anchor, months = rule_for(bureau, record_type)
    if anchor is Anchor.EVENT:
        return period_end(event_date, months=months)
    if anchor is Anchor.CONTRACT_END:
        return period_end(contract_end, months=months) if contract_end else None
    dates = list(others or ())
    if not dates:
        return event_date
    if any(d is None for d in dates):
        return None
    return max(dates)
