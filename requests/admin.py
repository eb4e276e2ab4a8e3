"""The operators' ticket workplace (受付票): lists, queues, and buttons for the next allowed steps.

Thin by design: every write is a call to ``requests.services``. Status and outcome are never
edited in a form; the page offers only the steps ``requests.rules.TRANSITIONS`` allows from the
current status and the user's role, and each step posts the ticket version the page showed, so
of two people acting at once one wins and the other is told to reload. The steps themselves are
``requests.steps``; the badges and rows, ``requests.presentation`` (``STEPS`` is still imported
from here by tests).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consentoffice.core import roles
from consentoffice.core.admin import ReadOnlyModelAdmin, ServiceModelAdmin, add_validation_error
from consentoffice.core.fieldsets import readonly_fieldsets_html
from members.admin_search import MemberNoSearchMixin
from members.models import AccessAction
from members.services import record_access
from requests import forms, postal, rules, selectors, services
from requests.models import CorrectionItem, Reminder, Ticket
from requests.presentation import (
    DUE_STATE_CSS,
    DUE_STATE_LABELS,
    due_badge,
    duplicate_flag,
    format_duration,
    member_link,
    member_text,
    queue_rows_html,
    remaining_label,
    status_text,
    ticket_rows,
)
from requests.steps import STEPS, _can_approve, next_step, offered_steps
from requests.timeline import ticket_timeline

Status = rules.Status

# Queue pages: scope -> (tab label, permission needed).
QUEUES: dict[str, tuple[str, str]] = {
    "mine": (gettext_lazy("自分の担当"), "requests.view_ticket"),
    "unassigned": (gettext_lazy("未割当"), "requests.view_ticket"),
    "due_soon": (gettext_lazy("期限間近"), "requests.view_ticket"),
    "overdue": (gettext_lazy("期限超過"), "requests.view_ticket"),
    "approval": (gettext_lazy("承認待ち"), roles.APPROVE_TICKET),
}


def _optional_url(name: str, *args) -> str:
    """A link to a page another part of the project provides, or "" while it does not exist yet."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(str(m) for m in exc.messages)
    return str(exc) or _("この操作を行う権限がありません。")


def _form_error_text(form) -> str:
    parts = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        label = field.label if field is not None and field.label else ""
        text = " ".join(str(e) for e in errors)
        parts.append(f"{label}: {text}" if label else text)
    return " ".join(parts)


# --- list filters ---------------------------------------------------------------------------


class DueStateFilter(admin.SimpleListFilter):
    """期限: overdue / due soon (≤ 3 days) / ok, as ``rules.due_state`` judges open requests."""

    title = gettext_lazy("期限")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [
            ("overdue", DUE_STATE_LABELS["overdue"]),
            ("due_soon", DUE_STATE_LABELS["due_soon"]),
            ("ok", DUE_STATE_LABELS["ok"]),
        ]

    def queryset(self, request, queryset):
        if self.value() in DUE_STATE_LABELS:
            return queryset.filter(selectors.due_filter(self.value()))
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    title = gettext_lazy("担当")
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("mine", gettext_lazy("自分の担当")), ("unassigned", gettext_lazy("未割当"))]

    def queryset(self, request, queryset):
        if self.value() == "mine":
            return queryset.filter(assignee=request.user)
        if self.value() == "unassigned":
            return queryset.filter(assignee__isnull=True)
        return queryset


# --- the ticket admin -----------------------------------------------------------------------


@admin.register(Ticket)
class TicketAdmin(MemberNoSearchMixin, ServiceModelAdmin):
    list_display = [
        "number",
        "kind",
        "member_column",
        "channel",
        "status_column",
        "outcome",
        "assignee",
        "received_at",
        "due_column",
        "duplicate_column",
    ]
    list_display_links = ["number"]
    list_filter = ["status", "kind", "channel", DueStateFilter, AssigneeFilter]
    list_select_related = ["member", "assignee", "prepared_by"]
    search_fields = ["^number", "=member__member_no"]
    search_help_text = gettext_lazy("受付番号（前方一致）または会員番号（完全一致）で検索します。")
    actions = None
    editable = False  # the form never edits a ticket; steps do, through the services
    autocomplete_fields = ["member"]
    date_hierarchy = None

    add_fieldsets = [
        (None, {"fields": ["kind", "member", "channel", "received_at"]}),
        (
            gettext_lazy("請求者と回答方法"),
            {"fields": ["requester_type", "agent_name", "response_method"]},
        ),
        (gettext_lazy("申出の内容"), {"fields": ["summary"]}),
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "number",
                    "kind",
                    "member_summary",
                    "channel",
                    "received_at",
                    "due_summary",
                    "summary",
                ]
            },
        ),
        (
            gettext_lazy("状態と結果"),
            {
                "fields": [
                    "status",
                    "hold_summary",
                    "assignee",
                    "outcome",
                    "refusal_ground",
                    "outcome_reason",
                    "prepared_by",
                    "approver",
                    "approved_at",
                    "closed_at",
                ]
            },
        ),
        (
            gettext_lazy("本人確認（個人情報保護法第37条）"),
            {
                "fields": [
                    "requester_type",
                    "agent_name",
                    "identity_method",
                    "identity_documents_seen",
                    "identity_verified_by",
                    "identity_verified_at",
                    "agent_document_issued_on",
                    "agent_verified",
                ]
            },
        ),
        (
            gettext_lazy("回答方法と手数料"),
            {"fields": ["response_method", "fee_amount", "fee_paid_on"]},
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return [name for _title, opts in self.fieldsets for name in opts["fields"]]

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else self.fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = forms.TicketOpenForm
            kwargs["fields"] = forms.TicketOpenForm.Meta.fields
        return super().get_form(request, obj, change=change, **kwargs)

    def get_queryset(self, request):
        qs = selectors.tickets_for_lists()
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs

    # --- list columns ----------------------------------------------------------------------

    @admin.display(description=gettext_lazy("会員"), ordering="member__member_no")
    def member_column(self, obj):
        return member_text(obj)

    @admin.display(description=gettext_lazy("状態"), ordering="status")
    def status_column(self, obj):
        return status_text(obj, timezone.now())

    @admin.display(description=gettext_lazy("法定期限"), ordering="due_at")
    def due_column(self, obj):
        return due_badge(obj, timezone.now())

    @admin.display(description=gettext_lazy("重複"))
    def duplicate_column(self, obj):
        return duplicate_flag(obj)

    # --- change page read-only summaries ---------------------------------------------------

    @admin.display(description=gettext_lazy("会員"))
    def member_summary(self, obj):
        return member_link(obj)

    @admin.display(description=gettext_lazy("法定期限"))
    def due_summary(self, obj):
        now = timezone.now()
        return format_html(
            "{} {}",
            timezone.localtime(obj.due_at).strftime("%Y-%m-%d %H:%M"),
            due_badge(obj, now) if obj.is_open and obj.is_request else "",
        )

    @admin.display(description=gettext_lazy("保留"))
    def hold_summary(self, obj):
        total = obj.held_total_seconds()
        if obj.on_hold:
            return _("保留中（%(held)s）: %(reason)s") % {
                "held": format_duration(total),
                "reason": obj.hold_reason,
            }
        if total:
            return _("保留なし（これまでの保留時間 %(held)s）") % {"held": format_duration(total)}
        return _("保留なし")

    # --- urls ------------------------------------------------------------------------------

    def get_urls(self):
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("queue/<slug:scope>/", wrap(self.queue_view), name=f"{prefix}_queue"),
            path(
                "<int:object_id>/step/<slug:step>/",
                wrap(self.step_view),
                name=f"{prefix}_step",
            ),
            *super().get_urls(),
        ]

    def queue_tabs(self, request, active: str = "") -> list[dict]:
        tabs = [
            {
                "scope": scope,
                "label": label,
                "url": reverse("admin:requests_ticket_queue", args=[scope]),
                "active": scope == active,
            }
            for scope, (label, perm) in QUEUES.items()
            if request.user.has_perm(perm)
        ]
        tabs.append(
            {
                "scope": "",
                "label": _("すべての受付票"),
                "url": reverse("admin:requests_ticket_changelist"),
                "active": active == "",
            }
        )
        return tabs

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "queue_tabs": self.queue_tabs(request)}
        return super().changelist_view(request, extra_context)

    # --- adding: through requests.services.open_ticket -------------------------------------

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form_class = self.get_form(request, None, change=False)
        # ``?member=<id>&kind=<kind>`` opens the form from a member's page with those filled in.
        prefill = {key: request.GET[key] for key in ("member", "kind", "channel") if key in request.GET}
        form = form_class(request.POST or None, initial={"received_at": timezone.now(), **prefill})
        if request.method == "POST" and form.is_valid():
            try:
                ticket = services.open_ticket(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_validation_error(form, exc)
            else:
                return self._opened(request, ticket)
        admin_form = helpers.AdminForm(form, list(self.add_fieldsets), {}, model_admin=self)
        context = {
            **self.admin_site.each_context(request),
            "title": _("受付票を登録"),
            "subtitle": None,
            "adminform": admin_form,
            "object_id": None,
            "original": None,
            "is_popup": False,
            "to_field": None,
            "media": self.media + admin_form.media,
            "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),
            "preserved_filters": self.get_preserved_filters(request),
            "show_save_and_add_another": False,
            "show_save_and_continue": False,
            **(extra_context or {}),
        }
        return self.render_change_form(request, context, add=True, form_url=form_url)

    def _opened(self, request, ticket: Ticket):
        self.log_addition(request, ticket, [{"added": {}}])
        messages.success(request, _("受付票 %(number)s を登録しました。") % {"number": ticket.number})
        if ticket.member_id:
            others = list(
                selectors.open_duplicates(member=ticket.member, kind=ticket.kind, exclude_pk=ticket.pk)
                .order_by("received_at")
                .values_list("number", flat=True)[:5]
            )
            if others:
                messages.warning(
                    request,
                    _(
                        "同じ会員の同じ種別の未完了の受付票があります: %(numbers)s。重複受付でないか確認してください。"
                    )
                    % {"numbers": "、".join(others)},
                )
        return HttpResponseRedirect(reverse("admin:requests_ticket_change", args=[ticket.pk]))

    # --- the ticket page -------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        ticket = (
            selectors.tickets_for_lists()
            .select_related("approver", "identity_verified_by")
            .filter(pk=object_id if str(object_id).isdigit() else None)
            .first()
        )
        if ticket is not None and self.has_view_permission(request, ticket):
            extra_context = {**self.workplace_context(request, ticket), **(extra_context or {})}
            request._ticket_page_object = ticket  # the admin's form shows this one (get_object)
        return super().change_view(request, object_id, form_url, extra_context)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if change:  # every field of a ticket is read-only: written out, not through the template
            context["fieldsets_html"] = readonly_fieldsets_html(context["adminform"])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_object(self, request, object_id, from_field=None):
        """The ticket the page has already read (a superset of ``get_queryset``'s columns), not a
        second read of the same row."""
        ticket = getattr(request, "_ticket_page_object", None)
        if ticket is not None and from_field is None and str(ticket.pk) == str(object_id):
            return ticket
        return super().get_object(request, object_id, from_field)

    def workplace_context(self, request, ticket: Ticket) -> dict:
        user = request.user
        now = timezone.now()
        steps = offered_steps(ticket, user)
        offered = {step.name for step in steps}
        version = {"version": ticket.version}

        def step_url(name: str) -> str:
            return reverse("admin:requests_ticket_step", args=[ticket.pk, name])

        def step_entry(s) -> dict:
            return {
                "name": s.name,
                "label": s.label,
                "url": step_url(s.name),
                "form": s.form_class(initial=version, auto_id=f"id_{s.name}_%s", ticket=ticket),
            }

        # The package holds every value in clear: linked only for whoever may open it now.
        may_open = selectors.may_open_package(ticket, user)
        packages = [
            {"package": p, "url": _optional_url("requests:download_package", p.pk) if may_open else ""}
            for p in selectors.held(ticket, "packages").select_related("created_by")
        ]
        item_rows = self._item_rows
        corrections = item_rows(
            selectors.held(ticket, "correction_items"), "decide_correction_item" in offered, version
        )
        deletions = item_rows(
            selectors.held(ticket, "deletion_items"), "decide_deletion_item" in offered, version
        )
        rows = corrections + deletions
        primary = next_step(
            ticket,
            steps,
            has_package=bool(packages),
            items=(len(rows), sum(1 for row in rows if not row["decided"])),
        )
        # The step that moves the ticket on comes first and is the one primary button.
        buttons = sorted(
            ({**step_entry(s), "primary": s.name == primary} for s in steps if not s.with_items),
            key=lambda button: not button["primary"],
        )
        adders = {
            s.name: {**step_entry(s), "primary": s.name == primary}
            for s in steps
            if s.with_items and not s.per_item
        }
        address = None
        if "add_address_correction" in adders:
            address = adders.pop("add_address_correction")
            current = self._current_address(request, ticket)
            address = {
                **address,
                # Each field with the member's current value beside it.
                "rows": [(address["form"][field], current[field]) for field in rules.ADDRESS_FIELDS],
                # The script appends the code and a slash (``requests:postal_code``).
                "lookup_url": postal.lookup_url(),
            }
        approve_blocked = ""
        if (
            _can_approve(user)
            and ticket.status == Status.PENDING_APPROVAL
            and selectors.took_part_in(ticket, user)
        ):
            approve_blocked = rules.FOUR_EYES_REFUSAL
        state = ticket.due_state(now)
        stages, hint = rules.stage_guide(ticket.kind, ticket.status)
        return {
            "ticket": ticket,
            "ticket_stages": stages,
            "ticket_hint": hint,
            "ticket_buttons": buttons,
            "item_adders": list(adders.values()),
            "address_form": address,
            "stop_preview": selectors.stop_preview(ticket.kind) if ticket.is_open else [],
            "decide_correction_url": step_url("decide_correction_item"),
            "decide_deletion_url": step_url("decide_deletion_item"),
            "correction_rows": corrections,
            "deletion_rows": deletions,
            "decide_primary": primary in ("decide_correction_item", "decide_deletion_item"),
            "package_rows": packages,
            "reply_letter_url": _optional_url("requests:reply_letter", ticket.pk)
            if ticket.is_request and ticket.outcome
            else "",
            "approve_blocked": approve_blocked,
            "due_state": state,
            "due_state_label": DUE_STATE_LABELS[state],
            "due_state_css": DUE_STATE_CSS[state],
            "due_remaining": remaining_label(ticket, now),
            "held_text": format_duration(ticket.held_total_seconds(now))
            if ticket.on_hold or ticket.held_seconds
            else "",
            "timeline": ticket_timeline(ticket),
            "queue_tabs": self.queue_tabs(request),
        }

    @staticmethod
    def _item_rows(items, may_decide: bool, version: dict) -> list[dict]:
        """Correction or deletion items, each with its decision form beside its values: a pending
        item is decided there; a decided one shows its decision and changes only through
        「判断を変更」 (the form then carries ``change``)."""
        rows = []
        for item in items:
            decided = item.decision != item.Decision.PENDING
            if isinstance(item, CorrectionItem):
                label, form_class, initial = (
                    forms.correction_field_label(item.field),
                    forms.CorrectionDecisionForm,
                    {},
                )
            else:
                label, form_class = forms.deletion_target_label(item.target), forms.DeletionDecisionForm
                initial = {"ground": item.ground}
            form = None
            if may_decide:
                form = form_class(
                    initial={**version, **initial, "item": item.pk, "change": decided},
                    auto_id=f"id_{item._meta.model_name}{item.pk}_%s",
                )
            rows.append({"item": item, "label": label, "form": form, "decided": decided})
        return rows

    @staticmethod
    def _current_address(request, ticket: Ticket) -> dict:
        """The member's address beside the address form, its view logged like every view of a member."""
        member = ticket.member
        record_access(
            user=request.user,
            action=AccessAction.VIEW,
            member=member,
            request=request,
            detail=f"{ticket.number} 訂正請求（住所）",
        )
        return {
            "postal_code": member.postal_code_display,
            "prefecture": member.prefecture,
            "city": member.city,
            "address_line": member.address_line,
        }

    def step_view(self, request, object_id: int, step: str):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        spec = STEPS.get(step)
        if spec is None:
            raise Http404
        ticket = get_object_or_404(Ticket, pk=object_id)
        if not self.has_view_permission(request, ticket):
            raise PermissionDenied
        back = HttpResponseRedirect(reverse("admin:requests_ticket_change", args=[ticket.pk]))
        form = spec.form_class(request.POST, ticket=ticket)
        if not form.is_valid():
            messages.error(request, _form_error_text(form))
            return back
        try:
            with transaction.atomic():
                done = spec.run(ticket, form.cleaned_data, request.user)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, done)
        return back

    # --- queues ----------------------------------------------------------------------------

    def queue_view(self, request, scope: str):
        if scope not in QUEUES:
            raise Http404
        label, perm = QUEUES[scope]
        if not request.user.has_perm(perm):
            raise PermissionDenied
        if scope == "approval":
            qs = selectors.approval_queue(request.user)
        else:
            qs = selectors.operator_queue(request.user, scope=scope)
        page = self.get_paginator(request, qs, self.list_per_page).get_page(request.GET.get("page"))
        now = timezone.now()
        rows = ticket_rows(page.object_list, now)
        context = {
            **self.admin_site.each_context(request),
            "title": label,
            "opts": self.opts,
            "queue_tabs": self.queue_tabs(request, active=scope),
            "page_obj": page,
            "rows": rows,
            "rows_html": queue_rows_html(rows),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/requests/ticket/queue.html", context)


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyModelAdmin):
    """Deadline reminders sent (read-only; written by ``requests.tasks.send_deadline_reminders``)."""

    list_display = ["ticket", "kind", "sent_on", "sent_at"]
    list_filter = ["kind", "sent_on"]
    list_select_related = ["ticket"]
    search_fields = ["^ticket__number"]
    actions = None
