"""The hook other apps add their inlines to the member page through (kept apart from
members.admin so members.admin_holds can use it without importing it back)."""

from __future__ import annotations

from django.contrib import admin

# Inlines other apps add to the member page (bureaus registers its "what is registered where"
# inline here), so members never imports the apps that depend on it.
MEMBER_PAGE_INLINES: list[type[admin.options.InlineModelAdmin]] = []


def register_member_inline(inline: type[admin.options.InlineModelAdmin]) -> None:
    if inline not in MEMBER_PAGE_INLINES:
        MEMBER_PAGE_INLINES.append(inline)
