"""Normalization of category ① input (members.normalize): what is stored and the Japanese errors."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from hypothesis import example, given
from hypothesis import strategies as st

from members import normalize

FULL_WIDTH_KATAKANA = re.compile(r"^[\u30a1-\u30fa\u30fc\u30fd\u30fe]+$")
KANA_ERROR = "フリガナはカタカナまたはひらがなで入力してください。"

HIRAGANA = [chr(c) for c in range(0x3041, 0x3097)] + ["ゝ", "ゞ"]
KATAKANA = [chr(c) for c in range(0x30A1, 0x30FB)] + ["ヽ", "ヾ"]
HALF_WIDTH_LETTERS = [chr(c) for c in range(0xFF66, 0xFF9E)]  # ｦ … ﾝ, including ｰ and small letters
# A half-width voiced or semi-voiced letter is typed as the letter plus ﾞ or ﾟ (ｶﾞ, ﾊﾟ, ｳﾞ, ﾜﾞ).
HALF_WIDTH_VOICED = [
    letter + mark
    for letter in HALF_WIDTH_LETTERS
    for mark in "ﾞﾟ"
    if len(unicodedata.normalize("NFKC", letter + mark)) == 1
]
PROLONGED_MARKS = ["ー", "ｰ", "-", "－", "〜", "～"]
kana_text = st.lists(
    st.sampled_from(HIRAGANA + KATAKANA + HALF_WIDTH_LETTERS + HALF_WIDTH_VOICED + PROLONGED_MARKS),
    min_size=1,
    max_size=20,
).map("".join)


# --- Kana (フリガナ) --------------------------------------------------------------------------


@given(st.text())
@example("ﾔﾏﾀﾞ ﾀﾛｳ")
@example("わ\u3099")
def test_kana_is_idempotent(value):
    once = normalize.kana(value)
    assert normalize.kana(once) == once


@given(kana_text)
@example("ﾜﾞｲﾝ")
@example("ゔぁいおりん")
def test_any_hiragana_katakana_or_half_width_kana_becomes_full_width_katakana(value):
    result = normalize.kana(value)
    assert FULL_WIDTH_KATAKANA.match(result), (value, result)
    assert normalize.validate_kana(value) == result


def test_voiced_half_width_kana_is_counted_in_the_strategy():
    assert {"ｶﾞ", "ﾊﾟ", "ｳﾞ", "ﾜﾞ"} <= set(HALF_WIDTH_VOICED)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("やまだ", "ヤマダ"),
        ("ﾔﾏﾀﾞ", "ヤマダ"),
        ("ヤマダ", "ヤマダ"),
        ("ｻﾄｳ ﾊﾅｺ", "サトウ ハナコ"),
        ("さとう　ﾊﾅｺ", "サトウ ハナコ"),
        ("  すずき   ｲﾁﾛｳ ", "スズキ イチロウ"),
        ("ﾀﾞｲｽｹ", "ダイスケ"),
        ("ぱーく", "パーク"),
        ("ﾊﾟｰｸ", "パーク"),
        ("ゆ-じ", "ユージ"),
    ],
)
def test_kana_input_is_stored_as_full_width_katakana(typed, stored):
    assert normalize.validate_kana(typed) == stored


@pytest.mark.parametrize("typed", ["山田", "Yamada", "やまだ太郎", "ヤマダ1", "", "   "])
def test_kanji_latin_or_empty_kana_is_rejected_with_a_japanese_message(typed):
    with pytest.raises(ValidationError) as exc:
        normalize.validate_kana(typed)
    assert exc.value.messages == [KANA_ERROR]


# --- Postal code ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed", ["165-8555", "１６５８５５５", "〒165-8555", "〒１６５－８５５５", " 1658555 "]
)
def test_postal_code_is_stored_as_seven_digits(typed):
    assert normalize.postal_code(typed) == "1658555"


@pytest.mark.parametrize("typed", ["165-855", "1658-5555", "16585555", "165855", "abc-defg", "١٦٥٨٥٥٥", ""])
def test_postal_code_that_is_not_seven_ascii_digits_is_rejected(typed):
    with pytest.raises(ValidationError) as exc:
        normalize.postal_code(typed)
    assert "郵便番号は7桁の数字" in exc.value.messages[0]


def test_postal_code_is_displayed_with_a_hyphen():
    assert normalize.format_postal_code("1658555") == "165-8555"


# --- Phone ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["03-5996-1111", "０３（５９９６）１１１１", "+81-3-5996-1111", "(03) 5996.1111", "03ー5996ー1111"],
)
def test_phone_is_stored_as_digits_only(typed):
    assert normalize.phone(typed) == "0359961111"


@pytest.mark.parametrize(
    "typed", ["090-1234-5678", "０９０１２３４５６７８", "+81 90 1234 5678", "050-1234-5678"]
)
def test_mobile_and_ip_phone_numbers_have_eleven_digits(typed):
    assert len(normalize.phone(typed)) == 11


@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("090-1234-567", "携帯電話番号は11桁"),
        ("03-5996-11112", "11桁の電話番号は携帯・IP電話"),
        ("03-5996-111a", "0から始まる10桁または11桁"),
        ("TEL 03-5996-1111", "0から始まる10桁または11桁"),
        ("3-5996-1111", "0から始まる10桁または11桁"),
        ("0٣-5996-1111", "0から始まる10桁または11桁"),
    ],
)
def test_bad_phone_numbers_are_rejected_with_a_japanese_message(typed, error):
    with pytest.raises(ValidationError) as exc:
        normalize.phone(typed)
    assert error in exc.value.messages[0]


@given(st.text(alphabet=st.sampled_from(list("0123456789０１２３４５６７８９٠١٢٣+-()（）ー. 　a８１"))))
@example("000000000٣")
@example("+81-3-5996-1111")
def test_phone_normalization_never_returns_anything_but_ascii_digits(value):
    try:
        result = normalize.phone(value)
    except ValidationError:
        return
    assert re.fullmatch(r"0[0-9]{9,10}", result), (value, result)


@given(st.text())
def test_phone_normalization_of_any_text_returns_ascii_digits_or_refuses(value):
    try:
        result = normalize.phone(value)
    except ValidationError:
        return
    assert re.fullmatch(r"0[0-9]{9,10}", result), (value, result)


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("0359961111", "03-5996-1111"),
        ("09012345678", "090-1234-5678"),
        ("0120810414", "0120-810-414"),
        ("0452001234", "045-200-1234"),
    ],
)
def test_phone_is_displayed_the_way_people_write_it(stored, shown):
    assert normalize.format_phone(stored) == shown


# --- Names, email -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"), [("髙橋", "髙橋"), ("山﨑", "山﨑"), ("髙﨑　花子", "髙﨑 花子")]
)
def test_nfkc_keeps_variant_kanji_in_names(typed, stored):
    assert normalize.text(typed) == stored


def test_nfkc_turns_full_width_ascii_into_ascii():
    assert normalize.text("ＡＢＣ商事　１２３") == "ABC商事 123"


def test_email_lower_cases_the_domain_only():
    assert normalize.email("Taro.Yamada@Example.CO.JP") == "Taro.Yamada@example.co.jp"
    assert normalize.email("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ") == "taro@example.jp"


@pytest.mark.parametrize("typed", ["taro", "taro@", "@example.jp", "taro@@example.jp", "taro@example"])
def test_garbage_email_is_rejected_with_a_japanese_message(typed):
    with pytest.raises(ValidationError) as exc:
        normalize.email(typed)
    assert exc.value.messages == ["メールアドレスの形式が正しくありません。"]


def test_empty_email_is_allowed():
    assert normalize.email("  ") == ""


# --- Birth date (Civil Code Art. 4: adult at 18) ---------------------------------------------

TODAY = date(2026, 5, 10)


def test_a_minor_one_day_short_of_eighteen_is_rejected():
    seventeen_years_364_days = date(2008, 5, 11)
    with pytest.raises(ValidationError) as exc:
        normalize.validate_adult_birth_date(seventeen_years_364_days, today=TODAY)
    assert exc.value.messages == ["お申込みは18歳以上の方に限られます。"]


def test_someone_turning_eighteen_today_is_accepted():
    assert normalize.validate_adult_birth_date(date(2008, 5, 10), today=TODAY) == date(2008, 5, 10)


def test_eighteen_today_is_accepted_on_the_real_calendar():
    from django.utils import timezone

    today = timezone.localdate()
    if (today.month, today.day) == (2, 29):
        pytest.skip("no 18th birthday falls on 29 February")
    eighteen_today = today.replace(year=today.year - 18)
    assert normalize.validate_adult_birth_date(eighteen_today) == eighteen_today
    with pytest.raises(ValidationError):
        normalize.validate_adult_birth_date(eighteen_today + timedelta(days=1))


def test_a_birth_date_in_the_future_is_rejected():
    with pytest.raises(ValidationError) as exc:
        normalize.validate_adult_birth_date(TODAY + timedelta(days=1), today=TODAY)
    assert exc.value.messages == ["生年月日が未来の日付です。"]


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (date(1899, 12, 31), "生年月日は1900年1月1日以降の日付で入力してください。"),
        (date(1900, 1, 1), None),
        (TODAY, None),
        (TODAY + timedelta(days=1), "生年月日が未来の日付です。"),
        (date(1, 1, 1), "生年月日は1900年1月1日以降の日付で入力してください。"),
    ],
)
def test_any_birth_date_lies_between_1900_and_today(value, error):
    if error is None:
        assert normalize.validate_birth_date(value, today=TODAY) == value
        return
    with pytest.raises(ValidationError) as exc:
        normalize.validate_birth_date(value, today=TODAY)
    assert exc.value.messages == [error]
