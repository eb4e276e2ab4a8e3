"""会員一覧 (``/members/``): the operators' member list, built for a million members.

The admin's change list counts, renders every cell through ``lookup_field`` and the template
engine, draws a filter sidebar of links and builds the whole app list on each view. This page does
what an operator needs from a list and no more:

- the one search box (``members.selectors.search_members``: number, phone, kana, kanji name,
  e-mail), logged as an access-log ``search`` with the kind of term and the hits, never the term;
- filters by status, prefecture and gender (validated; a bad value is reported and not applied);
- newest members first, 50 per page, keyset paging on the id (``after``/``before``): no count and
  no offset, so the last page costs what the first does;
- checkboxes that post to the admin's CSV export action (the same action, permission and log).

Each member links to the admin's member page, where viewing is logged.
"""

from __future__ import annotations

from html import escape

from django import forms
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.decorators import login_required, permission_required
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from members.models import PREFECTURES, Gender, Member, MemberStatus
from members.normalize import format_phone
from members.selectors import parse_search_term
from members.services import record_search

LIST_PERMISSION = "members.view_member"
PAGE_SIZE = 50
# Stands in for the id in the one reversed change-page URL (a reverse per row costs more than the row).
_PK_MARK = "0000pk0000"


class MemberListForm(forms.Form):
    """The list's query string. Choices are checked here; the selects are drawn by the template."""

    q = forms.CharField(label=gettext_lazy("会員を検索"), required=False, max_length=200, strip=True)
    status = forms.ChoiceField(
        label=gettext_lazy("状態"), required=False, choices=[("", "")] + MemberStatus.choices
    )
    prefecture = forms.ChoiceField(
        label=gettext_lazy("都道府県"), required=False, choices=[("", "")] + [(p, p) for p in PREFECTURES]
    )
    gender = forms.ChoiceField(
        label=gettext_lazy("性別"), required=False, choices=[("", "")] + Gender.choices
    )
    # Labelled for the error list only (the paging links carry them; there is no input).
    after = forms.IntegerField(label=gettext_lazy("ページ"), required=False, min_value=1, max_value=2**63 - 1)
    before = forms.IntegerField(
        label=gettext_lazy("ページ"), required=False, min_value=1, max_value=2**63 - 1
    )

    def clean(self):
        data = super().clean()
        if data.get("after") and data.get("before"):
            raise forms.ValidationError(_("ページの指定が正しくありません。"), code="cursor")
        return data


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


def _page(queryset, *, after: int | None, before: int | None) -> tuple[list, bool, bool]:
    """One page of ``queryset`` newest first: (members, has_newer, has_older)."""
    if before:
        # The page of newer members just above ``before``, read upwards, shown newest first.
        rows = list(queryset.filter(pk__gt=before).order_by("pk")[: PAGE_SIZE + 1])
        has_newer = len(rows) > PAGE_SIZE
        return list(reversed(rows[:PAGE_SIZE])), has_newer, True
    if after:
        queryset = queryset.filter(pk__lt=after)
    rows = list(queryset.order_by("-pk")[: PAGE_SIZE + 1])
    return rows[:PAGE_SIZE], bool(after), len(rows) > PAGE_SIZE


# The rows and the select options are written out here, escaped with ``html.escape`` (what
# Django's ``escape`` calls): fifty rows through the template engine (a lookup, an escape and a
# translation per cell) or through ``format_html`` took longer than the rest of the page together.
def _rows_html(members) -> str:
    change_url = reverse("admin:members_member_change", args=[_PK_MARK])
    statuses = {value: escape(str(label)) for value, label in MemberStatus.choices}
    select_label = _("会員 %(member_no)s を選択")
    rows = []
    for member in members:
        url = escape(change_url.replace(_PK_MARK, str(member.id)))
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
    from urllib.parse import urlencode

    pairs = [(name, data[name]) for name in ("q", *FILTERS) if data.get(name)]
    pairs += [(name, value) for name, value in cursor.items() if value]
    return "?" + urlencode(pairs) if pairs else "?"


@require_GET
@login_required
@permission_required(LIST_PERMISSION, raise_exception=True)
def member_list(request):
    user = request.user
    form = MemberListForm(request.GET)
    valid = form.is_valid()
    data = (
        form.cleaned_data if valid else {k: v for k, v in form.cleaned_data.items() if k not in form.errors}
    )
    term = parse_search_term(data.get("q"))
    # Rows as named tuples of the columns shown: building fifty model instances cost more than the query.
    queryset = Member.objects.values_list(*LIST_COLUMNS, named=True)
    if term is not None:
        queryset = queryset.filter(term.as_q())
    filters = {name: data[name] for name in FILTERS if data.get(name)}
    if filters:
        queryset = queryset.filter(**filters)
    cursor_ok = "after" not in form.errors and "before" not in form.errors and "__all__" not in form.errors
    members, has_newer, has_older = _page(
        queryset,
        after=data.get("after") if cursor_ok else None,
        before=data.get("before") if cursor_ok else None,
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
        "form": form,
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
