"""Every write of the information center: open, verify, decide, prepare, approve, close.

Status moves only as ``requests.rules.TRANSITIONS`` allows. Each act locks the ticket row, so of
two people acting on one ticket at once one wins and the other gets a clear message.
Outcomes of requests are prepared by one person and approved by a supervisor who did not
prepare them (four eyes); inquiries and opinions close without approval.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import copy
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from bureaus.services import record_member_correction
from consentoffice.core import roles
from consentoffice.core.history import save_tracked
from consentoffice.core.i18n import record_text
from consentoffice.core.notifications import notify_users, settle_notifications, subject_of
from consentoffice.models import Notification
from members import services as member_services
from members.models import CATEGORY_1_FIELDS, ConsentSource, Member
from requests import postal, rules, selectors
from requests.models import CorrectionItem, DeletionItem, DisclosurePackage, Ticket, TicketParticipant

Status = rules.Status
Outcome = rules.Outcome


# --- helpers --------------------------------------------------------------------------------


def _lock(ticket: Ticket, action: str, *, expected_version: int | None = None) -> Ticket:
    """Lock the row and check the action is allowed from its current status."""
    # of=("self",): lock only the ticket. PostgreSQL refuses FOR UPDATE on the nullable side of the
    # outer join to the member (inquiries may have none), and the member row needs no lock here.
    locked = Ticket.objects.select_for_update(of=("self",)).select_related("member").get(pk=ticket.pk)
    if expected_version is not None and locked.version != expected_version:
        raise ValidationError(
            _("この受付票は他の担当者が先に更新しました。画面を再読み込みして最新の状態を確認してください。"),
            code="stale",
        )
    allowed, _target = rules.TRANSITIONS[action]
    if locked.status not in allowed:
        raise ValidationError(
            _("現在の状態（%(status)s）ではこの操作はできません。他の担当者が先に処理した可能性があります。")
            % {"status": locked.get_status_display()},
            code="invalid_state",
        )
    return locked


def _save(ticket: Ticket, *, actor, reason: str, action: str | None = None) -> Ticket:
    if action:
        target = rules.TRANSITIONS[action][1]
        if target:
            ticket.status = target
    ticket.version += 1
    return save_tracked(ticket, actor=actor, reason=f"{ticket.number} {reason}")


def _refresh(original: Ticket, saved: Ticket) -> Ticket:
    original.refresh_from_db()
    return saved


def _took_part(ticket: Ticket, actor) -> None:
    """Record that ``actor`` prepared this ticket's outcome: they may never approve it (four eyes)."""
    TicketParticipant.objects.get_or_create(
        ticket=ticket, user=actor, defaults={"role": TicketParticipant.Role.PREPARED}
    )


def _require_staff(actor) -> None:
    member_services.require_perm(actor, "requests.change_ticket")


def next_ticket_number(received_at: datetime) -> str:
    day = timezone.localtime(received_at).date()
    prefix = f"T{day:%Y%m%d}-"
    last = (
        Ticket.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    seq = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{seq:04d}"


# --- opening and verifying ------------------------------------------------------------------


def open_ticket(
    *,
    kind: str,
    member: Member | None,
    channel: str,
    actor,
    received_at: datetime | None = None,
    summary: str = "",
    requester_type: str = "self",
    agent_name: str = "",
    response_method: str = "paper",
    assignee=None,
) -> Ticket:
    """Receive a request or inquiry; its legal due date is fixed now and never moves (APPI Art. 39)."""
    member_services.require_perm(actor, "requests.add_ticket")
    if kind in rules.REQUEST_KINDS and member is None:
        raise ValidationError(
            {"member": _("請求には会員の特定が必要です。保有していない場合はその旨を通知してください。")}
        )
    if requester_type != "self" and not agent_name.strip():
        raise ValidationError({"agent_name": _("代理人による請求では代理人の氏名を入力してください。")})
    received_at = received_at or timezone.now()
    if received_at > timezone.now() + timedelta(minutes=5):
        raise ValidationError({"received_at": _("受付日時に未来の日時は指定できません。")})
    for attempt in range(5):
        ticket = Ticket(
            number=next_ticket_number(received_at),
            member=member,
            kind=kind,
            channel=channel,
            summary=summary,
            requester_type=requester_type,
            agent_name=agent_name.strip(),
            received_at=received_at,
            due_at=rules.due_at(received_at),
            response_method=response_method,
            assignee=assignee or actor,
            fee_amount=settings.DISCLOSURE_FEE_YEN if kind in rules.FEE_KINDS else 0,
        )
        try:
            with transaction.atomic():
                return save_tracked(ticket, actor=actor, reason=f"{ticket.number} {record_text('受付')}")
        except IntegrityError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


def start_verification(
    ticket: Ticket, *, actor, note: str = "", expected_version: int | None = None
) -> Ticket:
    _require_staff(actor)
    with transaction.atomic():
        locked = _lock(ticket, "start_verification", expected_version=expected_version)
        saved = _save(
            locked, actor=actor, reason=note or record_text("本人確認を開始"), action="start_verification"
        )
    return _refresh(ticket, saved)


def verify_identity(
    ticket: Ticket,
    *,
    actor,
    method: str,
    documents_seen: int = 1,
    agent_document_issued_on: date | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """APPI Art. 37: identity of the requester (one photo ID, or two without) and of an agent's authority.

    An individual-number card may be seen; its number is never recorded.
    """
    _require_staff(actor)
    valid_methods = {code for code, _label in rules.IDENTITY_METHOD_CHOICES}
    if method not in valid_methods:
        raise ValidationError({"method": _("本人確認方法を選んでください。")})
    if method not in rules.PHOTO_ID_METHODS and documents_seen < 2:
        raise ValidationError({"documents_seen": _("顔写真のない書類では2種類の確認が必要です。")})
    with transaction.atomic():
        locked = _lock(ticket, "verify_identity", expected_version=expected_version)
        if locked.requester_type == "legal_representative":
            if agent_document_issued_on is None or not rules.document_within_six_months(
                agent_document_issued_on, timezone.localdate()
            ):
                raise ValidationError(
                    {
                        "agent_document_issued_on": _(
                            "法定代理人の確認には発行から6か月以内の戸籍謄本等が必要です。"
                        )
                    }
                )
        if locked.requester_type == "delegate" and agent_document_issued_on is None:
            raise ValidationError(
                {
                    "agent_document_issued_on": _(
                        "任意代理人の委任状と印鑑登録証明書の発行日を入力してください。"
                    )
                }
            )
        locked.identity_method = method
        locked.identity_documents_seen = documents_seen
        locked.identity_verified_by = actor
        locked.identity_verified_at = timezone.now()
        if locked.requester_type != "self":
            locked.agent_document_issued_on = agent_document_issued_on
            locked.agent_verified = True
        saved = _save(locked, actor=actor, reason=record_text("本人確認済み"), action="verify_identity")
    return _refresh(ticket, saved)


def assign(ticket: Ticket, *, actor, assignee, expected_version: int | None = None) -> Ticket:
    _require_staff(actor)
    with transaction.atomic():
        locked = _lock(ticket, "assign", expected_version=expected_version)
        locked.assignee = assignee
        saved = _save(locked, actor=actor, reason=record_text("担当者を変更"))
    return _refresh(ticket, saved)


def hold(ticket: Ticket, *, actor, reason: str, expected_version: int | None = None) -> Ticket:
    """Wait for the requester (documents, fee). The legal due date does not move."""
    _require_staff(actor)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("保留の理由を入力してください。")})
    with transaction.atomic():
        locked = _lock(ticket, "hold", expected_version=expected_version)
        if locked.on_hold:
            raise ValidationError(_("すでに保留中です。"))
        locked.on_hold = True
        locked.hold_reason = reason.strip()
        locked.hold_started_at = timezone.now()
        saved = _save(locked, actor=actor, reason=record_text("保留: %(reason)s", reason=reason.strip()))
    return _refresh(ticket, saved)


def resume(ticket: Ticket, *, actor, expected_version: int | None = None) -> Ticket:
    _require_staff(actor)
    with transaction.atomic():
        locked = _lock(ticket, "resume", expected_version=expected_version)
        if not locked.on_hold:
            raise ValidationError(_("保留中ではありません。"))
        _end_hold(locked)
        saved = _save(locked, actor=actor, reason=record_text("保留を解除"))
    return _refresh(ticket, saved)


def _end_hold(ticket: Ticket) -> None:
    ticket.held_seconds = ticket.held_total_seconds()
    ticket.on_hold = False
    ticket.hold_started_at = None
    ticket.hold_reason = ""


def record_fee_payment(
    ticket: Ticket, *, actor, paid_on: date, expected_version: int | None = None
) -> Ticket:
    """APPI Art. 38: the disclosure fee, set in advance; the day it was paid is recorded."""
    _require_staff(actor)
    if paid_on > timezone.localdate():
        raise ValidationError({"paid_on": _("入金日に未来の日付は指定できません。")})
    with transaction.atomic():
        locked = _lock(ticket, "record_fee_payment", expected_version=expected_version)
        if locked.fee_amount == 0:
            raise ValidationError(_("この受付票には手数料がかかりません。"))
        locked.fee_paid_on = paid_on
        saved = _save(locked, actor=actor, reason=record_text("手数料の入金を確認"))
    return _refresh(ticket, saved)


# --- correction and deletion items ----------------------------------------------------------


def add_correction_item(
    ticket: Ticket, *, field: str, requested_value: str, actor, expected_version: int | None = None
) -> CorrectionItem:
    """One field to correct; the current value is captured and the new one validated now."""
    _require_staff(actor)
    if field not in CATEGORY_1_FIELDS:
        raise ValidationError({"field": _("訂正できない項目です。")})
    with transaction.atomic():
        locked = _lock(ticket, "edit_items", expected_version=expected_version)
        if not rules.may_hold(locked.kind, "correction_items"):
            raise ValidationError(_("訂正項目は訂正請求にのみ追加できます。"))
        member = locked.member
        probe = Member.objects.get(pk=member.pk)
        setattr(probe, field, requested_value)
        try:
            probe.full_clean(exclude=[f for f in CATEGORY_1_FIELDS if f != field] + ["member_no"])
        except ValidationError as exc:
            messages = exc.message_dict.get(field) or exc.messages
            raise ValidationError({"requested_value": messages}) from None
        normalized = getattr(probe, field)
        item = CorrectionItem(
            ticket=locked,
            field=field,
            current_value=str(getattr(member, field) or ""),
            requested_value=str(normalized),
        )
        if CorrectionItem.objects.filter(ticket=locked, field=field).exists():
            raise ValidationError({"field": _("この項目はすでに追加されています。")})
        save_tracked(item, actor=actor, reason=f"{locked.number} {record_text('訂正項目を追加')}")
        _save(locked, actor=actor, reason=record_text("訂正項目を追加"))
    return item


def _check_undecided(item, pending: str, change: bool) -> None:
    """An item is decided once; deciding it again is an explicit change (判断を変更), so a second
    press of the same button never records a second decision unseen."""
    if item.decision != pending and not change:
        raise ValidationError(
            _("この項目はすでに判断済みです。変える場合は「判断を変更」から操作してください。"),
            code="decided",
        )


def add_address_correction(
    ticket: Ticket,
    *,
    actor,
    postal_code: str = "",
    prefecture: str = "",
    city: str = "",
    address_line: str = "",
    expected_version: int | None = None,
) -> list[CorrectionItem]:
    """A new address as one group: one correction item for each of ``rules.ADDRESS_FIELDS`` that
    changes, all or none (one transaction). A blank field keeps its current value, except that with a
    new postal code the table knows (``requests.postal``) a blank prefecture or city is its town's."""
    _require_staff(actor)
    requested = {
        "postal_code": postal_code,
        "prefecture": prefecture,
        "city": city,
        "address_line": address_line,
    }
    requested = {field: (value or "").strip() for field, value in requested.items()}
    with transaction.atomic():
        locked = _lock(ticket, "edit_items", expected_version=expected_version)
        if not rules.may_hold(locked.kind, "correction_items"):
            raise ValidationError(_("訂正項目は訂正請求にのみ追加できます。"))
        current = Member.objects.get(pk=locked.member_id)
        known = postal.lookup(requested["postal_code"]) if requested["postal_code"] else None
        if known and postal.lookup(current.postal_code) != known:  # a new code: its town is new too
            requested["prefecture"] = requested["prefecture"] or known[0]
            requested["city"] = requested["city"] or known[1]
        probe = copy(current)  # the member as corrected, checked by the model's own validation
        given = [field for field in rules.ADDRESS_FIELDS if requested[field]]
        for field in given:
            setattr(probe, field, requested[field])
        try:
            probe.full_clean(exclude=[f for f in CATEGORY_1_FIELDS if f not in given] + ["member_no"])
        except ValidationError as exc:
            raise ValidationError(
                {
                    field: [f"{Member._meta.get_field(field).verbose_name}: {m}" for m in messages]
                    for field, messages in exc.message_dict.items()
                }
            ) from None
        changed = [field for field in given if getattr(probe, field) != getattr(current, field)]
        if not changed:
            raise ValidationError(_("住所に変更がありません。訂正後の内容を入力してください。"))
        return [
            add_correction_item(locked, field=field, requested_value=getattr(probe, field), actor=actor)
            for field in changed
        ]


def decide_correction_item(
    item: CorrectionItem,
    *,
    actor,
    accept: bool,
    note: str = "",
    change: bool = False,
    expected_version: int | None = None,
) -> CorrectionItem:
    """APPI Art. 34: correct only what is factually wrong (not opinions or assessments).

    A decided item is decided again only with ``change=True`` (the page's 「判断を変更」)."""
    _require_staff(actor)
    if not accept and not note.strip():
        raise ValidationError(
            {"note": _("訂正しない理由を入力してください（例: 事実と相違がない、評価に関する情報である）。")}
        )
    with transaction.atomic():
        locked = _lock(item.ticket, "edit_items", expected_version=expected_version)
        item = CorrectionItem.objects.select_for_update().get(pk=item.pk)
        _check_undecided(item, CorrectionItem.Decision.PENDING, change)
        item.decision = CorrectionItem.Decision.ACCEPTED if accept else CorrectionItem.Decision.REJECTED
        item.decision_note = note.strip()
        save_tracked(item, actor=actor, reason=f"{locked.number} {record_text('訂正項目を判断')}")
        _took_part(locked, actor)
        _save(locked, actor=actor, reason=record_text("訂正項目を判断"))
    return item


def add_deletion_item(
    ticket: Ticket, *, target: str, actor, expected_version: int | None = None
) -> DeletionItem:
    """One kind of data to delete; items under a retention duty are refused with the ground at once."""
    _require_staff(actor)
    if target not in rules.DELETION_TARGETS:
        raise ValidationError({"target": _("削除対象を選んでください。")})
    with transaction.atomic():
        locked = _lock(ticket, "edit_items", expected_version=expected_version)
        if not rules.may_hold(locked.kind, "deletion_items"):
            raise ValidationError(_("削除項目は削除請求にのみ追加できます。"))
        if DeletionItem.objects.filter(ticket=locked, target=target).exists():
            raise ValidationError({"target": _("この対象はすでに追加されています。")})
        ground = selectors.retention_ground(locked.member, target)
        item = DeletionItem(
            ticket=locked,
            target=target,
            ground=ground,
            decision=DeletionItem.Decision.REFUSED if ground else DeletionItem.Decision.PENDING,
        )
        save_tracked(item, actor=actor, reason=f"{locked.number} {record_text('削除項目を追加')}")
        _save(locked, actor=actor, reason=record_text("削除項目を追加"))
    return item


def _erasable(target: str) -> bool:
    """Whether approval can carry out an accepted item of ``target`` (see ``_apply_deletion``)."""
    return target == "marketing" or target in member_services.ERASABLE


def decide_deletion_item(
    item: DeletionItem,
    *,
    actor,
    accept: bool,
    ground: str = "",
    change: bool = False,
    expected_version: int | None = None,
) -> DeletionItem:
    """Decided once, like a correction item: deciding again needs ``change=True``. An item refused
    on its retention duty when it was added counts as decided."""
    _require_staff(actor)
    with transaction.atomic():
        locked = _lock(item.ticket, "edit_items", expected_version=expected_version)
        item = DeletionItem.objects.select_for_update().get(pk=item.pk)
        duty = selectors.retention_ground(locked.member, item.target)
        if accept and duty:
            raise ValidationError(
                _("保存義務があるため削除できません: %(ground)s") % {"ground": rules.RETENTION_GROUNDS[duty]}
            )
        if accept and not _erasable(item.target):
            raise ValidationError(
                _("この対象はシステムで削除できません。保存の根拠を選んで「削除しない」と判断してください。")
            )
        if not accept and ground not in rules.RETENTION_GROUNDS:
            raise ValidationError({"ground": _("削除しない根拠を選んでください。")})
        _check_undecided(item, DeletionItem.Decision.PENDING, change)
        item.decision = DeletionItem.Decision.ACCEPTED if accept else DeletionItem.Decision.REFUSED
        item.ground = "" if accept else ground
        save_tracked(item, actor=actor, reason=f"{locked.number} {record_text('削除項目を判断')}")
        _took_part(locked, actor)
        _save(locked, actor=actor, reason=record_text("削除項目を判断"))
    return item


# --- preparing, approving, closing ----------------------------------------------------------


def _check_items(decisions: list[str], accepted: str, refused: str, outcome: str) -> None:
    # A whole request may be refused on an Art. 33(2) ground before any item is looked at.
    if not decisions and outcome == Outcome.REFUSED:
        return
    if not decisions:
        raise ValidationError(_("項目を追加してください。"))
    if any(d not in (accepted, refused) for d in decisions):
        raise ValidationError(_("すべての項目について判断してください。"))
    has_accepted, has_refused = accepted in decisions, refused in decisions
    expected = {
        Outcome.FULFILLED: has_accepted and not has_refused,
        Outcome.PARTLY: has_accepted and has_refused,
        Outcome.REFUSED: has_refused and not has_accepted,
    }[outcome]
    if not expected:
        raise ValidationError(_("項目ごとの判断と結果が一致しません。"))


def _check_ready(ticket: Ticket, outcome: str) -> None:
    if outcome == Outcome.WITHDRAWN:
        return
    if ticket.identity_verified_at is None:
        raise ValidationError(_("本人確認が済んでいません。"))
    if ticket.kind == rules.Kind.CORRECTION:
        _check_items(
            list(ticket.correction_items.values_list("decision", flat=True)),
            CorrectionItem.Decision.ACCEPTED,
            CorrectionItem.Decision.REJECTED,
            outcome,
        )
    if ticket.kind == rules.Kind.DELETION:
        _check_items(
            list(ticket.deletion_items.values_list("decision", flat=True)),
            DeletionItem.Decision.ACCEPTED,
            DeletionItem.Decision.REFUSED,
            outcome,
        )
    if ticket.kind == rules.Kind.DISCLOSURE and outcome in (Outcome.FULFILLED, Outcome.PARTLY):
        if ticket.fee_amount and ticket.fee_paid_on is None:
            raise ValidationError(_("開示手数料の入金が確認できていません。"))
        if not ticket.packages.exists():
            raise ValidationError(_("開示パッケージを作成してください。"))


def submit_for_approval(
    ticket: Ticket,
    *,
    outcome: str,
    actor,
    reason: str = "",
    ground: str = "",
    expected_version: int | None = None,
) -> Ticket:
    """Prepare the outcome of a request for a supervisor's approval.

    A refusal needs a ground of APPI Art. 33(2) i–iii and, with a partial answer, the reasons
    (Art. 36), which go into the reply letter.
    """
    _require_staff(actor)
    if outcome not in {code for code, _label in rules.OUTCOME_CHOICES}:
        raise ValidationError({"outcome": _("結果を選んでください。")})
    if (why_not := rules.outcome_not_for_kind(ticket.kind, outcome)) is not None:
        raise ValidationError({"outcome": why_not})
    reason = (reason or "").strip()
    if outcome == Outcome.REFUSED and ground not in rules.REFUSAL_GROUNDS:
        raise ValidationError(
            {"ground": _("不対応とする根拠（個人情報保護法第33条第2項各号）を選んでください。")}
        )
    if outcome in (Outcome.REFUSED, Outcome.PARTLY) and not reason:
        raise ValidationError({"reason": _("本人に通知する理由を入力してください（個人情報保護法第36条）。")})
    action = "submit_withdrawal" if outcome == Outcome.WITHDRAWN else "submit_for_approval"
    with transaction.atomic():
        locked = _lock(ticket, action, expected_version=expected_version)
        if not locked.is_request:
            raise ValidationError(_("問い合わせ・ご意見は承認なしで完了にします。"))
        if locked.on_hold:
            raise ValidationError(_("保留中の受付票は承認依頼できません。保留を解除してください。"))
        _check_ready(locked, outcome)
        locked.outcome = outcome
        locked.refusal_ground = ground if outcome == Outcome.REFUSED else ""
        locked.outcome_reason = reason
        locked.sent_back_reason = ""
        locked.prepared_by = actor
        _took_part(locked, actor)
        saved = _save(
            locked,
            actor=actor,
            reason=record_text("承認を依頼: %(outcome)s", outcome=locked.get_outcome_display()),
            action=action,
        )
    return _refresh(ticket, saved)


def send_back(ticket: Ticket, *, actor, reason: str, expected_version: int | None = None) -> Ticket:
    """A supervisor returns a prepared outcome to the operator."""
    member_services.require_perm(actor, roles.APPROVE_TICKET)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("差し戻しの理由を入力してください。")})
    with transaction.atomic():
        locked = _lock(ticket, "send_back", expected_version=expected_version)
        locked.outcome = ""
        locked.refusal_ground = ""
        locked.outcome_reason = ""
        locked.sent_back_reason = reason.strip()[:200]
        saved = _save(
            locked,
            actor=actor,
            reason=record_text("差し戻し: %(reason)s", reason=reason.strip()),
            action="send_back",
        )
        _tell_preparer(
            saved,
            Notification.Kind.SENT_BACK,
            record_text("受付票 %(number)s が差し戻されました", number=saved.number),
        )
    return _refresh(ticket, saved)


def _tell_preparer(ticket: Ticket, kind: str, title: str) -> None:
    """The preparer learns on their home that the outcome was approved or sent back: the ticket
    number and a link only (the reason of a send-back is on the ticket, not in the notice)."""
    if ticket.prepared_by_id is None:
        return
    notify_users(
        kind=kind,
        title=title,
        user_ids=[ticket.prepared_by_id],
        url=reverse("admin:requests_ticket_change", args=[ticket.pk]),
        subject=subject_of(ticket),
    )


def _closing_time(ticket: Ticket, closed_at: datetime | None) -> datetime:
    """Now, or the moment a ticket closed on paper when it is entered afterwards (demo data,
    records carried over): never in the future and never before the ticket was received."""
    now = timezone.now()
    if closed_at is None:
        return now
    if closed_at > now + timedelta(minutes=5) or closed_at < ticket.received_at:
        raise ValidationError({"closed_at": _("完了日時は受付日時から現在までの間で指定してください。")})
    return closed_at


def approve(
    ticket: Ticket, *, actor, expected_version: int | None = None, closed_at: datetime | None = None
) -> Ticket:
    """Four eyes: a supervisor who did not prepare the outcome approves it, and it takes effect."""
    member_services.require_perm(actor, roles.APPROVE_TICKET)
    with transaction.atomic():
        locked = _lock(ticket, "approve", expected_version=expected_version)
        if selectors.took_part_in(locked, actor):
            raise PermissionDenied(str(rules.FOUR_EYES_REFUSAL))
        try:
            with transaction.atomic():  # the database refuses a second role of one person too
                TicketParticipant.objects.create(
                    ticket=locked, user=actor, role=TicketParticipant.Role.APPROVED
                )
        except IntegrityError:
            raise PermissionDenied(str(rules.FOUR_EYES_REFUSAL)) from None
        if (why_not := rules.outcome_not_for_kind(locked.kind, locked.outcome)) is not None:
            raise ValidationError(why_not)  # prepared before the rule; send it back
        now = _closing_time(locked, closed_at)
        if locked.outcome in (Outcome.FULFILLED, Outcome.PARTLY):
            APPROVAL_EFFECTS.get(locked.kind, _no_effect)(locked, actor)
        locked.approver = actor
        locked.approved_at = now
        locked.closed_at = now
        saved = _save(locked, actor=actor, reason=record_text("承認・完了"), action="approve")
        settle_notifications(saved)
        _tell_preparer(
            saved,
            Notification.Kind.APPROVED,
            record_text("受付票 %(number)s が承認されました", number=saved.number),
        )
    return _refresh(ticket, saved)


def close_ticket(
    ticket: Ticket,
    *,
    actor,
    note: str = "",
    expected_version: int | None = None,
    closed_at: datetime | None = None,
) -> Ticket:
    """Inquiries and opinions (clause Art. 6) close without approval."""
    _require_staff(actor)
    with transaction.atomic():
        locked = _lock(ticket, "close_ticket", expected_version=expected_version)
        if locked.is_request:
            raise ValidationError(_("請求は承認を経て完了します。承認を依頼してください。"))
        if locked.on_hold:  # a closed ticket is no longer waiting: the hold ends with it
            _end_hold(locked)
        locked.closed_at = _closing_time(locked, closed_at)
        saved = _save(locked, actor=actor, reason=note.strip() or record_text("完了"), action="close_ticket")
        settle_notifications(saved)
    return _refresh(ticket, saved)


# --- effects of an approved outcome ---------------------------------------------------------


def _history_reason(ticket: Ticket, text: str) -> str:
    return f"{ticket.number} {text}"


def change_member_data(member: Member, *, actor, reason: str, changes: dict[str, Any]) -> list[str]:
    """Change category ① data and pass the change on: the one path of an applied correction and
    of a change notification (住所変更等の届出).

    ``members.services.update_member`` writes the change with ``reason`` in history and tells
    the affiliates holding the member's partner card (Art. 10); a changed item registered at a
    bureau is corrected there too (clause Art. 4). Returns the fields that changed.
    """
    with transaction.atomic():
        before = Member.objects.select_for_update().filter(pk=member.pk).values(*changes).get()
        updated = member_services.update_member(member, actor=actor, reason=reason, **changes)
        changed = sorted(field for field in changes if getattr(updated, field) != before[field])
        record_member_correction(actor=actor, member=updated, fields=changed, reason=reason)
    return changed


def file_change_notification(member: Member, *, actor, reason: str, **changes: Any) -> list[str]:
    """住所変更等の届出: the member reports a move or new contacts; applied at once with the reason
    in history and passed on exactly as an applied correction (``change_member_data``).

    Nothing changed is refused, so a notification always leaves a trace.
    """
    member_services.require_perm(actor, "members.change_member")
    unknown = set(changes) - set(member_services.NOTIFIABLE_FIELDS)
    if unknown:
        raise ValidationError(
            _("届出で変更できない項目です: %(fields)s") % {"fields": ", ".join(sorted(unknown))}
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("届出の理由を入力してください。")})
    with transaction.atomic():
        changed = change_member_data(
            member,
            actor=actor,
            reason=record_text("住所変更等の届出: %(reason)s", reason=reason),
            changes=changes,
        )
        if not changed:
            raise ValidationError(_("変更された項目がありません。届出の内容を入力してください。"))
    return changed


def _apply_correction(ticket: Ticket, actor) -> None:
    items = list(ticket.correction_items.filter(decision=CorrectionItem.Decision.ACCEPTED))
    changes: dict[str, Any] = {item.field: item.requested_value for item in items}
    if not changes:
        return
    if "birth_date" in changes:
        changes["birth_date"] = date.fromisoformat(changes["birth_date"])
    reason = _history_reason(ticket, record_text("訂正請求に基づく訂正"))
    change_member_data(ticket.member, actor=actor, reason=reason, changes=changes)


def _apply_deletion(ticket: Ticket, actor) -> None:
    for item in ticket.deletion_items.filter(decision=DeletionItem.Decision.ACCEPTED):
        if item.target == "marketing":
            count = _withdraw(ticket, actor, rules.STOP_EFFECTS[rules.Kind.USAGE_STOP].purposes)
        else:
            count = member_services.erase_member_data(
                ticket.member,
                actor=actor,
                target=item.target,
                reason=_history_reason(ticket, record_text("削除請求に基づく削除")),
            )
        item.erased_count = count
        save_tracked(item, actor=actor, reason=_history_reason(ticket, record_text("削除を実施")))


def _withdraw(ticket: Ticket, actor, purposes: tuple[str, ...]) -> int:
    for code in purposes:
        member_services.set_consent(
            ticket.member,
            purpose=code,
            granted=False,
            actor=actor,
            source=ConsentSource.TICKET,
            reason=_history_reason(ticket, record_text("申出に基づく利用の中止")),
        )
    return len(purposes)


def _apply_stop(ticket: Ticket, actor) -> None:
    """What ``rules.STOP_EFFECTS`` says the ticket's kind of stop does. Stops are passed on to the
    affiliates holding the member's card (Art. 10; DESIGN, "Partner cards")."""
    effect = rules.STOP_EFFECTS[ticket.kind]
    _withdraw(ticket, actor, effect.purposes)
    if effect.stops_provision:
        member_services.stop_provision(
            ticket.member,
            actor=actor,
            reason=_history_reason(ticket, record_text("第三者提供停止請求に基づく停止")),
        )
    # After a provision stop, which cancels the member's pending changes but not this notice.
    member_services.queue_partner_stop(ticket.member, effect.partner_stop, actor=actor)


def _apply_disclosure(ticket: Ticket, actor) -> None:
    package = ticket.packages.order_by("-created_at").first()
    package.delivered_at = timezone.now()
    save_tracked(package, actor=actor, reason=_history_reason(ticket, record_text("開示パッケージを交付")))


def _no_effect(ticket: Ticket, actor) -> None:
    return None


APPROVAL_EFFECTS: dict[str, Callable[[Ticket, Any], None]] = {
    rules.Kind.CORRECTION: _apply_correction,
    rules.Kind.DELETION: _apply_deletion,
    **{kind: _apply_stop for kind in rules.STOP_EFFECTS},
    rules.Kind.DISCLOSURE: _apply_disclosure,
}


# --- disclosure -----------------------------------------------------------------------------


def build_disclosure_package(
    ticket: Ticket, *, actor, expected_version: int | None = None
) -> DisclosurePackage:
    """APPI Art. 33: everything held on the member, by category, as a ZIP with its SHA-256."""
    _require_staff(actor)
    from requests import disclosure

    with transaction.atomic():
        locked = _lock(ticket, "edit_items", expected_version=expected_version)
        if not rules.may_hold(locked.kind, "packages"):
            raise ValidationError(_("開示パッケージは開示請求でのみ作成できます。"))
        if locked.identity_verified_at is None:
            raise ValidationError(_("本人確認が済んでいません。"))
        built = disclosure.build_package(locked, actor=actor)
        package = DisclosurePackage(
            ticket=locked,
            file=built.path,
            sha256=built.sha256,
            size=built.size,
            files=built.files,
            created_by=actor,
        )
        save_tracked(package, actor=actor, reason=f"{locked.number} {record_text('開示パッケージを作成')}")
        _save(locked, actor=actor, reason=record_text("開示パッケージを作成"))
    return package
