"""Contracts and applications (Art. 5): apply, decide, end."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from consentoffice.core import roles
from consentoffice.core.history import save_tracked
from consentoffice.core.i18n import record_text
from members.models import (
    Affiliate,
    Contract,
    ContractStatus,
    DeclineReason,
    Member,
    MemberStatus,
)
from members.services.common import require_perm
from members.services.consent import current_consent_version, end_consented_uses, refused_required_purposes


def next_contract_no() -> str:
    last = Contract.objects.aggregate(m=Max("contract_no"))["m"]
    return "C" + str(int(last[1:]) + 1 if last and last[1:].isdigit() else 100000001).zfill(9)


def apply_for_contract(
    *,
    actor,
    member: Member,
    kind: str,
    product_name: str,
    applied_on: date | None = None,
    affiliate: Affiliate | None = None,
    credit_limit: int = 0,
    installments: int = 1,
    settlement_account: str = "",
    contract_no: str = "",
) -> Contract:
    """An application (申込) for a contract under the consent version in force."""
    require_perm(actor, "members.add_contract")
    applied_on = applied_on or timezone.localdate()
    contract = Contract(
        member=member,
        contract_no=contract_no or next_contract_no(),
        kind=kind,
        product_name=product_name,
        affiliate=affiliate,
        consent_version=current_consent_version(applied_on),
        applied_on=applied_on,
        credit_limit=credit_limit,
        installments=installments,
        settlement_account=settlement_account,
    )
    with transaction.atomic():
        return save_tracked(contract, actor=actor, reason=record_text("取引の申込"))


def decide_application(
    contract: Contract, *, approve: bool, actor, reason: str = "", decided_on: date | None = None
) -> Contract:
    """Form or decline an application.

    Art. 5: an application may be declined for missing consent, but never because the member
    refused the marketing purposes of Art. 2(1)①② alone. Approving uses the data for a credit
    decision, which ``selectors.may_use`` must allow. A decline that leaves no transaction
    running ends marketing and research at once (Art. 7(1), ``end_consented_uses``).
    """
    from members import selectors

    require_perm(actor, roles.DECIDE_APPLICATION)
    with transaction.atomic():
        locked = Contract.objects.select_for_update().select_related("member").get(pk=contract.pk)
        if locked.status != ContractStatus.APPLIED:
            raise ValidationError(_("申込中の契約だけが判定できます。"))
        if approve and not selectors.may_use(locked.member, selectors.CREDIT):
            raise ValidationError(
                _(
                    "与信判断への同意がないため承認できません。同意を記録するか、理由を選んで謝絶してください。"
                )
            )
        if approve:
            locked.status = ContractStatus.FORMED
            locked.contracted_on = decided_on or timezone.localdate()
            if locked.contracted_on < locked.applied_on or locked.contracted_on > timezone.localdate():
                raise ValidationError({"decided_on": _("契約日は申込日以降、今日以前の日付にしてください。")})
            history_reason = record_text("申込を承認（契約成立）")
        else:
            if reason not in DeclineReason.values:
                raise ValidationError({"reason": _("不成立の理由を選んでください。")})
            if reason == DeclineReason.CONSENT_REFUSED and not refused_required_purposes(locked.member):
                raise ValidationError(
                    {
                        "reason": _(
                            "営業案内（第2条第1項①②）への不同意だけを理由に申込をお断りすることはできません（同意条項第5条）。"
                        )
                    }
                )
            locked.status = ContractStatus.DECLINED
            locked.decline_reason = reason
            history_reason = record_text("申込を謝絶: %(reason)s", reason=DeclineReason(reason).label)
        save_tracked(locked, actor=actor, reason=history_reason)
        if approve and locked.member.status == MemberStatus.APPLICANT:
            member = locked.member
            member.status = MemberStatus.ACTIVE
            save_tracked(member, actor=actor, reason=record_text("契約成立により会員となった"), clean=False)
        if not approve:
            end_consented_uses(
                locked.member,
                actor=actor,
                reason=record_text(
                    "申込の不成立により営業案内・市場調査への利用を終了（同意条項第7条第1項）"
                ),
            )
    contract.refresh_from_db()
    return locked


def end_contract(contract: Contract, *, actor, ended_on: date | None = None, reason: str = "") -> Contract:
    require_perm(actor, "members.change_contract")
    with transaction.atomic():
        locked = Contract.objects.select_for_update().get(pk=contract.pk)
        if locked.status != ContractStatus.FORMED:
            raise ValidationError(_("成立している契約だけが終了できます。"))
        locked.status = ContractStatus.ENDED
        locked.ended_on = ended_on or timezone.localdate()
        save_tracked(locked, actor=actor, reason=reason or record_text("契約終了"))
        end_consented_uses(
            locked.member,
            actor=actor,
            reason=record_text(
                "すべての取引の終了により営業案内・市場調査への利用を終了（同意条項第7条第2項）"
            ),
        )
    return locked
