"""Input normalization for Art. 1(1)① data, with the Japanese error an operator sees.

- Kana (フリガナ) is stored as full-width katakana whatever was typed (hiragana, half-width).
- Digits and ASCII are NFKC-normalized; NFKC keeps variant kanji such as 髙 and 﨑.
- ``jaconv`` is used for kana only: its ``normalize`` turns hyphens into ー, so never on numbers.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import jaconv
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

_SPACES = re.compile(r"\s+")
# Full-width katakana block (ァ–ヺ, incl. ヷヸヹヺ that half-width ﾜﾞ etc. become), the prolonged
# sound mark, the middle dot, the iteration marks and a single space.
_KATAKANA = re.compile(r"^[\u30a1-\u30fa\u30fc\u30fb\u30fd\u30fe ]+$")
# Dashes typed in a kana field mean the prolonged sound mark (ｰ is handled by NFKC).
_KANA_DASHES = str.maketrans({c: "ー" for c in "-‐‑‒–—―−－~～〜"})
_PHONE_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−ー()（）.]")


def nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "")


def text(value: str | None) -> str:
    """Free text and names: NFKC (full-width ASCII to ASCII) and spaces folded."""
    return _SPACES.sub(" ", nfkc(value or "")).strip()


def kana(value: str | None) -> str:
    """Any kana reading as full-width katakana; idempotent."""
    folded = text(value).translate(_KANA_DASHES)
    # Composed again after the conversion: わ+゛ has no hiragana form but ワ+゛ is ヷ, so without
    # this a second pass would change the value.
    return nfkc(jaconv.hira2kata(folded))


def validate_kana(value: str) -> str:
    normalized = kana(value)
    if not normalized or not _KATAKANA.match(normalized):
        raise ValidationError(_("フリガナはカタカナまたはひらがなで入力してください。"), code="kana")
    return normalized


def digits(value: str | None) -> str:
    """NFKC then separators removed (never jaconv: it would turn hyphens into ー)."""
    return _PHONE_SEPARATORS.sub("", nfkc(value or ""))


MEMBER_NO_LENGTH = 10
_MEMBER_NO = re.compile(rf"[0-9]{{{MEMBER_NO_LENGTH}}}")


def member_no(value: str | None) -> str:
    """A member number: ten ASCII digits once NFKC has made full-width digits ASCII."""
    number = nfkc(value or "").strip()
    if not _MEMBER_NO.fullmatch(number):
        raise ValidationError(
            _("会員番号は半角数字%(length)d桁で入力してください。") % {"length": MEMBER_NO_LENGTH},
            code="member_no_format",
        )
    return number


def member_no_key(value: str | None) -> str:
    """A member number as typed into a search box, filter or URL, in the form it is stored in:
    full-width digits, hyphens and spaces as people type them (１０００-０００-００１) give the ten
    ASCII digits; anything else is left as typed (stripped), so a number given before numbers had
    one format (``12 34``, ``1/2``) is still found. Every path that looks a member up by number
    asks this (``tests/members/test_member_no_lookup.py`` lists them)."""
    typed = (value or "").strip()
    folded = digits(typed)
    return folded if _MEMBER_NO.fullmatch(folded) else typed


def postal_code(value: str | None) -> str:
    normalized = digits(value).removeprefix("〒")
    if not re.fullmatch(r"[0-9]{7}", normalized):
        raise ValidationError(
            _("郵便番号は7桁の数字で入力してください（例: 165-8555）。"), code="postal_code"
        )
    return normalized


def format_postal_code(value: str) -> str:
    return f"{value[:3]}-{value[3:]}" if value and len(value) == 7 else value or ""


def phone(value: str | None) -> str:
    """A Japanese phone number as digits only: 10 digits (fixed, 0120, 0570) or 11 (mobile, 050)."""
    normalized = digits(value)
    if normalized.startswith("+81"):
        normalized = "0" + normalized[3:]
    elif normalized.startswith("81") and len(normalized) in (11, 12):
        normalized = "0" + normalized[2:]
    # [0-9], not \d: \d also matches other scripts' digits, which NFKC leaves alone.
    if not re.fullmatch(r"0[0-9]{9,10}", normalized):
        raise ValidationError(
            _("電話番号は0から始まる10桁または11桁の数字で入力してください。"), code="phone"
        )
    if (
        len(normalized) == 11
        and normalized[:3] not in ("050", "060", "070", "080", "090", "020")
        and not (normalized.startswith("0800"))
    ):
        raise ValidationError(
            _("11桁の電話番号は携帯・IP電話の番号（050/070/080/090）のみです。"), code="phone"
        )
    if len(normalized) == 10 and normalized[:3] in ("070", "080", "090"):
        raise ValidationError(_("携帯電話番号は11桁で入力してください。"), code="phone")
    return normalized


# Area codes whose local part is split 4-4 (two-digit area codes) or 3-4 (three-digit ones);
# any other fixed number is shown as 4-2-4, the most common split outside the big cities.
_TWO_DIGIT_AREAS = ("03", "06")
_THREE_DIGIT_AREAS = (
    "011",
    "015",
    "017",
    "018",
    "019",
    "022",
    "023",
    "024",
    "025",
    "026",
    "027",
    "028",
    "029",
    "042",
    "043",
    "044",
    "045",
    "046",
    "047",
    "048",
    "049",
    "052",
    "053",
    "054",
    "055",
    "058",
    "059",
    "072",
    "073",
    "075",
    "076",
    "077",
    "078",
    "079",
    "082",
    "083",
    "084",
    "086",
    "087",
    "088",
    "089",
    "092",
    "093",
    "095",
    "096",
    "097",
    "098",
    "099",
)


def format_phone(value: str | None) -> str:
    """Digits as a person writes them: 03-5996-1111, 090-1234-5678, 0120-810-414."""
    v = value or ""
    if not v.isdigit():
        return v
    if len(v) == 11:
        if v.startswith("0800"):
            return f"{v[:4]}-{v[4:7]}-{v[7:]}"
        return f"{v[:3]}-{v[3:7]}-{v[7:]}"
    if len(v) != 10:
        return v
    if v[:4] in ("0120", "0570", "0800"):
        return f"{v[:4]}-{v[4:7]}-{v[7:]}"
    if v[:2] in _TWO_DIGIT_AREAS:
        return f"{v[:2]}-{v[2:6]}-{v[6:]}"
    if v[:3] in _THREE_DIGIT_AREAS:
        return f"{v[:3]}-{v[3:6]}-{v[6:]}"
    return f"{v[:4]}-{v[4:6]}-{v[6:]}"


def email(value: str | None) -> str:
    normalized = text(value).replace(" ", "")
    if not normalized:
        return ""
    local, _sep, domain = normalized.rpartition("@")
    normalized = f"{local}@{domain.lower()}" if local else normalized
    try:
        validate_email(normalized)
    except ValidationError as exc:
        raise ValidationError(_("メールアドレスの形式が正しくありません。"), code="email") from exc
    return normalized


def age_on(birth_date: date, today: date) -> int:
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


# No member living today was born before this day; an earlier date is a typing error (1090, 0199).
EARLIEST_BIRTH_DATE = date(1900, 1, 1)


def validate_birth_date(value: date, today: date | None = None) -> date:
    """Any birth date, on every path that writes one (registration, change, correction, an
    affiliate's notice): not in the future and not before 1900. A birth date is an identity item
    sent to the bureaus (本人を特定するための情報, clause Art. 3), so a wrong one is never stored."""
    from django.utils import timezone

    today = today or timezone.localdate()
    if value > today:
        raise ValidationError(_("生年月日が未来の日付です。"), code="birth_date")
    if value < EARLIEST_BIRTH_DATE:
        raise ValidationError(_("生年月日は1900年1月1日以降の日付で入力してください。"), code="birth_date")
    return value


def validate_adult_birth_date(value: date, today: date | None = None) -> date:
    """At application only: the applicant must be an adult (Civil Code Art. 4: 18 since 2022) and
    a plausible age. A later change of the birth date is judged by ``validate_birth_date`` alone."""
    from django.utils import timezone

    today = today or timezone.localdate()
    validate_birth_date(value, today)
    age = age_on(value, today)
    if age < settings.ADULT_AGE:
        raise ValidationError(
            _("お申込みは%(age)d歳以上の方に限られます。") % {"age": settings.ADULT_AGE}, code="minor"
        )
    if age > 120:
        raise ValidationError(_("生年月日を確認してください（120歳を超えています）。"), code="birth_date")
    return value


# Old and variant forms of kanji that names are written with, folded to the everyday form for the
# name search only (the name itself is kept as the member writes it): a caller says 「たかはし」 and
# the operator types 高橋 whether the register holds 高橋 or 髙橋.
NAME_VARIANTS = str.maketrans(
    {
        "髙": "高",
        "﨑": "崎",
        "嵜": "崎",
        "邊": "辺",
        "邉": "辺",
        "齋": "斎",
        "齊": "斉",
        "濵": "浜",
        "濱": "浜",
        "櫻": "桜",
        "廣": "広",
        "國": "国",
        "澤": "沢",
        "曾": "曽",
        "德": "徳",
        "眞": "真",
        "槗": "橋",
        "\U00020bb7": "吉",  # 𠮷 (つちよし)
        "冨": "富",
        "舘": "館",
        "惠": "恵",
        "榮": "栄",
        "條": "条",
        "瀨": "瀬",
        "靜": "静",
        "淺": "浅",
        "關": "関",
        "黑": "黒",
        "實": "実",
        "藏": "蔵",
        "龍": "竜",
    }
)


def name_key(value: str | None) -> str:
    """What the name search compares: NFKC, no spaces, kanji variants folded (``NAME_VARIANTS``)."""
    return text(value).replace(" ", "").translate(NAME_VARIANTS)


def search_key(value: str | None) -> str:
    """What member search compares: kana as katakana, NFKC, no spaces."""
    return kana(value).replace(" ", "")
