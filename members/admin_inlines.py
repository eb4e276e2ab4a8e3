"""The member page's read-only inlines and the hook other apps add theirs through (kept apart
from members.admin so members.admin_holds can use them without importing it back)."""

from __future__ import annotations

from django.contrib import admin


class ReadOnlyInline(admin.TabularInline):
    """Related rows shown on the member page; they are added on their own pages through services."""

    extra = 0
    max_num = 0
    can_delete = False
    select_related: tuple[str, ...] = ()

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset.select_related(*self.select_related) if self.select_related else queryset

    def get_formset(self, request, obj=None, **kwargs):
        # Inline instances are made per request: the display methods need the viewer.
        self.request = request
        return super().get_formset(request, obj, **kwargs)


# Inlines other apps add to the member page (bureaus registers its "what is registered where"
# inline here), so members never imports the apps that depend on it.
MEMBER_PAGE_INLINES: list[type[admin.options.InlineModelAdmin]] = []


def register_member_inline(inline: type[admin.options.InlineModelAdmin]) -> None:
    if inline not in MEMBER_PAGE_INLINES:
        MEMBER_PAGE_INLINES.append(inline)
