"""What every act checks first: the actor may act, and a reason is given where one is needed."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _


def require_perm(actor, perm: str) -> None:
    if actor is None or not actor.has_perm(perm):
        raise PermissionDenied(_("この操作を行う権限がありません。"))


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("変更理由を入力してください。")})
    return reason
