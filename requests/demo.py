"""Demo tickets for ``manage.py seed_demo`` (clause Art. 4, 6; APPI Art. 33–39).

Every kind of ticket in every state the information center sees — received, identity being
checked, in progress, on hold, waiting for approval, and closed with each outcome — received over
the last twelve weeks, so the operator home has queues (some due soon, some overdue, some nobody
has taken) and the supervisors' dashboard has weekly figures. Each ticket is worked through
``requests.services`` by the demo operators and approved by the demo supervisors, so the history
reads like real work; the consequences follow as they would: an approved correction of a partner
card holder is sent to the affiliate (one affiliate answers 400: a dead event, another 503: a retry),
and the deadline reminder job notifies the assignees and the supervisors.

The section runs once: when a demo ticket exists (``DEMO_MARK`` ends its summary) it creates nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import httpx
from django.db import transaction
from django.test.utils import override_settings

from members import partner_sync
from members.demo import DemoContext, member_no_for
from members.models import Contract, ContractStatus, Member, PartnerSyncEvent, SyncDirection, SyncStatus
from requests import reminders, rules, services
from requests.models import DeletionItem, Ticket

Kind, Outcome = rules.Kind, rules.Outcome

DEMO_MARK = "（デモ）"
Status = rules.Status
RECEIVED, VERIFYING, IN_PROGRESS, PENDING, CLOSED = (
    Status.RECEIVED,
    Status.VERIFYING,
    Status.IN_PROGRESS,
    Status.PENDING_APPROVAL,
    Status.CLOSED,
)
ON_HOLD = "on_hold"  # a state of the demo only: in progress and held
OPEN_STATES = (RECEIVED, VERIFYING, IN_PROGRESS, ON_HOLD, PENDING)
# The kinds in the order of their choices, so the demo's rotation is repeatable.
REQUEST_KINDS = tuple(kind for kind, _label in rules.KIND_CHOICES if kind in rules.REQUEST_KINDS)
CONVERSATION_KINDS = tuple(kind for kind, _label in rules.KIND_CHOICES if kind in rules.CONVERSATION_KINDS)
# Days since receipt of open requests, in turn: fresh, due soon (the 14th day is near), overdue.
OPEN_AGES = (0.3, 4.0, 12.4, 16.0, 25.0, 8.0, 1.5)
WEEKS = 12
CHANNELS = (rules.Channel.PHONE, rules.Channel.MAIL, rules.Channel.WEB, rules.Channel.COUNTER)
IDENTITY_METHODS = ("driver_license", "my_number_card", "passport", "residence_card")

SUMMARIES = {
    Kind.DISCLOSURE: "保有個人データの開示を請求。電磁的記録での交付を希望",
    Kind.CORRECTION: "登録されている電話番号が誤っているとの申出。訂正を請求",
    Kind.DELETION: "営業案内に使う情報と応対記録の削除を請求",
    Kind.USAGE_STOP: "営業案内・市場調査への利用の停止を請求",
    Kind.PROVISION_STOP: "提携先への第三者提供の停止を請求",
    Kind.MARKETING_STOP: "ダイレクトメール・電話による営業案内の中止を申出",
    Kind.INQUIRY: "個人信用情報機関への登録内容と登録期間について問い合わせ",
    Kind.OPINION: "利用明細書の個人情報の記載について意見",
}
HOLD_REASONS = {
    Kind.DISCLOSURE: "開示手数料の入金待ち",
    Kind.INQUIRY: "お客様からの折り返し連絡待ち",
    Kind.OPINION: "関係部署の回答待ち",
}
DEFAULT_HOLD_REASON = "追加の本人確認書類の到着待ち"


@dataclass(frozen=True)
class Plan:
    """One demo ticket: its kind, where it stands, and when it arrived (days before now)."""

    kind: str
    state: str
    outcome: str = ""  # prepared (pending) or approved (closed) outcome of a request
    days_ago: float = 1.0
    took_days: float = 0.0  # receipt to closing
    assignee: str | None = "operator"  # demo username; None: nobody has taken it yet


def _outcomes(kind: str) -> tuple[str, ...]:
    return tuple(code for code, _label in rules.outcome_choices(kind))


def ticket_plans() -> list[Plan]:
    """The demo tickets, oldest first: deterministic, independent of the number of members."""
    plans: list[Plan] = []
    users = ("operator", "operator2")
    for i, kind in enumerate(REQUEST_KINDS):
        for j, state in enumerate(OPEN_STATES):
            n = i * len(OPEN_STATES) + j
            unassigned = state in (RECEIVED, VERIFYING) and n % 2 == 0
            plans.append(
                Plan(
                    kind,
                    state,
                    outcome=Outcome.FULFILLED if state == PENDING else "",
                    days_ago=OPEN_AGES[n % len(OPEN_AGES)],
                    assignee=None if unassigned else users[n % 2],
                )
            )
        for k, outcome in enumerate(_outcomes(kind)):
            n = i * 4 + k
            plans.append(
                Plan(
                    kind,
                    CLOSED,
                    outcome,
                    days_ago=3 + (n * 37) % 78,
                    took_days=2 + n % 11,
                    assignee=users[n % 2],
                )
            )
    for i, kind in enumerate(CONVERSATION_KINDS):
        for j, state in enumerate((RECEIVED, VERIFYING, IN_PROGRESS, ON_HOLD, CLOSED)):
            plans.append(
                Plan(
                    kind,
                    state,
                    days_ago=0.5 + 2 * j + i,
                    took_days=1.0 if state == CLOSED else 0.0,
                    assignee=None if state == RECEIVED and i == 0 else users[(i + j) % 2],
                )
            )
    # The weekly flow behind the dashboard's charts: two closed tickets a week, one late now and then.
    filler = (
        (Kind.INQUIRY, ""),
        (Kind.MARKETING_STOP, Outcome.FULFILLED),
        (Kind.OPINION, ""),
        (Kind.USAGE_STOP, Outcome.REFUSED),
        (Kind.CORRECTION, Outcome.FULFILLED),
    )
    for week in range(WEEKS):
        for half in range(2):
            kind, outcome = filler[(2 * week + half) % len(filler)]
            late = kind in rules.REQUEST_KINDS and week % 4 == 1
            plans.append(
                Plan(
                    kind,
                    CLOSED,
                    outcome,
                    days_ago=7 * week + 3.5 * half + 2.2,
                    took_days=16.0 if late else 1.0 + (week + half) % 9,
                    assignee=users[(week + half) % 2],
                )
            )
    plans.sort(key=lambda plan: -plan.days_ago)
    return plans


# --- members --------------------------------------------------------------------------------


def _members(ctx: DemoContext) -> tuple[list[Member], list[Member]]:
    """(partner card holders, the other demo members); a correction of a holder reaches the affiliate."""
    numbers = [member_no_for(i) for i in range(1, ctx.member_count + 1)]
    members = list(Member.objects.filter(member_no__in=numbers).order_by("member_no"))
    holder_ids = set(
        Contract.objects.filter(
            member__in=members, affiliate__isnull=False, status=ContractStatus.FORMED
        ).values_list("member_id", flat=True)
    )
    holders = [m for m in members if m.pk in holder_ids]
    others = [m for m in members if m.pk not in holder_ids]
    return holders or members, others or members


# --- working one ticket ---------------------------------------------------------------------


def _requester(n: int) -> dict:
    if n % 11 == 5:
        return {"requester_type": "legal_representative", "agent_name": "法定代理人（親権者）"}
    if n % 13 == 7:
        return {"requester_type": "delegate", "agent_name": "委任を受けた弁護士"}
    return {}


def _prepare_items(ticket: Ticket, plan: Plan, actor, n: int) -> None:
    """Items of a correction or deletion request, decided as the outcome needs (APPI Art. 34, 35)."""
    if plan.kind == Kind.CORRECTION:
        phone = services.add_correction_item(
            ticket, field="phone", requested_value=f"090{(ticket.pk * 7919 + n) % 10**8:08d}", actor=actor
        )
        if plan.state == IN_PROGRESS or plan.outcome == Outcome.WITHDRAWN:
            return
        if plan.outcome == Outcome.REFUSED:
            services.decide_correction_item(
                phone, actor=actor, accept=False, note="契約時の申込書の記載どおりで、事実と相違がないため"
            )
            return
        services.decide_correction_item(phone, actor=actor, accept=True)
        if plan.outcome == Outcome.PARTLY:
            occupation = services.add_correction_item(
                ticket, field="occupation", requested_value="会社役員", actor=actor
            )
            services.decide_correction_item(
                occupation, actor=actor, accept=False, note="申込時の申告内容であり、変更は変更届によるため"
            )
    elif plan.kind == Kind.DELETION:
        targets = {
            Outcome.FULFILLED: ("marketing", "contact_records"),
            Outcome.PARTLY: ("marketing", "contracts"),
            Outcome.REFUSED: ("contracts",),
        }.get(plan.outcome, ("marketing",))
        for target in targets:
            item = services.add_deletion_item(ticket, target=target, actor=actor)
            if plan.state == IN_PROGRESS or item.decision != DeletionItem.Decision.PENDING:
                continue
            if target in ("marketing", "contact_records"):
                services.decide_deletion_item(item, actor=actor, accept=True)
            else:
                services.decide_deletion_item(item, actor=actor, accept=False, ground="contract_record")


def _submit(ticket: Ticket, plan: Plan, actor) -> None:
    if plan.kind == Kind.DISCLOSURE and plan.outcome in (Outcome.FULFILLED, Outcome.PARTLY):
        ticket.refresh_from_db()
        services.record_fee_payment(ticket, actor=actor, paid_on=ticket.received_at.date())
        services.build_disclosure_package(ticket, actor=actor)
    reason = {
        Outcome.PARTLY: "一部の項目は事実と相違がないため対応しない旨を通知",
        Outcome.REFUSED: "業務の適正な実施に著しい支障を及ぼすおそれがあるため",
        Outcome.WITHDRAWN: "本人から電話で取下げの申出",
    }.get(plan.outcome, "")
    ground = "business" if plan.outcome == Outcome.REFUSED else ""
    services.submit_for_approval(ticket, outcome=plan.outcome, actor=actor, reason=reason, ground=ground)


def open_demo_ticket(ctx: DemoContext, plan: Plan, member: Member, n: int) -> Ticket:
    """Open ``plan``'s ticket and work it up to its state, as the demo users would."""
    actor = ctx.users[plan.assignee or ("operator" if n % 2 else "operator2")]
    received_at = ctx.now - timedelta(days=plan.days_ago)
    requester = _requester(n)
    ticket = services.open_ticket(
        kind=plan.kind,
        member=member,
        channel=CHANNELS[n % len(CHANNELS)],
        actor=actor,
        received_at=received_at,
        summary=f"{SUMMARIES[plan.kind]}{DEMO_MARK}",
        response_method="electronic" if n % 3 == 0 else "paper",
        **requester,
    )
    if plan.assignee is None:
        services.assign(ticket, actor=actor, assignee=None)
    if plan.state == RECEIVED:
        return ticket
    if plan.state == VERIFYING:
        return services.start_verification(ticket, actor=actor, note="本人確認書類の写しを受領")
    if plan.kind in CONVERSATION_KINDS and plan.state == ON_HOLD:
        return services.hold(ticket, actor=actor, reason=HOLD_REASONS[plan.kind])
    if plan.outcome != Outcome.WITHDRAWN:
        services.verify_identity(
            ticket,
            actor=actor,
            method=IDENTITY_METHODS[n % len(IDENTITY_METHODS)],
            agent_document_issued_on=ctx.today - timedelta(days=30) if requester else None,
        )
    if plan.state == ON_HOLD:
        return services.hold(ticket, actor=actor, reason=HOLD_REASONS.get(plan.kind, DEFAULT_HOLD_REASON))
    if plan.kind in CONVERSATION_KINDS:
        if plan.state == CLOSED:
            services.close_ticket(
                ticket, actor=actor, note="回答して完了", closed_at=_closed_at(ctx, received_at, plan)
            )
        return ticket
    _prepare_items(ticket, plan, actor, n)
    if plan.state == IN_PROGRESS:
        return ticket
    _submit(ticket, plan, actor)
    if plan.state == CLOSED:
        supervisor = ctx.supervisor_for(n)
        services.approve(ticket, actor=supervisor, closed_at=_closed_at(ctx, received_at, plan))
    return ticket


def _closed_at(ctx: DemoContext, received_at, plan: Plan):
    return min(received_at + timedelta(days=plan.took_days), ctx.now - timedelta(minutes=1))


# --- the section ----------------------------------------------------------------------------


def seed_tickets(ctx: DemoContext) -> int:
    """Returns how many tickets it opened (0 when the demo already has its tickets)."""
    if Ticket.objects.filter(summary__endswith=DEMO_MARK).exists():
        return 0
    holders, others = _members(ctx)
    if not others:
        return 0
    plans = ticket_plans()
    with transaction.atomic():
        for n, plan in enumerate(plans):
            pool = holders if plan.kind == Kind.CORRECTION else others
            open_demo_ticket(ctx, plan, pool[n % len(pool)], n)
        deliver_partner_sync()
    send_reminders(ctx)
    return len(plans)


def deliver_partner_sync() -> partner_sync.DrainResult:
    """Deliver the outbox as the worker would, the demo affiliates answering in-process: the oldest
    event is refused (400: dead, supervisors notified), the next one meets a 503 (retried later
    by the worker), the rest are accepted."""
    waiting = [
        str(event_id)
        for event_id in PartnerSyncEvent.objects.filter(
            status=SyncStatus.PENDING, direction=SyncDirection.OUTBOUND
        )
        .order_by("pk")
        .values_list("event_id", flat=True)
    ]
    answers = dict(zip(waiting, (400, 503), strict=False))

    def affiliate(request: httpx.Request) -> httpx.Response:
        return httpx.Response(answers.get(json.loads(request.content)["event_id"], 202))

    with httpx.Client(transport=httpx.MockTransport(affiliate)) as client:
        return partner_sync.deliver_due_events(client=client)


def send_reminders(ctx: DemoContext) -> reminders.ReminderRun:
    """The deadline job (due soon, overdue, escalation) fills the notification lists; no mail."""
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        return reminders.send_deadline_reminders(now=ctx.now)
