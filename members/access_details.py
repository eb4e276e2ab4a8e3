"""The access log's detail column in the reader's language.

``AccessLog.detail`` holds short internal forms (``kind=kana hits=3 via=list``, ``audit timeline``,
``reply letter T…``) so that it never holds personal data and old rows keep their meaning; the
pages show them through ``describe``, which reads old rows and new ones alike. A detail in no
known form (a field's label, written in the language of the request) is shown as stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.apps import apps
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from members.models import ExtractChannel, ExtractPurpose

SEARCH_KINDS = {
    "member_no": gettext_lazy("会員番号"),
    "phone": gettext_lazy("電話番号"),
    "phone_prefix": gettext_lazy("電話番号（前方一致）"),
    "email": gettext_lazy("メールアドレス"),
    "kana": gettext_lazy("フリガナ"),
    "name": gettext_lazy("氏名"),
}
SEARCH_PLACES = {
    "home": gettext_lazy("業務ホーム"),
    "list": gettext_lazy("会員一覧"),
    "changelist": gettext_lazy("会員（台帳）"),
    "autocomplete": gettext_lazy("会員の選択"),
}
_FIXED = {
    "audit timeline": gettext_lazy("監査: 会員別タイムライン"),
    "audit timeline csv": gettext_lazy("監査: 会員別タイムラインのCSV出力"),
    "audit history": gettext_lazy("監査: 変更履歴（会員で絞り込み）"),
    "audit history csv": gettext_lazy("監査: 変更履歴のCSV出力"),
    "audit access log": gettext_lazy("監査: アクセス記録（会員で絞り込み）"),
    "audit access csv": gettext_lazy("監査: アクセス記録のCSV出力"),
    "csv sensitive=clear": gettext_lazy("CSV出力（暗号化項目は平文）"),
    "csv sensitive=masked": gettext_lazy("CSV出力（暗号化項目はマスク）"),
}


def _label(table: dict, key: str) -> str:
    return str(table.get(key, key))


def _choice(choices, value: str) -> str:
    return str(dict(choices.choices).get(value, value))


def _search(m: re.Match) -> str:
    hits = (_("%(n)s件以上") if m["more"] else _("%(n)s件")) % {"n": m["hits"]}
    return _("検索: %(kind)s、%(hits)s（%(place)s）") % {
        "kind": _label(SEARCH_KINDS, m["kind"]),
        "hits": hits,
        "place": _label(SEARCH_PLACES, m["via"]),
    }


def _history_row(m: re.Match) -> str:
    try:
        model = str(apps.get_model(m["label"])._meta.verbose_name)
    except (LookupError, ValueError):
        model = m["label"]
    return _("監査: 変更内容（%(model)s、履歴ID %(id)s）") % {"model": model, "id": m["id"]}


_PATTERNS: list[tuple[re.Pattern, Callable[[re.Match], str]]] = [
    (
        re.compile(r"kind=(?P<kind>\w+) hits=(?P<hits>\d+)(?P<more>\+?) via=(?P<via>\w+)"),
        _search,
    ),
    (re.compile(r"audit (?P<label>\w+\.\w+) (?P<id>\d+)"), _history_row),
    (
        re.compile(r"disclosure package (?P<number>\S+)"),
        lambda m: _("開示パッケージ %(number)s") % {"number": m["number"]},
    ),
    (
        re.compile(r"reply letter (?P<number>\S+)"),
        lambda m: _("回答書 %(number)s") % {"number": m["number"]},
    ),
    (
        re.compile(r"bureau batch (?P<id>\d+) \((?P<count>\d+)\)"),
        lambda m: (
            _("信用情報機関への登録ファイル %(id)s（%(count)s件）") % {"id": m["id"], "count": m["count"]}
        ),
    ),
    (
        re.compile(r"marketing extract (?P<id>\d+) purpose=(?P<purpose>\w+) channel=(?P<channel>\w+)"),
        lambda m: (
            _("営業リスト抽出 %(id)s（%(purpose)s、%(channel)s）")
            % {
                "id": m["id"],
                "purpose": _choice(ExtractPurpose, m["purpose"]),
                "channel": _choice(ExtractChannel, m["channel"]),
            }
        ),
    ),
]


def describe(detail: str | None) -> str:
    """``detail`` as a sentence of the current language (see the module's docstring)."""
    detail = (detail or "").strip()
    if detail in _FIXED:
        return str(_FIXED[detail])
    for pattern, render in _PATTERNS:
        match = pattern.fullmatch(detail)
        if match:
            return render(match)
    return detail
