"""Stored JSON (a registration's snapshot, a partner event's changes) shown as labelled fields.

The labels and choice names come from the model the values were taken from, so the pages speak
the reader's language; the stored JSON itself stays one click away (``<details>``).
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _


def field_label(model: type[models.Model], name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def field_value(model: type[models.Model], name: str, value: Any) -> str:
    """A stored value as the model's page would show it (a choice by its name, empty as —)."""
    if value in (None, ""):
        return "—"
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        field = None
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("はい") if value else _("いいえ")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def model_rows(model: type[models.Model], data: dict[str, Any]) -> list[tuple[str, str]]:
    """``data`` (field name → stored value) as (label, shown value) in the order stored."""
    return [(field_label(model, name), field_value(model, name, value)) for name, value in data.items()]


def fields_table(sections: list[tuple[str, list[tuple[str, str]]]], *, raw: Any = None) -> SafeString:
    """Sections (a heading, or "" for none, and its labelled values) as one table, and ``raw`` as
    JSON behind 元データ."""
    parts = []
    for title, rows in sections:
        if not rows:
            continue
        if title:
            parts.append(format_html('<tr><th colspan="2" scope="colgroup">{}</th></tr>', title))
        parts.append(format_html_join("", '<tr><th scope="row">{}</th><td>{}</td></tr>', rows))
    body = format_html_join("", "{}", ((part,) for part in parts))
    html = format_html('<table class="fields-table"><tbody>{}</tbody></table>', body)
    if raw is not None:
        html += format_html(
            "<details><summary>{}</summary><pre>{}</pre></details>",
            _("元データ（JSON）を表示"),
            json.dumps(raw, ensure_ascii=False, indent=2),
        )
    return html
