"""Every write to members data: one function per business act, keyword-only, with an actor.

Each act runs in one transaction, validates with ``full_clean`` and leaves a history row naming
the actor and the reason. Bad input raises ``ValidationError`` with nothing saved; a role that
may not act raises ``PermissionDenied``.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from consentoffice import roles
from consentoffice.audit import save_tracked
from consentoffice.audit_seal import amend_history
from consentoffice.crypto import mask
from consentoffice.dates import period_end
from consentoffice.i18n import record_text
from members.models import (
    CATEGORY_1_FIELDS,
    AccessAction,
    AccessLog,
    Affiliate,
    Consent,
    ConsentVersion,
    ContactRecord,
    Contract,
    Contractor,
    ContractStatus,
    DeclineReason,
    Entrustment,
    FinancialDeclaration,
    HoldReason,
    IdentityDocument,
    LegalHold,
    Member,
    MemberStatus,
    NumberSequence,
    OnlineAuthEvent,
    PartnerSyncEvent,
    PaymentRecord,
    ProvisionBasis,
    ProvisionRecord,
    PublicRecord,
    Purpose,
    SyncStatus,
)

MEMBER_EDITABLE_FIELDS = frozenset(CATEGORY_1_FIELDS) | {"status"}
# APPI rules Art. 21: provision records are kept 3 years (1 year where the contract is the record).
# Clause Art. 5: refusing these purposes (Art. 2(1)①②) is never a ground to decline an application.
ART5_PROTECTED_PURPOSES = ("marketing_own", "marketing_partner")
PROVISION_RECORD_YEARS = {ProvisionBasis.CONSENT: 3, ProvisionBasis.LAW: 3, ProvisionBasis.CONTRACT: 1}


def require_perm(actor, perm: str) -> None:
    if actor is None or not actor.has_perm(perm):
        raise PermissionDenied(_("この操作を行う権限がありません。"))


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("変更理由を入力してください。")})
    return reason


# --- Members -------------------------------------------------------------------------------


MEMBER_NO_SEQUENCE = "member_no"


def next_member_no() -> str:
    """The next member number from the database's sequence (never the largest number in use: one
    odd number typed by hand must not stop registration, and two registrations never race)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval('member_no_seq')")
            value = cursor.fetchone()[0]
    else:
        with transaction.atomic():
            counter = NumberSequence.objects.filter(name=MEMBER_NO_SEQUENCE)
            if not counter.update(last_value=F("last_value") + 1):
                # A flushed test database: start again after the numbers in use (as the migration does).
                NumberSequence.objects.create(name=MEMBER_NO_SEQUENCE, last_value=_member_no_start())
            value = counter.get().last_value
    return f"{value:010d}"


FIRST_MEMBER_NO = 1_000_000_001
BULK_MEMBER_NO_START = "2000000000"  # seed_bulk's benchmark members are numbered from here on


def _member_no_start() -> int:
    last = (
        Member.objects.filter(member_no__regex=r"^[0-9]{10}$", member_no__lt=BULK_MEMBER_NO_START)
        .order_by("-member_no")
        .values_list("member_no", flat=True)
        .first()
    )
    return max(int(last) + 1, FIRST_MEMBER_NO) if last else FIRST_MEMBER_NO


def create_member(*, actor, reason: str = "", **fields: Any) -> Member:
    """Register a member (会員) with category ① data, normalized and validated."""
    require_perm(actor, "members.add_member")
    unknown = set(fields) - MEMBER_EDITABLE_FIELDS - {"member_no"}
    if unknown:
        raise ValidationError(_("登録できない項目です: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    for attempt in range(5):
        member = Member(**fields)
        if not member.member_no:
            member.member_no = next_member_no()
            if Member.objects.filter(member_no=member.member_no).exists():
                continue  # a number typed by hand earlier holds the sequence's next value
        try:
            with transaction.atomic():
                return save_tracked(member, actor=actor, reason=reason or record_text("会員登録"))
        except IntegrityError:
            if "member_no" in fields or attempt == 4:
                raise ValidationError({"member_no": _("この会員番号はすでに使われています。")}) from None
    raise ValidationError({"member_no": _("会員番号を採番できませんでした。もう一度登録してください。")})


def update_member(
    member: Member, *, actor, reason: str, source_affiliate: Affiliate | None = None, **changes: Any
) -> Member:
    """Change category ① data with a reason; affiliates holding a partner card are told (Art. 10).

    ``source_affiliate`` is the affiliate a change came from: it is not told again.
    """
    require_perm(actor, "members.change_member")
    reason = _require_reason(reason)
    unknown = set(changes) - MEMBER_EDITABLE_FIELDS
    if unknown:
        raise ValidationError(_("変更できない項目です: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    with transaction.atomic():
        locked = Member.objects.select_for_update().get(pk=member.pk)
        before = {field: getattr(locked, field) for field in changes}
        for field, value in changes.items():
            setattr(locked, field, value)
        locked.full_clean()
        changed = [field for field in changes if getattr(locked, field) != before[field]]
        if not changed:
            return locked
        save_tracked(locked, actor=actor, reason=reason, clean=False)
        queue_partner_sync(locked, changed, actor=actor, exclude=source_affiliate)
    for field in MEMBER_EDITABLE_FIELDS:
        setattr(member, field, getattr(locked, field))
    return locked


def partner_affiliates(member: Member):
    """Active affiliates through which the member holds a partner card (提携カード)."""
    return Affiliate.objects.filter(
        active=True,
        contracts__member=member,
        contracts__status__in=[ContractStatus.APPLIED, ContractStatus.FORMED],
    ).distinct()


def queue_partner_sync(
    member: Member, changed: list[str], *, actor, exclude: Affiliate | None = None
) -> list[PartnerSyncEvent]:
    """Write outbox rows in the caller's transaction; delivery happens after commit (Art. 10).

    Nothing is written unless ``selectors.may_use`` allows partner provision today: not after a
    stop of provision (APPI Art. 35), once no transaction runs (clause Art. 7), nor for an
    anonymized member.
    """
    from members import selectors

    if not selectors.may_use(member, selectors.PARTNER_PROVISION):
        return []
    shared = [field for field in changed if field in CATEGORY_1_FIELDS]
    if not shared:
        return []
    events = []
    now = timezone.now()
    for affiliate in partner_affiliates(member):
        if exclude is not None and affiliate.pk == exclude.pk:
            continue
        items = [f for f in shared if not affiliate.shared_items or f in affiliate.shared_items]
        if not items:
            continue
        payload = {
            "member_no": member.member_no,
            "changes": {field: _wire_value(getattr(member, field)) for field in items},
        }
        events.append(
            PartnerSyncEvent(
                member=member, affiliate=affiliate, payload=payload, occurred_at=now, next_attempt_at=now
            )
        )
    for event in events:
        save_tracked(event, actor=actor, reason=record_text("会員情報の変更を提携先へ連携"), clean=False)
    if events:
        from members.partner_sync import queue_delivery

        queue_delivery()
    return events


# Stops of use passed on to affiliates (DESIGN, "Partner cards": stops of use/provision are
# passed on), as the wire names them: docs/partner-protocol.md.
PARTNER_STOPS = ("marketing", "usage", "provision")


def queue_partner_stop(member: Member, stop: str, *, actor) -> list[PartnerSyncEvent]:
    """Tell each affiliate holding the member's card that the member stopped ``stop`` (Art. 10,
    APPI Art. 35): outbox rows in the caller's transaction, delivered and retried like changes.

    Unlike a change this is queued after a provision stop too: the affiliate must learn of it."""
    if stop not in PARTNER_STOPS:
        raise ValueError(stop)
    now = timezone.now()
    events = [
        PartnerSyncEvent(
            member=member,
            affiliate=affiliate,
            payload={"member_no": member.member_no, "stops": [stop]},
            occurred_at=now,
            next_attempt_at=now,
        )
        for affiliate in partner_affiliates(member)
    ]
    for event in events:
        save_tracked(event, actor=actor, reason=record_text("利用停止等を提携先へ連携"), clean=False)
    if events:
        from members.partner_sync import queue_delivery

        queue_delivery()
    return events


def _wire_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


# --- Consent (Art. 2, 5, 9) ----------------------------------------------------------------


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


# --- Contracts and applications (Art. 5) -----------------------------------------------------


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
    from consentoffice.audit import copy_to_history
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


# --- Other categories (③–⑩) ------------------------------------------------------------------


def _record(model, *, actor, perm: str, reason: str, **fields: Any):
    require_perm(actor, perm)
    with transaction.atomic():
        return save_tracked(model(**fields), actor=actor, reason=reason)


def add_contact_record(*, actor, member: Member, channel: str, summary: str, **fields: Any) -> ContactRecord:
    return _record(
        ContactRecord,
        actor=actor,
        perm="members.add_contactrecord",
        reason=record_text("応対記録"),
        member=member,
        channel=channel,
        summary=summary,
        recorded_by=actor,
        **fields,
    )


def add_identity_document(
    *, actor, member: Member, kind: str, number: str = "", **fields: Any
) -> IdentityDocument:
    return _record(
        IdentityDocument,
        actor=actor,
        perm="members.add_identitydocument",
        reason=record_text("本人確認書類を確認"),
        member=member,
        kind=kind,
        number=number,
        verified_by=actor,
        **fields,
    )


def add_financial_declaration(
    *, actor, member: Member, annual_income: int, declared_on: date | None = None, **fields: Any
) -> FinancialDeclaration:
    return _record(
        FinancialDeclaration,
        actor=actor,
        perm="members.add_financialdeclaration",
        reason=record_text("資産・収入等の申告"),
        member=member,
        annual_income=annual_income,
        declared_on=declared_on or timezone.localdate(),
        **fields,
    )


def add_public_record(*, actor, member: Member, source: str, summary: str, found_on: date) -> PublicRecord:
    return _record(
        PublicRecord,
        actor=actor,
        perm="members.add_publicrecord",
        reason=record_text("公開情報を記録"),
        member=member,
        source=source,
        summary=summary,
        found_on=found_on,
    )


def add_payment_record(
    *, actor, contract: Contract, month: date, status_code: str, **fields: Any
) -> PaymentRecord:
    return _record(
        PaymentRecord,
        actor=actor,
        perm="members.add_paymentrecord",
        reason=record_text("支払状況を記録"),
        contract=contract,
        month=month.replace(day=1),
        status_code=status_code,
        **fields,
    )


# --- Affiliates ------------------------------------------------------------------------------


def save_affiliate(
    *, actor, affiliate: Affiliate | None = None, reason: str = "", **fields: Any
) -> Affiliate:
    """Create or change a partner-card company (提携先); supervisors only.

    The endpoint is checked (``members.endpoints``). The shared secret is never typed in: a new
    affiliate gets one from the system, left on ``issued_secret`` for the caller to show once.
    """
    require_perm(actor, "members.change_affiliate" if affiliate and affiliate.pk else "members.add_affiliate")
    if "shared_secret" in fields:
        raise ValidationError({"shared_secret": _("共有シークレットはシステムが発行します。")})
    creating = affiliate is None or affiliate.pk is None
    affiliate = affiliate or Affiliate()
    for field, value in fields.items():
        setattr(affiliate, field, value)
    secret = new_shared_secret() if creating else None
    if secret:
        affiliate.shared_secret = secret
    with transaction.atomic():
        saved = save_tracked(affiliate, actor=actor, reason=reason or record_text("提携先の登録・変更"))
    saved.issued_secret = secret
    return saved


SHARED_SECRET_BYTES = 32


def new_shared_secret() -> str:
    """32 random bytes (256 bits), URL-safe: what signs the partner protocol both ways."""
    return secrets.token_urlsafe(SHARED_SECRET_BYTES)


def rotate_affiliate_secret(affiliate: Affiliate, *, actor, reason: str) -> str:
    """Issue a new shared secret (the old one stops working at once); returns it to be shown once."""
    require_perm(actor, "members.change_affiliate")
    reason = _require_reason(reason)
    secret = new_shared_secret()
    with transaction.atomic():
        locked = Affiliate.objects.select_for_update().get(pk=affiliate.pk)
        locked.shared_secret = secret
        save_tracked(locked, actor=actor, reason=reason, clean=False)
    affiliate.shared_secret = secret
    return secret


# --- Third-party provision records (APPI Art. 29) ------------------------------------------


def record_provision(
    *,
    member: Member,
    recipient_kind: str,
    recipient: str,
    items: list[str],
    basis: str,
    provided_on: date | None = None,
    reference: str = "",
    actor=None,
) -> ProvisionRecord:
    provided_on = provided_on or timezone.localdate()
    years = PROVISION_RECORD_YEARS[ProvisionBasis(basis)]
    record = ProvisionRecord(
        member=member,
        recipient_kind=recipient_kind,
        recipient=recipient,
        items=items,
        basis=basis,
        provided_on=provided_on,
        kept_until=period_end(provided_on, years=years),
        reference=reference,
        consent_recorded=basis == ProvisionBasis.CONSENT,
    )
    return save_tracked(record, actor=actor, reason=record_text("第三者提供を記録"))


# --- Access log and sensitive values --------------------------------------------------------


def record_access(
    *, user, action: str, member: Member | None = None, request=None, detail: str = ""
) -> AccessLog:
    """Append an access-log row. ``detail`` must never hold personal data (no search terms)."""
    ip, path = _origin(request)
    return AccessLog.objects.create(
        member=member, user=user, action=AccessAction(action), ip_address=ip, path=path, detail=detail[:300]
    )


def record_search(*, user, term, hits: int, via: str, more: bool = False, request=None) -> AccessLog:
    """A member search in the access log: the kind of term typed and the hits (``+`` when there
    were more than shown) and where it was typed, never the term itself."""
    return record_access(
        user=user,
        action=AccessAction.SEARCH,
        request=request,
        detail=f"kind={term.kind} hits={hits}{'+' if more else ''} via={via}",
    )


def sensitive_value(value: Any, *, viewer, member: Member, field_label: str, request=None) -> str:
    """A sensitive value as the viewer may see it: masked for operators, clear (and logged) above."""
    if value in (None, ""):
        return ""
    if viewer is not None and viewer.has_perm(roles.VIEW_SENSITIVE):
        record_access(
            user=viewer,
            action=AccessAction.VIEW_SENSITIVE,
            member=member,
            request=request,
            detail=str(field_label),
        )
        return f"{value:,}" if isinstance(value, int) else str(value)
    return mask(value)


# --- Erasure and stop of provision (APPI Art. 35) -------------------------------------------

ERASED_TEXT = "（削除済み）"
# target -> (model, the field that marks a record as erased, the values that replace what was
# held). History rows of the same records are scrubbed too, so erased data does not live on in the
# audit trail; the erasure itself stays on record as a change with its reason.
ERASABLE: dict[str, tuple[type, str, dict[str, Any]]] = {
    "contact_records": (ContactRecord, "summary", {"summary": ERASED_TEXT, "recording_ref": ""}),
    "public_records": (PublicRecord, "summary", {"summary": ERASED_TEXT}),
    "online_auth_events": (
        OnlineAuthEvent,
        "device",
        {"device": ERASED_TEXT, "ip_address": None, "merchant": ""},
    ),
    "financial_declarations": (
        FinancialDeclaration,
        "note",
        {"note": ERASED_TEXT, "annual_income": 0, "assets": 0, "debts": 0},
    ),
    "identity_documents": (IdentityDocument, "note", {"note": ERASED_TEXT, "number": ""}),
}


def erasable_records(member_ids, target: str):
    """Records of ``target`` for these members that still hold data (not erased yet)."""
    model, marker, _replacement = ERASABLE[target]
    return model.objects.filter(member_id__in=member_ids).exclude(**{marker: ERASED_TEXT})


def erase_member_data(member: Member, *, actor, target: str, reason: str) -> int:
    """Erase one kind of held data of a member; returns how many records were erased.

    Idempotent: records already erased are left alone, so a second run changes nothing.
    """
    require_perm(actor, "members.change_member")
    model, _marker, replacement = ERASABLE[target]
    count = 0
    with transaction.atomic():
        for obj in erasable_records([member.pk], target).select_for_update():
            for field, value in replacement.items():
                setattr(obj, field, value)
            save_tracked(obj, actor=actor, reason=reason, clean=False)
            count += 1
        if count:
            amend_history(
                model.history.model.objects.filter(member_id=member.pk),
                actor=actor,
                reason=reason,
                **replacement,
            )
    return count


ANONYMIZED_VALUES: dict[str, Any] = {
    "family_name": "匿名化済み",
    "given_name": "",
    "family_name_kana": "トクメイ",
    "given_name_kana": "",
    "postal_code": "0000000",
    "city": "",
    "address_line": "",
    "phone": "0000000000",
    "email": "",
    "occupation": "",
    "employer_name": "",
    "household": "",
    "housing": "",
    "transaction_purpose": "",
}


def anonymize_member(member: Member, *, actor, reason: str) -> Member:
    """Replace category ① data once the retention period has passed (clause Art. 7).

    The birth date keeps only its year (statistics); the member's history rows are scrubbed too,
    and so is every trace of the member elsewhere (``erase_member_traces``).
    """
    require_perm(actor, "members.change_member")
    with transaction.atomic():
        locked = Member.objects.select_for_update().get(pk=member.pk)
        if locked.status == MemberStatus.ANONYMIZED:
            return locked
        erase_member_traces(locked, actor=actor, reason=_require_reason(reason))
        values = {**ANONYMIZED_VALUES, "birth_date": locked.birth_date.replace(month=1, day=1)}
        for field, value in values.items():
            setattr(locked, field, value)
        locked.status = MemberStatus.ANONYMIZED
        save_tracked(locked, actor=actor, reason=_require_reason(reason), clean=False)
        amend_history(Member.history.model.objects.filter(id=locked.pk), actor=actor, reason=reason, **values)
    return locked


def stop_provision(member: Member, *, actor, reason: str) -> Member:
    """Stop provision to third parties (partner sync); events not yet sent are not sent."""
    require_perm(actor, "members.change_member")
    with transaction.atomic():
        locked = Member.objects.select_for_update().get(pk=member.pk)
        locked.provision_stopped = True
        save_tracked(locked, actor=actor, reason=_require_reason(reason), clean=False)
        # Stop notices already queued still go: the affiliate must learn of every stop.
        for event in (
            PartnerSyncEvent.objects.select_for_update()
            .filter(member=locked, status=SyncStatus.PENDING)
            .exclude(payload__has_key="stops")
        ):
            event.status = SyncStatus.DEAD
            event.last_error = "provision stopped"
            save_tracked(event, actor=actor, reason=reason, clean=False)
    member.provision_stopped = True
    return locked


# --- Contractors and entrustment (Art. 1(2)) -------------------------------------------------


def save_contractor(
    *, actor, contractor: Contractor | None = None, reason: str = "", **fields: Any
) -> Contractor:
    """Register or change a contractor (委託先) that receives members' data for entrusted work."""
    require_perm(
        actor, "members.change_contractor" if contractor and contractor.pk else "members.add_contractor"
    )
    contractor = contractor or Contractor()
    for field, value in fields.items():
        setattr(contractor, field, value)
    with transaction.atomic():
        return save_tracked(contractor, actor=actor, reason=reason or record_text("委託先の登録・変更"))


def entrust(
    *,
    actor,
    contractor: Contractor,
    member: Member,
    purpose: str,
    items: list[str],
    provided_on: date | None = None,
    reason: str = "",
) -> Entrustment:
    """Record that a member's data went to a contractor (Art. 1(2)); disclosed on request.

    Entrustment needs no provision record (APPI Art. 27(5)(i)), but the company answers for
    its contractors, so who received which items and when is kept here.
    """
    require_perm(actor, "members.add_entrustment")
    if not contractor.active:
        raise ValidationError({"contractor": _("無効な委託先には委託できません。")})
    if not items:
        raise ValidationError({"items": _("提供する項目を選んでください。")})
    entrustment = Entrustment(
        contractor=contractor,
        member=member,
        purpose=purpose,
        items=list(items),
        provided_on=provided_on or timezone.localdate(),
    )
    with transaction.atomic():
        return save_tracked(entrustment, actor=actor, reason=reason or record_text("委託先へ提供"))


# --- Access log from the back-office (admin) ------------------------------------------------


def _origin(request) -> tuple[str | None, str]:
    """Client address and the path without its query string: admin URLs carry search terms
    (``?q=``, ``_changelist_filters``), which must never reach the access log."""
    if request is None:
        return None, ""
    return request.META.get("REMOTE_ADDR") or None, request.path[:300]


def record_access_bulk(*, user, action: str, members, request=None, detail: str = "") -> list[AccessLog]:
    """One access-log row per member in a single INSERT (an export of many members)."""
    ip, path = _origin(request)
    rows = [
        AccessLog(
            member=member,
            user=user,
            action=AccessAction(action),
            ip_address=ip,
            path=path,
            detail=detail[:300],
        )
        for member in members
    ]
    return AccessLog.objects.bulk_create(rows)


def record_access_set(
    *,
    user,
    action: str,
    member_ids,
    request=None,
    detail: str = "",
    at: datetime | None = None,
    distinct: bool = True,
) -> int:
    """One access-log row per member of ``member_ids`` (a queryset of member ids, e.g.
    ``qs.values("member_id")``), written by the database in one INSERT … SELECT: a download or an
    extract of a million members is logged per member without a row passing through Python.
    ``distinct=False`` where the ids are known to be unique (members' own ids)."""
    ip, path = _origin(request)
    db = connections[member_ids.db]
    quote = db.ops.quote_name
    source, params = member_ids.query.sql_with_params()
    columns = ", ".join(
        quote(c) for c in ("member_id", "user_id", "action", "at", "ip_address", "path", "detail")
    )
    with db.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(AccessLog._meta.db_table)} ({columns}) "
            f"SELECT {'DISTINCT ' if distinct else ''}source.{quote(_only_column(member_ids))}, "
            "%s, %s, %s, %s, %s, %s "
            f"FROM ({source}) AS source",
            [
                user.pk,
                AccessAction(action).value,
                db.ops.adapt_datetimefield_value(at or timezone.now()),
                db.ops.adapt_ipaddressfield_value(ip),
                path,
                detail[:300],
                *params,
            ],
        )
        return cursor.rowcount


def _only_column(values_qs) -> str:
    (column,) = [col.target.column for col in values_qs.query.select]
    return column


def record_provisions_bulk(rows, *, actor=None, reason: str = "", batch_size: int = 2000) -> int:
    """Many provision records at once (a bureau batch file): ``rows`` is an iterable of the keyword
    arguments of ``ProvisionRecord`` (``member`` or ``member_id``, recipient_kind, recipient, items,
    basis, provided_on, reference). Inserted in chunks with their history rows, so memory stays
    bounded however many rows the iterable yields. Returns how many were created."""
    from simple_history.utils import bulk_create_with_history

    reason = reason or record_text("第三者提供を記録")
    count = 0
    chunk: list[ProvisionRecord] = []

    def flush() -> None:
        if chunk:
            bulk_create_with_history(
                chunk,
                ProvisionRecord,
                batch_size=batch_size,
                default_user=actor,
                default_change_reason=reason,
            )
            chunk.clear()

    for row in rows:
        provided_on = row.get("provided_on") or timezone.localdate()
        basis = ProvisionBasis(row["basis"])
        chunk.append(
            ProvisionRecord(
                **{**row, "provided_on": provided_on},
                kept_until=period_end(provided_on, years=PROVISION_RECORD_YEARS[basis]),
                consent_recorded=basis == ProvisionBasis.CONSENT,
            )
        )
        count += 1
        if len(chunk) >= batch_size:
            flush()
    flush()
    return count


# --- Complete erasure (APPI Art. 35, clause Art. 7) ----------------------------------------

# What an erased outbox event carries instead of the changes it held.
ERASED_PAYLOAD: dict[str, Any] = {"erased": True}


def erase_member_traces(member: Member, *, actor, reason: str) -> int:
    """Erase what is held on the member outside the category tables (APPI Art. 35, clause Art. 7):
    partner-sync payloads, the settlement account, what other apps hold (``keeping.ERASERS``:
    correction values, ticket texts, disclosure files, bureau snapshots), the admin log's object
    names and notifications naming the member. History rows go through ``amend_history`` so the
    audit seal still verifies. Idempotent; returns how many rows or files changed.

    Runs before the attributes are anonymized: the member's name is what it looks for.
    """
    from members import keeping

    count = 0
    with transaction.atomic():
        for event in (
            PartnerSyncEvent.objects.select_for_update().filter(member=member).exclude(payload=ERASED_PAYLOAD)
        ):
            event.payload = ERASED_PAYLOAD
            if event.status == SyncStatus.PENDING:
                event.status = SyncStatus.DEAD
                event.last_error = "erased"
            save_tracked(event, actor=actor, reason=reason, clean=False)
            count += 1
        amend_history(
            PartnerSyncEvent.history.model.objects.filter(member_id=member.pk).exclude(
                payload=ERASED_PAYLOAD
            ),
            actor=actor,
            reason=reason,
            payload=ERASED_PAYLOAD,
        )
        for contract in (
            Contract.objects.select_for_update().filter(member=member).exclude(settlement_account="")
        ):
            contract.settlement_account = ""
            save_tracked(contract, actor=actor, reason=reason, clean=False)
            count += 1
        contract_history = Contract.history.model.objects.filter(member_id=member.pk)
        amend_history(
            contract_history.filter(pk__in=[row.pk for row in contract_history if row.settlement_account]),
            actor=actor,
            reason=reason,
            settlement_account="",
        )
        for eraser in keeping.ERASERS.values():
            count += eraser(member, actor=actor, reason=reason)
        count += _erase_admin_log_names(member)
        count += _erase_notifications(member)
    return count


def _member_objects(member: Member) -> list[tuple[type, list[int]]]:
    """(model, ids) of every tracked model's rows that belong to the member."""
    from consentoffice.audit_selectors import tracked_models

    found = []
    for tracked in tracked_models():
        if tracked.member_path is None:
            continue
        ids = list(
            tracked.model.objects.filter(**{tracked.member_path: member.pk}).values_list("pk", flat=True)
        )
        if ids:
            found.append((tracked.model, ids))
    return found


def _erase_admin_log_names(member: Member) -> int:
    """Django admin's LogEntry keeps ``str(obj)`` (a member's name) as ``object_repr``."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    count = 0
    for model, ids in _member_objects(member):
        count += (
            LogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(model), object_id__in=[str(i) for i in ids]
            )
            .exclude(object_repr=ERASED_TEXT)
            .update(object_repr=ERASED_TEXT)
        )
    return count


def _erase_notifications(member: Member) -> int:
    """Notifications hold numbers and links only; one that names the member anyway (its number,
    its name, or a record of the member as subject) loses its title."""
    from consentoffice.models import Notification
    from consentoffice.services import subject_of

    names = Q(title__contains=member.member_no)
    for name in {member.full_name.strip(), member.family_name.strip()} - {""}:
        if len(name) >= 2:
            names |= Q(title__contains=name)
    subjects = [subject_of(member)]
    for model, ids in _member_objects(member):
        subjects += [f"{model._meta.label_lower}:{pk}" for pk in ids]
    return (
        Notification.objects.filter(names | Q(subject__in=subjects))
        .exclude(title=ERASED_TEXT)
        .update(title=ERASED_TEXT)
    )


# --- Legal holds (clause Art. 7) --------------------------------------------------------------


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
