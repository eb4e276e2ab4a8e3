"""A registration's payload (``Submission.payload``, ``services.snapshots``) as labelled fields."""

from __future__ import annotations

from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from bureaus.models import Submission
from consentoffice.core.fields_display import field_label, field_value, fields_table, model_rows
from members.models import Contract, Member, PaymentRecord


def payload_html(payload: dict) -> SafeString:
    sections = [
        ("", [(field_label(Member, "member_no"), payload.get("member_no") or "—")]),
        (_("本人を特定する情報"), model_rows(Member, payload.get("identity") or {})),
        (_("契約"), model_rows(Contract, payload.get("contract") or {})),
        (_("返済状況"), model_rows(PaymentRecord, payload.get("payment") or {})),
        (_("訂正した項目"), model_rows(Member, payload.get("changes") or {})),
    ]
    extra = []
    if payload.get("changed_fields"):
        extra.append(
            (_("訂正した項目"), "、".join(field_label(Member, name) for name in payload["changed_fields"]))
        )
    if payload.get("deleted_record_type"):
        extra.append(
            (_("削除する登録の種別"), field_value(Submission, "record_type", payload["deleted_record_type"]))
        )
    sections.append(("", extra))
    known = {
        "member_no",
        "identity",
        "contract",
        "payment",
        "changes",
        "changed_fields",
        "deleted_record_type",
    }
    sections.append(("", [(name, str(value)) for name, value in payload.items() if name not in known]))
    return fields_table(sections, raw=payload)
