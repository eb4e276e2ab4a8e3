"""What a registration carries: snapshots of the member, contract and payment (never an
encrypted value), as the payload of a ``Submission``."""

from __future__ import annotations

from datetime import date
from typing import Any

from bureaus import fileformat
from members.models import Contract, Member, PaymentRecord


def _wire(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def identity_snapshot(member: Member) -> dict[str, Any]:
    return {field: _wire(getattr(member, field)) for field in fileformat.IDENTITY_FIELDS}


def contract_snapshot(contract: Contract) -> dict[str, Any]:
    return {
        "contract_no": contract.contract_no,
        "kind": contract.kind,
        "product_name": contract.product_name,
        "applied_on": _wire(contract.applied_on),
        "contracted_on": _wire(contract.contracted_on),
        "ended_on": _wire(contract.ended_on),
        "credit_limit": contract.credit_limit,
        "installments": contract.installments,
        "status": contract.status,
    }


def payment_snapshot(payment: PaymentRecord) -> dict[str, Any]:
    return {
        "month": _wire(payment.month),
        "status_code": payment.status_code,
        "billed_amount": payment.billed_amount,
        "paid_amount": payment.paid_amount,
        "balance": payment.balance,
        "days_overdue": payment.days_overdue,
    }


def build_payload(
    *, member: Member, contract: Contract | None = None, payment: PaymentRecord | None = None, **extra: Any
) -> dict[str, Any]:
    payload: dict[str, Any] = {"member_no": member.member_no, "identity": identity_snapshot(member)}
    if contract is not None:
        payload["contract"] = contract_snapshot(contract)
    if payment is not None:
        payload["payment"] = payment_snapshot(payment)
    payload.update(extra)
    return payload
