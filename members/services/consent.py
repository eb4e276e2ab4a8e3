"""Consent (Art. 2, 5, 9): versions, one consent per purpose, and the end of consented uses
once no transaction runs (Art. 7)."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from consentoffice.core import roles
from consentoffice.core.history import save_tracked
from consentoffice.core.i18n import record_text
from members.models import (
    Consent,
    ConsentVersion,
    Member,
    MemberStatus,
    Purpose,
)
from members.services.common import require_perm

# Clause Art. 5: refusing these purposes (Art. 2(1)①②) is never a ground to decline an application.
ART5_PROTECTED_PURPOSES = ("marketing_own", "marketing_partner")


def current_consent_version(on: date | None = None) -> ConsentVersion:
    on = on or timezone.localdate()
    version = (
        ConsentVersion.objects.filter(published_at__isnull=False, effective_from__lte=on)
        .order_by("-effective_from", "-id")
        .first()
    )
    if version is None:
        raise ValidationError(_("適用中の同意条項の版がありません。"))
    return version


def set_consent(
    member: Member,
    *,
    purpose: Purpose | str,
    granted: bool,
    actor,
    source: str,
    version: ConsentVersion | None = None,
    reason: str = "",
) -> Consent:
    """Record a member's consent to (or refusal of) one purpose; the history is the proof."""
    require_perm(actor, "members.change_consent")
    if isinstance(purpose, str):
        try:
            purpose = Purpose.objects.get(code=purpose)
        except Purpose.DoesNotExist:
            raise ValidationError({"purpose": _("利用目的が不明です。")}) from None
    version = version or current_consent_version()
    return _write_consent(
        member, purpose=purpose, granted=granted, actor=actor, source=source, version=version, reason=reason
    )


def _write_consent(
    member: Member,
    *,
    purpose: Purpose,
    granted: bool,
    actor,
    source: str,
    version: ConsentVersion,
    reason: str,
) -> Consent:
    """The consent row and its history (callers have checked the actor may act)."""
    with transaction.atomic():
        consent = Consent.objects.select_for_update().filter(member=member, purpose=purpose).first()
        if consent and consent.granted == granted and consent.version_id == version.pk:
            return consent
        consent = consent or Consent(member=member, purpose=purpose)
        consent.granted = granted
        consent.version = version
        consent.source = source
        consent.recorded_at = timezone.now()
        default_reason = (
            record_text("%(purpose)sに同意", purpose=purpose.name)
            if granted
            else record_text("%(purpose)sへの同意を撤回・拒否", purpose=purpose.name)
        )
        return save_tracked(consent, actor=actor, reason=reason or default_reason)


def create_consent_version(
    *, actor, code: str, title: str, body: str, effective_from: date
) -> ConsentVersion:
    require_perm(actor, "members.add_consentversion")
    version = ConsentVersion(
        code=code, title=title, body=body, effective_from=effective_from, prepared_by=actor
    )
    with transaction.atomic():
        return save_tracked(version, actor=actor, reason=record_text("同意条項の版を作成"))


def publish_consent_version(version: ConsentVersion, *, actor) -> ConsentVersion:
    """Art. 9: a version is published by a privacy officer who did not prepare it; then frozen."""
    require_perm(actor, roles.PUBLISH_CONSENT_VERSION)
    with transaction.atomic():
        locked = ConsentVersion.objects.select_for_update().get(pk=version.pk)
        if locked.is_published:
            raise ValidationError(_("この版はすでに公開されています。"))
        if locked.prepared_by_id == actor.pk:
            raise PermissionDenied(_("作成者本人は公開を承認できません（二者確認）。"))
        locked.published_at = timezone.now()
        locked.published_by = actor
        return save_tracked(locked, actor=actor, reason=record_text("同意条項の版を公開"))


def refused_required_purposes(member: Member) -> list[Purpose]:
    """Purposes the member has not consented to whose refusal may decline an application.

    Art. 5: missing consent may decline an application, but never the refusal of Art. 2(1)①②
    (the marketing purposes) — market research (③), credit and bureau are not protected.
    """
    granted = set(Consent.objects.filter(member=member, granted=True).values_list("purpose_id", flat=True))
    return [
        p
        for p in Purpose.objects.exclude(code__in=ART5_PROTECTED_PURPOSES).order_by("id")
        if p.pk not in granted
    ]


def end_consented_uses(member: Member, *, actor, reason: str) -> int:
    """Clause Art. 7: once no transaction of the member runs, marketing and research end at once.

    The granted consents to those uses are withdrawn with ``reason`` in their history (the
    member's answer to ``selectors.may_use`` is already no; the history says when and why).
    Nothing happens while another transaction runs. Returns how many consents were withdrawn.
    """
    from members import selectors

    if selectors.has_running_transaction(member):
        return 0
    withdrawn = 0
    for consent in (
        Consent.objects.select_related("purpose", "version")
        .filter(member=member, granted=True, purpose__code__in=selectors.CONSENTED_USES)
        .order_by("purpose_id")
    ):
        _write_consent(
            member,
            purpose=consent.purpose,
            granted=False,
            actor=actor,
            source=consent.source,
            version=consent.version,
            reason=reason,
        )
        withdrawn += 1
    return withdrawn


def end_consented_uses_due(*, actor, on: date | None = None, chunk: int = 5000) -> int:
    """The nightly side of ``end_consented_uses``: a contract ended on a day set in advance ends
    the member's last transaction without anyone acting that day. Every consent to marketing or
    research still granted where ``selectors.usable_members`` no longer allows that use (clause
    Art. 7; anonymized members aside) is withdrawn, set-based, with its history row. Idempotent."""
    from consentoffice.core.history import copy_to_history
    from members import selectors

    on = on or timezone.localdate()
    reason = record_text("取引の終了・不成立により営業案内・市場調査への利用を終了（同意条項第7条）")
    now = timezone.now()
    withdrawn = 0
    for code in selectors.CONSENTED_USES:
        due = (
            Consent.objects.filter(granted=True, purpose__code=code)
            .exclude(member__status=MemberStatus.ANONYMIZED)
            .exclude(member__in=selectors.usable_members(code, on=on).values("pk"))
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        ids = list(due)
        for start in range(0, len(ids), chunk):
            rows = Consent.objects.filter(pk__in=ids[start : start + chunk])
            with transaction.atomic():
                withdrawn += rows.filter(granted=True).update(granted=False, recorded_at=now)
                copy_to_history(rows, actor=actor, reason=reason)
    return withdrawn
