"""The next steps of a ticket (the workflow step registry): each step's button, its form, when it is
offered (``requests.rules.TRANSITIONS`` and the user's role) and the service it calls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from consentoffice.core import roles
from requests import forms, rules, selectors, services
from requests.models import CorrectionItem, DeletionItem, Ticket


@dataclass(frozen=True)
class Step:
    """One next step of a ticket: its button, its form, when it is offered and what it calls."""

    name: str
    label: Any
    form_class: type
    offered: Callable[[Ticket, Any], bool]
    run: Callable[[Ticket, dict, Any], str]
    # Shown with the items rather than among the ticket's next steps: adding an item, or (per
    # item) deciding one.
    with_items: bool = False
    per_item: bool = False


def _can_work(user) -> bool:
    return user.has_perm("requests.change_ticket")


def _can_approve(user) -> bool:
    return user.has_perm(roles.APPROVE_TICKET)


def _from(action: str, ticket: Ticket) -> bool:
    return ticket.status in rules.TRANSITIONS[action][0]


def _item(model, ticket: Ticket, pk: int):
    try:
        return model.objects.select_related("ticket").get(pk=pk, ticket=ticket)
    except model.DoesNotExist:
        raise ValidationError(_("指定された項目が見つかりません。")) from None


def _run_start_verification(ticket, data, user):
    services.start_verification(ticket, actor=user, expected_version=data["version"])
    return _("本人確認を開始しました。")


def _run_verify_identity(ticket, data, user):
    services.verify_identity(
        ticket,
        actor=user,
        method=data["method"],
        documents_seen=data["documents_seen"],
        agent_document_issued_on=data["agent_document_issued_on"],
        expected_version=data["version"],
    )
    return _("本人確認済みにしました。")


def _run_assign_to_me(ticket, data, user):
    services.assign(ticket, actor=user, assignee=user, expected_version=data["version"])
    return _("自分の担当にしました。")


def _run_hold(ticket, data, user):
    services.hold(ticket, actor=user, reason=data["reason"], expected_version=data["version"])
    return _("保留にしました。法定期限は変わりません。")


def _run_resume(ticket, data, user):
    services.resume(ticket, actor=user, expected_version=data["version"])
    return _("保留を解除しました。")


def _run_fee(ticket, data, user):
    services.record_fee_payment(ticket, actor=user, paid_on=data["paid_on"], expected_version=data["version"])
    return _("手数料の入金を記録しました。")


def _run_add_correction(ticket, data, user):
    services.add_correction_item(
        ticket,
        field=data["field"],
        requested_value=data["requested_value"],
        actor=user,
        expected_version=data["version"],
    )
    return _("訂正項目を追加しました。")


def _run_add_address(ticket, data, user):
    address = {field: data[field] for field in rules.ADDRESS_FIELDS}
    items = services.add_address_correction(ticket, actor=user, expected_version=data["version"], **address)
    return _("住所の訂正項目を%(count)d件追加しました。") % {"count": len(items)}


def _run_add_deletion(ticket, data, user):
    item = services.add_deletion_item(
        ticket, target=data["target"], actor=user, expected_version=data["version"]
    )
    if item.decision == DeletionItem.Decision.REFUSED:
        return _("削除項目を追加しました。保存義務があるため「削除しない」としました。")
    return _("削除項目を追加しました。")


def _run_decide(model, decide: Callable, reason_field: str, recorded, changed) -> Callable:
    """The step that decides one correction or deletion item (``change`` from 「判断を変更」)."""

    def run(ticket, data, user):
        decide(
            _item(model, ticket, data["item"]),
            actor=user,
            accept=data["accept"],
            change=data["change"],
            expected_version=data["version"],
            **{reason_field: data[reason_field]},
        )
        return str(changed if data["change"] else recorded)

    return run


def _run_build_package(ticket, data, user):
    services.build_disclosure_package(ticket, actor=user, expected_version=data["version"])
    return _("開示パッケージを作成しました。")


def _run_submit(ticket, data, user):
    services.submit_for_approval(
        ticket,
        outcome=data["outcome"],
        actor=user,
        reason=data["reason"],
        ground=data["ground"],
        expected_version=data["version"],
    )
    return _("承認を依頼しました。")


def _run_send_back(ticket, data, user):
    services.send_back(ticket, actor=user, reason=data["reason"], expected_version=data["version"])
    return _("差し戻しました。")


def _run_approve(ticket, data, user):
    services.approve(ticket, actor=user, expected_version=data["version"])
    return _("承認しました。受付票は完了です。")


def _run_close(ticket, data, user):
    services.close_ticket(ticket, actor=user, note=data["note"], expected_version=data["version"])
    return _("完了にしました。")


def _editable_items(kind: str) -> Callable[[Ticket, Any], bool]:
    return lambda t, u: _can_work(u) and t.kind == kind and _from("edit_items", t)


STEPS: dict[str, Step] = {
    step.name: step
    for step in (
        Step(
            "assign_to_me",
            gettext_lazy("自分の担当にする"),
            forms.StepForm,
            lambda t, u: _can_work(u) and _from("assign", t) and t.assignee_id != u.pk,
            _run_assign_to_me,
        ),
        Step(
            "start_verification",
            rules.ACTION_LABELS["start_verification"],
            forms.StepForm,
            lambda t, u: _can_work(u) and _from("start_verification", t),
            _run_start_verification,
        ),
        Step(
            "verify_identity",
            rules.ACTION_LABELS["verify_identity"],
            forms.VerifyIdentityForm,
            lambda t, u: _can_work(u) and _from("verify_identity", t),
            _run_verify_identity,
        ),
        Step(
            "record_fee_payment",
            gettext_lazy("手数料の入金を記録"),
            forms.FeePaymentForm,
            lambda t, u: (
                _can_work(u) and _from("record_fee_payment", t) and t.fee_amount > 0 and t.fee_paid_on is None
            ),
            _run_fee,
        ),
        Step(
            "add_address_correction",
            gettext_lazy("住所の訂正項目を追加"),
            forms.AddressCorrectionForm,
            _editable_items(rules.Kind.CORRECTION),
            _run_add_address,
            with_items=True,
        ),
        Step(
            "add_correction_item",
            gettext_lazy("訂正項目を追加"),
            forms.CorrectionItemForm,
            _editable_items(rules.Kind.CORRECTION),
            _run_add_correction,
            with_items=True,
        ),
        Step(
            "decide_correction_item",
            gettext_lazy("訂正項目を判断"),
            forms.CorrectionDecisionForm,
            _editable_items(rules.Kind.CORRECTION),
            _run_decide(
                CorrectionItem,
                services.decide_correction_item,
                "note",
                gettext_lazy("訂正項目の判断を記録しました。"),
                gettext_lazy("訂正項目の判断を変更しました。"),
            ),
            per_item=True,
            with_items=True,
        ),
        Step(
            "add_deletion_item",
            gettext_lazy("削除項目を追加"),
            forms.DeletionItemForm,
            _editable_items(rules.Kind.DELETION),
            _run_add_deletion,
            with_items=True,
        ),
        Step(
            "decide_deletion_item",
            gettext_lazy("削除項目を判断"),
            forms.DeletionDecisionForm,
            _editable_items(rules.Kind.DELETION),
            _run_decide(
                DeletionItem,
                services.decide_deletion_item,
                "ground",
                gettext_lazy("削除項目の判断を記録しました。"),
                gettext_lazy("削除項目の判断を変更しました。"),
            ),
            per_item=True,
            with_items=True,
        ),
        Step(
            "build_disclosure_package",
            gettext_lazy("開示パッケージを作成"),
            forms.StepForm,
            lambda t, u: _editable_items(rules.Kind.DISCLOSURE)(t, u) and t.identity_verified_at is not None,
            _run_build_package,
        ),
        Step(
            "submit_for_approval",
            rules.ACTION_LABELS["submit_for_approval"],
            forms.SubmitForApprovalForm,
            lambda t, u: _can_work(u) and _from("submit_for_approval", t) and t.is_request and not t.on_hold,
            _run_submit,
        ),
        Step(
            "approve",
            rules.ACTION_LABELS["approve"],
            forms.StepForm,
            lambda t, u: _can_approve(u) and _from("approve", t) and not selectors.took_part_in(t, u),
            _run_approve,
        ),
        Step(
            "send_back",
            rules.ACTION_LABELS["send_back"],
            forms.SendBackForm,
            lambda t, u: _can_approve(u) and _from("send_back", t),
            _run_send_back,
        ),
        Step(
            "close_ticket",
            rules.ACTION_LABELS["close_ticket"],
            forms.NoteForm,
            lambda t, u: _can_work(u) and _from("close_ticket", t) and not t.is_request,
            _run_close,
        ),
        Step(
            "hold",
            rules.ACTION_LABELS["hold"],
            forms.HoldForm,
            lambda t, u: _can_work(u) and _from("hold", t) and not t.on_hold,
            _run_hold,
        ),
        Step(
            "resume",
            rules.ACTION_LABELS["resume"],
            forms.StepForm,
            lambda t, u: _can_work(u) and _from("resume", t) and t.on_hold,
            _run_resume,
        ),
    )
}


def offered_steps(ticket: Ticket, user) -> list[Step]:
    """The next steps this user may take on this ticket now, in the order the page shows them."""
    return [step for step in STEPS.values() if step.offered(ticket, user)]


def next_step(
    ticket: Ticket, offered: list[Step], *, has_package: bool = False, items: tuple[int, int] = (0, 0)
) -> str | None:
    """The one step the page shows as its primary button: what moves the ticket on from here
    (the others are secondary). ``items`` is (how many items, how many undecided) of a correction
    or deletion: with none the primary is adding one, with undecided ones deciding them.
    ``None`` when this user can move the ticket nowhere."""
    total, undecided = items
    if ticket.on_hold:
        wanted = ["resume"]
    elif ticket.status == rules.Status.PENDING_APPROVAL:
        wanted = ["approve"]
    elif ticket.status in (rules.Status.RECEIVED, rules.Status.VERIFYING) and ticket.is_request:
        wanted = ["verify_identity"]
    else:
        wanted = []
        if ticket.kind == rules.Kind.DISCLOSURE:
            wanted += ["record_fee_payment"] + ([] if has_package else ["build_disclosure_package"])
        adding, deciding = ITEM_STEPS.get(ticket.kind, ("", ""))
        if adding and not total:
            wanted.append(adding)
        elif deciding and undecided:
            wanted.append(deciding)
        wanted += ["submit_for_approval", "close_ticket"]
    names = {step.name for step in offered}
    return next((name for name in wanted if name in names), None)


# The kinds decided item by item: the step that adds the first item, the one that decides each.
ITEM_STEPS = {
    rules.Kind.CORRECTION: ("add_address_correction", "decide_correction_item"),
    rules.Kind.DELETION: ("add_deletion_item", "decide_deletion_item"),
}
