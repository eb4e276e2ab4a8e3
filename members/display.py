"""A partner-sync event's payload (``PartnerSyncEvent.payload``) as labelled fields."""

from __future__ import annotations

from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consentoffice.core.fields_display import field_label, fields_table, model_rows
from members.models import Member

# The stops passed on to affiliates, as the wire names them (services.partners.PARTNER_STOPS).
STOP_LABELS = {
    "marketing": gettext_lazy("営業目的利用の中止"),
    "usage": gettext_lazy("利用停止"),
    "provision": gettext_lazy("第三者提供の停止"),
}


def sync_payload_html(payload: dict) -> SafeString:
    stops = [str(STOP_LABELS.get(stop, stop)) for stop in payload.get("stops") or ()]
    sections = [
        ("", [(field_label(Member, "member_no"), payload.get("member_no") or "—")]),
        (_("変更された項目"), model_rows(Member, payload.get("changes") or {})),
        ("", [(_("伝える停止"), "、".join(stops))] if stops else []),
    ]
    return fields_table(sections, raw=payload)
