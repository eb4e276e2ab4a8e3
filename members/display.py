"""A partner-sync event's payload (``PartnerSyncEvent.payload``) as labelled fields."""

from __future__ import annotations

import re

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


# Why a delivery failed, as ``partner_sync`` and ``services.erasure`` record it (kept as stored so the
# log means the same whatever the reader's language), and how the page says it.
SYNC_ERRORS = {
    "affiliate inactive": gettext_lazy("提携先が無効です"),
    "endpoint refused": gettext_lazy("送信先のアドレスが許可されていません"),
    "timeout": gettext_lazy("提携先が時間内に応答しませんでした"),
    "provision stopped": gettext_lazy("第三者提供の停止により送信を取りやめました"),
    "erased": gettext_lazy("会員情報の消去により内容を消去しました"),
}
_HTTP = re.compile(r"HTTP (?P<status>\d{3})")
_TRANSPORT = re.compile(r"transport error: (?P<name>\w+)")


def describe_sync_error(error: str | None) -> str:
    error = (error or "").strip()
    if error in SYNC_ERRORS:
        return str(SYNC_ERRORS[error])
    if match := _HTTP.fullmatch(error):
        return _("提携先の応答 HTTP %(status)s") % {"status": match["status"]}
    if match := _TRANSPORT.fullmatch(error):
        return _("通信エラー（%(name)s）") % {"name": match["name"]}
    return error


def sync_payload_html(payload: dict) -> SafeString:
    stops = [str(STOP_LABELS.get(stop, stop)) for stop in payload.get("stops") or ()]
    sections = [
        ("", [(field_label(Member, "member_no"), payload.get("member_no") or "—")]),
        (_("変更された項目"), model_rows(Member, payload.get("changes") or {})),
        ("", [(_("伝える停止"), "、".join(stops))] if stops else []),
    ]
    return fields_table(sections, raw=payload)
