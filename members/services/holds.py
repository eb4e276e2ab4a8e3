"""Legal holds (clause Art. 7): a privacy officer places and releases them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consentoffice.core import roles
from consentoffice.core.history import save_tracked
from consentoffice.core.i18n import record_text
from members.models import (
    HoldReason,
    LegalHold,
    Member,
    MemberStatus,
)
from members.services.common import require_perm


def place_legal_hold(member: Member, *, actor, reason_kind: str, note: str) -> LegalHold:
    """A privacy officer holds the member's data from erasure (litigation, AML inquiry, …)."""
    require_perm(actor, roles.MANAGE_LEGAL_HOLD)
    if reason_kind not in HoldReason.values:
        raise ValidationError({"reason_kind": _("保全の理由を選んでください。")})
    if not note.strip():
        raise ValidationError({"note": _("保全の内容（事件番号・照会番号等）を入力してください。")})
    with transaction.atomic():
        locked = Member.objects.select_for_update().get(pk=member.pk)
        if locked.status == MemberStatus.ANONYMIZED:
            raise ValidationError(_("匿名化済みの会員には保全を設定できません。"))
        hold = LegalHold(member=locked, reason_kind=reason_kind, note=note.strip(), placed_by=actor)
        save_tracked(
            hold,
            actor=actor,
            reason=record_text("法的保全を設定（%(kind)s）", kind=HoldReason(reason_kind).label),
        )
    return hold


def release_legal_hold(hold: LegalHold, *, actor, reason: str) -> LegalHold:
    """Release a hold; the nightly erasure then does what the keeping table says."""
    require_perm(actor, roles.MANAGE_LEGAL_HOLD)
    if not reason.strip():
        raise ValidationError({"release_reason": _("解除の理由を入力してください。")})
    with transaction.atomic():
        locked = LegalHold.objects.select_for_update().get(pk=hold.pk)
        if locked.released_at is not None:
            raise ValidationError(_("この保全はすでに解除されています。"))
        locked.released_at = timezone.now()
        locked.released_by = actor
        locked.release_reason = reason.strip()
        save_tracked(locked, actor=actor, reason=record_text("法的保全を解除"))
    return locked
