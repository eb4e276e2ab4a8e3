"""会員一覧 (``/members/``): the operators' member list, built for a million members.

The admin's change list counts, renders every cell through ``lookup_field`` and the template
engine, draws a filter sidebar of links and builds the whole app list on each view. This page does
what an operator needs from a list and no more:

- the one search box (``members.selectors.search_members``: number, phone, kana, kanji name,
  e-mail), logged as an access-log ``search`` with the kind of term and the hits, never the term;
- filters by status, prefecture and gender and the paging cursors, in a django-filter FilterSet
  (``members.filters.MemberListFilter``; a bad value is reported and not applied);
- newest members first, 50 per page, keyset paging on the id (``after``/``before``): no count and
  no offset, so the last page costs what the first does;
- checkboxes that post to the admin's CSV export action (the same action, permission and log).

Each member links to the admin's member page, where viewing is logged.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.decorators import login_required, permission_required
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from consentoffice.core.converters import member_url_maker
from members.filters import MemberListFilter
from members.models import PREFECTURES, Gender, Member, MemberStatus
from members.normalize import format_phone
from members.selectors import parse_search_term
from members.services import record_search

LIST_PERMISSION = "members.view_member"
PAGE_SIZE = 50

FILTERS = ("status", "prefecture", "gender")
LIST_COLUMNS = (
    "id",
    "member_no",
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "phone",
    "prefecture",
    "status",
)


def _page(queryset, *, before: bool, after: bool) -> tuple[list, bool, bool]:
    """One page of ``queryset`` (already cut at the cursor) newest first: (rows, has_newer, has_older)."""
    if before:
        # The page of newer members just above the cursor, read upwards, shown newest first.
        rows = list(queryset.order_by("pk")[: PAGE_SIZE + 1])
        return list(reversed(rows[:PAGE_SIZE])), len(rows) > PAGE_SIZE, True
    rows = list(queryset.order_by("-pk")[: PAGE_SIZE + 1])
    return rows[:PAGE_SIZE], after, len(rows) > PAGE_SIZE


# The rows and the select options are written out here, escaped with ``html.escape`` (what
# Django's ``escape`` calls): fifty rows through the template engine (a lookup, an escape and a
# translation per cell) or through ``format_html`` took longer than the rest of the page together.
def _rows_html(members) -> str:
    workspace_url = member_url_maker("member_workspace")
    statuses = {value: escape(str(label)) for value, label in MemberStatus.choices}
    select_label = _("会員 %(member_no)s を選択")
    rows = []
    for member in members:
        url = escape(workspace_url(member.member_no))
        number = escape(member.member_no)
        rows.append(
            f'<tr class="member-row"><td><input type="checkbox" class="member-select" '
            f'name="{ACTION_CHECKBOX_NAME}" value="{member.id}" '
            f'aria-label="{escape(select_label % {"member_no": member.member_no})}"></td>'
            f'<th scope="row"><a href="{url}">{number}</a></th>'
            f'<td><a href="{url}">{escape(member.family_name + " " + member.given_name)}</a></td>'
            f"<td>{escape(member.family_name_kana + ' ' + member.given_name_kana)}</td>"
            f'<td class="nowrap">{escape(format_phone(member.phone))}</td>'
            f'<td class="nowrap">{escape(member.prefecture)}</td>'
            f'<td class="nowrap">{statuses.get(member.status) or escape(member.status)}</td></tr>'
        )
    return mark_safe("\n".join(rows))  # every value above is escaped


def _options_html(choices, selected: str | None) -> str:
    return mark_safe(  # values and labels escaped
        "".join(
            f'<option value="{escape(str(value))}"{" selected" if value == selected else ""}>'
            f"{escape(str(label))}</option>"
            for value, label in choices
        )
    )


def _query_string(data: dict, **cursor) -> str:
    pairs = [(name, data[name]) for name in ("q", *FILTERS) if data.get(name)]
    pairs += [(name, value) for name, value in cursor.items() if value]
    return "?" + urlencode(pairs) if pairs else "?"


@require_GET
@login_required
@permission_required(LIST_PERMISSION, raise_exception=True)
def member_list(request):
    user = request.user
    # Rows as named tuples of the columns shown: building fifty model instances cost more than the query.
    search = MemberListFilter(request.GET, queryset=Member.objects.values_list(*LIST_COLUMNS, named=True))
    queryset = search.qs  # validates; a bad value is reported and left out
    data = search.form.cleaned_data
    term = parse_search_term(data.get("q"))
    members, has_newer, has_older = _page(
        queryset, before=bool(data.get("before")), after=bool(data.get("after"))
    )
    if term is not None:
        more = has_older or has_newer
        record_search(user=user, term=term, hits=len(members), more=more, via="list", request=request)
    context = {
        # What the admin's frame needs, without the app list the nav sidebar would draw.
        "site_title": admin.site.site_title,
        "site_header": admin.site.site_header,
        "site_url": admin.site.site_url,
        "has_permission": admin.site.has_permission(request),
        "is_popup": False,
        "is_nav_sidebar_enabled": False,
        "available_apps": [],
        "title": _("会員一覧"),
        "form": search.form,
        "data": data,
        "searched": term is not None,
        "rows": _rows_html(members),
        "status_options": _options_html(MemberStatus.choices, data.get("status")),
        "prefecture_options": _options_html([(p, p) for p in PREFECTURES], data.get("prefecture")),
        "gender_options": _options_html(Gender.choices, data.get("gender")),
        "newer_url": _query_string(data, before=members[0].id) if has_newer and members else None,
        "older_url": _query_string(data, after=members[-1].id) if has_older and members else None,
        "first_url": _query_string(data) if (data.get("after") or data.get("before")) else None,
        "export_url": reverse("admin:members_member_changelist"),
        "page_size": PAGE_SIZE,
    }
    return TemplateResponse(request, "members/member_list.html", context)
