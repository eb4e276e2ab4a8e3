"""The rules of the information center as tables, read by the services, the admin and the tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from members import keeping


class Kind(models.TextChoices):
    DISCLOSURE = "disclosure", _("開示請求")
    CORRECTION = "correction", _("訂正請求")
    DELETION = "deletion", _("削除請求")
    USAGE_STOP = "usage_stop", _("利用停止請求")
    PROVISION_STOP = "provision_stop", _("第三者提供停止請求")
    MARKETING_STOP = "marketing_stop", _("営業目的利用の中止")
    INQUIRY = "inquiry", _("問い合わせ")
    OPINION = "opinion", _("ご意見")


KIND_CHOICES = Kind.choices

# The records a ticket holds besides itself, each for one kind of request only: correction items
# (訂正項目) on a correction request, deletion items on a deletion request, disclosure packages on a
# disclosure request. The services refuse the others and a ticket's kind never changes, so the
# ticket page and its timeline do not look for them on any other kind.
HELD_BY_KIND = {
    "correction_items": Kind.CORRECTION,
    "deletion_items": Kind.DELETION,
    "packages": Kind.DISCLOSURE,
}


def may_hold(kind: str, records: str) -> bool:
    """Whether a ticket of ``kind`` may hold ``records`` (a key of ``HELD_BY_KIND``)."""
    return HELD_BY_KIND[records] == kind


# Requests with a legal deadline and four-eyes approval (APPI Art. 33–35, 39; clause Art. 2(2), 4).
REQUEST_KINDS = frozenset(
    {
        Kind.DISCLOSURE,
        Kind.CORRECTION,
        Kind.DELETION,
        Kind.USAGE_STOP,
        Kind.PROVISION_STOP,
        Kind.MARKETING_STOP,
    }
)
# Inquiries and opinions (clause Art. 6) close without approval.
CONVERSATION_KINDS = frozenset({Kind.INQUIRY, Kind.OPINION})


class Status(models.TextChoices):
    RECEIVED = "received", _("受付")
    VERIFYING = "verifying", _("本人確認中")
    IN_PROGRESS = "in_progress", _("対応中")
    PENDING_APPROVAL = "pending_approval", _("承認待ち")
    CLOSED = "closed", _("完了")


STATUS_CHOICES = Status.choices
OPEN_STATUSES = frozenset({Status.RECEIVED, Status.VERIFYING, Status.IN_PROGRESS, Status.PENDING_APPROVAL})

# Allowed transitions: action -> (statuses it may start from, status it leads to).
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "start_verification": (frozenset({Status.RECEIVED}), Status.VERIFYING),
    "verify_identity": (frozenset({Status.RECEIVED, Status.VERIFYING}), Status.IN_PROGRESS),
    "submit_for_approval": (frozenset({Status.IN_PROGRESS}), Status.PENDING_APPROVAL),
    # A requester may withdraw at any time, also before their identity is verified.
    "submit_withdrawal": (
        frozenset({Status.RECEIVED, Status.VERIFYING, Status.IN_PROGRESS}),
        Status.PENDING_APPROVAL,
    ),
    "send_back": (frozenset({Status.PENDING_APPROVAL}), Status.IN_PROGRESS),
    "approve": (frozenset({Status.PENDING_APPROVAL}), Status.CLOSED),
    "close_ticket": (frozenset({Status.RECEIVED, Status.VERIFYING, Status.IN_PROGRESS}), Status.CLOSED),
    "hold": (frozenset({Status.RECEIVED, Status.VERIFYING, Status.IN_PROGRESS}), None),
    "resume": (frozenset({Status.RECEIVED, Status.VERIFYING, Status.IN_PROGRESS}), None),
    "assign": (OPEN_STATUSES, None),
    "record_fee_payment": (OPEN_STATUSES, None),
    "edit_items": (frozenset({Status.RECEIVED, Status.VERIFYING, Status.IN_PROGRESS}), None),
}

# DESIGN, four eyes: nobody who prepared an outcome (submitted it, decided one of its items) approves it.
FOUR_EYES_REFUSAL = _("起案・判断に関わった人は承認できません（二者確認）。別の責任者が承認してください。")

ACTION_LABELS = {
    "start_verification": _("本人確認を開始"),
    "verify_identity": _("本人確認済みにする"),
    "submit_for_approval": _("承認を依頼"),
    "submit_withdrawal": _("取下げの承認を依頼"),
    "send_back": _("差し戻す"),
    "approve": _("承認する"),
    "close_ticket": _("完了にする"),
    "hold": _("保留にする"),
    "resume": _("保留を解除"),
}


# --- the way through a ticket, shown on its page ------------------------------------------

REQUEST_PATH = (Status.RECEIVED, Status.VERIFYING, Status.IN_PROGRESS, Status.PENDING_APPROVAL, Status.CLOSED)
CONVERSATION_PATH = (Status.RECEIVED, Status.IN_PROGRESS, Status.CLOSED)

# What to do in each stage (the buttons below the guide do it). In progress depends on the kind.
STAGE_HINTS = {
    Status.RECEIVED: _(
        "本人確認から始めます。「本人確認を開始」を押すか、書類を確認できていれば「本人確認済みにする」を押します。"
    ),
    Status.VERIFYING: _("本人確認書類を確認し、「本人確認済みにする」を押します。"),
    Status.PENDING_APPROVAL: _(
        "起案した人以外の責任者が内容を確認して承認します。直すところがあれば差し戻します。"
    ),
}
IN_PROGRESS_HINTS = {
    Kind.CORRECTION: _(
        "訂正する項目を追加し、項目ごとに訂正するかどうかを判断してから「承認を依頼」を押します。"
    ),
    Kind.DELETION: _(
        "削除する項目を追加し、項目ごとに削除できるかどうかを判断してから「承認を依頼」を押します。"
    ),
    Kind.DISCLOSURE: _(
        "手数料の入金を記録し、開示パッケージを作成して内容を確かめてから「承認を依頼」を押します。"
    ),
}
IN_PROGRESS_HINT = _("対応の内容を決めて「承認を依頼」を押します。")
CONVERSATION_HINT = _("お問い合わせ・ご意見に対応したら「完了にする」を押します。")


def stage_guide(kind: str, status: str) -> tuple[list[tuple[str, Any, str]], Any]:
    """The stages of a ticket of ``kind`` as (status, label, ``done``/``current``/``todo``) and
    what to do now (``None`` when closed): the order the page's separate step forms follow."""
    conversation = kind in CONVERSATION_KINDS
    path = list(CONVERSATION_PATH if conversation else REQUEST_PATH)
    if status not in path:  # an inquiry whose caller's identity was checked, say
        path.insert(1, status)
    labels = dict(STATUS_CHOICES)
    current = path.index(status)
    stages = [
        (step, labels[step], "done" if i < current else "current" if i == current else "todo")
        for i, step in enumerate(path)
    ]
    if status == Status.CLOSED:
        hint = None
    elif conversation:
        hint = CONVERSATION_HINT
    elif status == Status.IN_PROGRESS:
        hint = IN_PROGRESS_HINTS.get(kind, IN_PROGRESS_HINT)
    else:
        hint = STAGE_HINTS[status]
    return stages, hint


class Outcome(models.TextChoices):
    FULFILLED = "fulfilled", _("対応済み（全部）")
    PARTLY = "partly", _("一部対応")
    REFUSED = "refused", _("不対応（拒否）")
    WITHDRAWN = "withdrawn", _("取下げ")


OUTCOME_CHOICES = Outcome.choices

_STOP_IS_WHOLE = _("この請求に一部対応はありません。対応するか、理由を示して不対応としてください。")
_MARKETING_STOP_IS_NOT_REFUSED = _(
    "営業目的利用の中止は断ることができません（同意条項第2条第2項）。全部を中止するか、"
    "本人が取り下げた場合は取下げとしてください。"
)
# Outcomes a kind of request cannot end with, and why; read by the service, the ticket page and
# the demo. A stop is done or not: it has no partial answer. A marketing stop cannot be refused
# either: clause Art. 2(2) stops the marketing use on the member's word and gives no ground to
# refuse (the grounds of APPI Art. 33(2) are for disclosure); it is fulfilled or withdrawn.
OUTCOMES_NOT_FOR_KIND: dict[str, dict[str, Any]] = {
    Kind.USAGE_STOP: {Outcome.PARTLY: _STOP_IS_WHOLE},
    Kind.PROVISION_STOP: {Outcome.PARTLY: _STOP_IS_WHOLE},
    Kind.MARKETING_STOP: {
        Outcome.PARTLY: _MARKETING_STOP_IS_NOT_REFUSED,
        Outcome.REFUSED: _MARKETING_STOP_IS_NOT_REFUSED,
    },
}


def outcome_choices(kind: str) -> list[tuple[str, Any]]:
    """The outcomes offered for a kind of request, in the order of ``OUTCOME_CHOICES``."""
    excluded = OUTCOMES_NOT_FOR_KIND.get(kind, {})
    return [(code, label) for code, label in OUTCOME_CHOICES if code not in excluded]


def outcome_not_for_kind(kind: str, outcome: str) -> Any | None:
    """Why ``outcome`` cannot end a request of ``kind`` (a Japanese message), or ``None``."""
    return OUTCOMES_NOT_FOR_KIND.get(kind, {}).get(outcome)


@dataclass(frozen=True)
class StopEffect:
    """What an approved stop does: the purposes whose consent is withdrawn (``Purpose.code``),
    whether provision to third parties stops, and the stop passed on to the affiliates."""

    purposes: tuple[str, ...]
    stops_provision: bool
    partner_stop: str


# The one home of what each stop stops: the approval applies it (``requests.services``) and the
# ticket page and the approver see it before (``requests.selectors.stop_preview``). A marketing
# stop (clause Art. 2(2)) ends the marketing uses; a stop of use (APPI Art. 35) every use beyond
# the credit purpose the contract needs; a provision stop, provision to third parties.
STOP_EFFECTS: dict[str, StopEffect] = {
    Kind.MARKETING_STOP: StopEffect(("marketing_own", "marketing_partner"), False, "marketing"),
    Kind.USAGE_STOP: StopEffect(("marketing_own", "marketing_partner", "research"), False, "usage"),
    Kind.PROVISION_STOP: StopEffect((), True, "provision"),
}


# APPI Art. 33(2) i–iii: the only grounds to refuse disclosure (and, by reference, the others).
REFUSAL_GROUNDS = {
    "harm": _(
        "本人又は第三者の生命、身体、財産その他の権利利益を害するおそれがある（個人情報保護法第33条第2項第1号）"
    ),
    "business": _("当社の業務の適正な実施に著しい支障を及ぼすおそれがある（個人情報保護法第33条第2項第2号）"),
    "law": _("他の法令に違反することとなる（個人情報保護法第33条第2項第3号）"),
}
# Grounds for keeping an item asked to be deleted (APPI Art. 35: act "to the extent necessary"):
# the keeping table's legal grounds (members.keeping.GROUNDS), read by the nightly erasure too.
RETENTION_GROUNDS = {code: ground.label for code, ground in keeping.GROUNDS.items()}


class Channel(models.TextChoices):
    PHONE = "phone", _("電話")
    MAIL = "mail", _("郵送")
    COUNTER = "counter", _("窓口")
    WEB = "web", _("Web")


CHANNEL_CHOICES = Channel.choices


class RequesterType(models.TextChoices):
    SELF = "self", _("本人")
    LEGAL_REPRESENTATIVE = "legal_representative", _("法定代理人")
    DELEGATE = "delegate", _("任意代理人")


REQUESTER_CHOICES = RequesterType.choices
# APPI Art. 37 / enforcement order Art. 11: what an agent must show.
AGENT_DOCUMENTS = {
    "legal_representative": _("戸籍謄本又は登記事項証明書（発行から6か月以内）"),
    "delegate": _("委任状（本人の実印押印と印鑑登録証明書）"),
}
AGENT_DOCUMENT_MAX_AGE_DAYS = 183


class IdentityMethod(models.TextChoices):
    DRIVER_LICENSE = "driver_license", _("運転免許証")
    PASSPORT = "passport", _("パスポート")
    MY_NUMBER_CARD = "my_number_card", _("個人番号カード（番号は記録しない）")
    INSURANCE_CARD = "insurance_card", _("健康保険証")
    RESIDENCE_CARD = "residence_card", _("在留カード")
    OTHER = "other", _("その他")


IDENTITY_METHOD_CHOICES = IdentityMethod.choices
# One photo ID suffices; documents without a photo need two (APPI Art. 37 practice).
PHOTO_ID_METHODS = frozenset({"driver_license", "passport", "my_number_card", "residence_card"})


class ResponseMethod(models.TextChoices):
    PAPER = "paper", _("書面（郵送）")
    ELECTRONIC = "electronic", _("電磁的記録")


RESPONSE_METHOD_CHOICES = ResponseMethod.choices

# Kinds whose response carries a fee (APPI Art. 38: only disclosure and notice of purposes).
FEE_KINDS = frozenset({Kind.DISCLOSURE})


def due_at(received_at: datetime) -> datetime:
    """APPI Art. 39: the person may sue two weeks after the request reached the company.

    Due at the end of the 14th calendar day after arrival (Tokyo time), whatever the weekday.
    """
    tz = ZoneInfo(settings.TIME_ZONE)
    local_day = received_at.astimezone(tz).date()
    return datetime.combine(
        local_day + timedelta(days=settings.REQUEST_DUE_DAYS), time(23, 59, 59), tzinfo=tz
    )


def due_state(due: datetime | None, now: datetime) -> str:
    """``overdue``, ``due_soon`` (≤ 3 days) or ``ok``: what every ticket list shows."""
    if due is None:
        return "ok"
    if now > due:
        return "overdue"
    if due - now <= timedelta(days=settings.REQUEST_DUE_SOON_DAYS):
        return "due_soon"
    return "ok"


def document_within_six_months(issued_on: date, today: date) -> bool:
    return (today - issued_on).days <= AGENT_DOCUMENT_MAX_AGE_DAYS


# A move is corrected as one group (the ticket page's address form); the other category ① fields
# one at a time.
ADDRESS_FIELDS = ("postal_code", "prefecture", "city", "address_line")


# What a deletion request may name (APPI Art. 35), and the retention duty that can keep it:
# target -> (label, retention ground checked by requests.selectors.retention_ground or None).
# Built from the keeping table (members.keeping.KEEPING), plus the marketing use (not a category).
DELETION_TARGETS: dict[str, tuple[str, str | None]] = {
    **{t: (k.label, k.ground or None) for t, k in keeping.KEEPING.items() if k.requestable},
    "marketing": (_("営業案内・市場調査のための利用"), None),
}
# Years a retention duty lasts after the relationship ended (from the keeping table).
RETENTION_YEARS_AFTER_END = {
    k.ground: k.years for k in keeping.KEEPING.values() if k.ground and k.years is not None
}
