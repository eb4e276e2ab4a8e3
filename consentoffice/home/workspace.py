"""The member workspace (会員ワークスペース, ``/members/<member_no>/``): a member at a glance.

Read-only and in one screen: who the member is, what their data may be used for and why, their
contracts and partner cards, tickets, bureau registrations, provision and entrustment records and
the latest contacts, each with a link to its details. Its forms open a request for the member
(``requests.services.open_ticket``), file a change notification (``file_change_notification``)
and record a contact (``members.services.add_contact_record``). Every view is in the access log.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import copy
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from bureaus.selectors import registrations_for_member
from consentoffice.core import roles
from consentoffice.core.admin import add_validation_error
from consentoffice.home.forms import ChangeNotificationForm, ContactNoteForm, OpenTicketForm
from members import normalize
from members import selectors as member_selectors
from members import services as member_services
from members.models import AccessAction, Contract, IdentityDocument, Member
from requests import postal
from requests import selectors as request_selectors
from requests import services as request_services
from requests.models import Ticket
from requests.presentation import ticket_rows

WORKSPACE_PERMISSION = "members.view_member"
NOTIFY_PERMISSION = "members.change_member"
CONTACT_PERMISSION = "members.add_contactrecord"
OPEN_TICKET_PERMISSION = "requests.add_ticket"


def _member(member_no: str) -> Member:
    member = member_selectors.workspace_member(member_no)
    if member is None:
        raise Http404(_("会員が見つかりません。"))
    return member


def _changelist(name: str, member: Member) -> str:
    """An admin list of one kind of record, searched for the member's number."""
    return f"{reverse(name)}?{urlencode({'q': member.member_no})}"


def _links(user, member: Member) -> dict[str, str]:
    links = {
        "tickets": _changelist("admin:requests_ticket_changelist", member),
        "contacts": _changelist("admin:members_contactrecord_changelist", member),
        "provisions": _changelist("admin:members_provisionrecord_changelist", member),
        "entrustments": _changelist("admin:members_entrustment_changelist", member),
        "registrations": _changelist("admin:bureaus_submission_changelist", member),
        "documents": _changelist("admin:members_identitydocument_changelist", member),
        "ticket_add": f"{reverse('admin:requests_ticket_add')}?{urlencode({'member': member.pk})}",
        "admin": reverse("admin:members_member_change", args=[member.pk]),
        "timeline": "",
    }
    if user.has_perm(roles.VIEW_AUDIT):
        links["timeline"] = reverse("audit:timeline", args=[member.member_no])
    return links


def _render(request, member: Member, *, bound: dict | None = None):
    """The workspace page (also after a form with errors, which ``bound`` holds)."""
    user = request.user
    now = timezone.now()
    records = member_selectors.workspace_records(member)
    account_label = Contract._meta.get_field("settlement_account").verbose_name
    contracts = [
        {
            "contract": c,
            "settlement": member_selectors.show_sensitive(request, c.settlement_account, account_label),
        }
        for c in records["contracts"]
    ]
    number_label = IdentityDocument._meta.get_field("number").verbose_name
    documents = [
        {"document": d, "number": member_selectors.show_sensitive(request, d.number, number_label)}
        for d in records["documents"]
    ]
    tickets = request_selectors.member_tickets(member)
    bound = bound or {}
    context = {
        **admin.site.each_context(request),
        "is_nav_sidebar_enabled": False,
        "title": _("会員 %(member_no)s %(name)s") % {"member_no": member.member_no, "name": member.full_name},
        "member": member,
        "uses": member_selectors.use_rows(member),
        "own_contracts": [row for row in contracts if row["contract"].affiliate_id is None],
        "partner_cards": [row for row in contracts if row["contract"].affiliate_id is not None],
        "documents": documents,
        "contacts": records["contacts"],
        "provisions": records["provisions"],
        "entrustments": records["entrustments"],
        "registrations": list(registrations_for_member(member)),
        "open_rows": ticket_rows(tickets["open"], now),
        "closed_rows": ticket_rows(tickets["closed"], now),
        "closed_count": tickets["closed_count"],
        "links": _links(user, member),
        "forms": {
            key: bound.get(key) or (act.form(None, member) if user.has_perm(act.perm) else None)
            for key, act in ACTS.items()
        },
        "open_form": next(iter(bound), ""),
        "postal_lookup": postal.lookup_url() if user.has_perm(NOTIFY_PERMISSION) else "",
    }
    member_services.record_access(user=user, action=AccessAction.VIEW, member=member, request=request)
    member_services.record_sensitive_shown(request=request, member=member)
    return TemplateResponse(request, "home/workspace.html", context)


@require_GET
@login_required
@permission_required(WORKSPACE_PERMISSION, raise_exception=True)
def workspace(request, member_no: str):
    """会員ワークスペース; a member number typed in full-width digits goes to its ASCII form."""
    try:
        normalized = normalize.member_no(member_no)
    except ValidationError:
        normalized = member_no
    if normalized != member_no:
        return redirect("member_workspace", member_no=normalized)
    return _render(request, _member(member_no))


def _acting(request, member_no: str, perm: str) -> Member:
    if not request.user.has_perm(WORKSPACE_PERMISSION) or not request.user.has_perm(perm):
        raise PermissionDenied
    return _member(member_no)


def _back(member: Member):
    return redirect("member_workspace", member_no=member.member_no)


def _notify(request, member: Member, form):
    changed = request_services.file_change_notification(
        member, actor=request.user, reason=form.cleaned_data["reason"], **form.changes()
    )
    labels = "、".join(str(Member._meta.get_field(name).verbose_name) for name in changed)
    messages.success(request, _("届出を反映しました: %(fields)s") % {"fields": labels})
    return _back(member)


def _note(request, member: Member, form):
    member_services.add_contact_record(actor=request.user, member=member, **form.cleaned_data)
    messages.success(request, _("応対記録を登録しました。"))
    return _back(member)


def _open(request, member: Member, form):
    ticket = request_services.open_ticket(actor=request.user, member=member, **form.cleaned_data)
    return admin.site.get_model_admin(Ticket)._opened(request, ticket)


@dataclass(frozen=True)
class Act:
    """One act of the workspace: who may, its form (``data`` is ``None`` for an empty one), and
    what a valid form does (a service call, then the response)."""

    perm: str
    form: Callable[[Any, Member], Any]
    perform: Callable[[Any, Member, Any], HttpResponse]


ACTS: dict[str, Act] = {
    "ticket": Act(
        OPEN_TICKET_PERMISSION, lambda data, member: OpenTicketForm(data, auto_id="ticket_%s"), _open
    ),
    "notification": Act(
        NOTIFY_PERMISSION,
        lambda data, member: ChangeNotificationForm(data, instance=copy(member), auto_id="notify_%s"),
        _notify,
    ),
    "contact": Act(
        CONTACT_PERMISSION, lambda data, member: ContactNoteForm(data, auto_id="contact_%s"), _note
    ),
}


def _act_view(key: str):
    """The POST view of one act: a form with errors, the service's too, shows the workspace again
    with that form open and nothing saved."""
    act = ACTS[key]

    @require_POST
    @login_required
    def view(request, member_no: str):
        member = _acting(request, member_no, act.perm)
        form = act.form(request.POST, member)
        if form.is_valid():
            try:
                return act.perform(request, member, form)
            except ValidationError as exc:
                add_validation_error(form, exc)
        return _render(request, member, bound={key: form})

    view.__name__ = view.__qualname__ = f"{key}_view"
    return view


open_ticket = _act_view("ticket")  # 受付: the ticket page of the new ticket next
change_notification = _act_view("notification")  # 住所変更等の届出: applied and passed on at once
contact_note = _act_view("contact")  # 応対記録, recorded now by the person logged in
