"""Category ① on ``Member`` (Art. 1(1)①), its choices and the member-number counter."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from consentoffice.core.tracking import AuditedHistory
from members import normalize

PREFECTURES = [
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
]

# Category ① fields (Art. 1(1)①): the ones a correction may change and partner cards share (Art. 10).
CATEGORY_1_FIELDS = (
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "birth_date",
    "gender",
    "postal_code",
    "prefecture",
    "city",
    "address_line",
    "phone",
    "email",
    "occupation",
    "employer_name",
    "household",
    "housing",
    "transaction_purpose",
)
REQUIRED_CATEGORY_1_FIELDS = (
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "birth_date",
    "postal_code",
    "prefecture",
    "city",
    "address_line",
    "phone",
)


class DataCategory(models.IntegerChoices):
    """The ten categories of Art. 1(1)."""

    ATTRIBUTES = 1, _("① 属性情報（氏名・生年月日・住所・連絡先・勤務先等）")
    CONTRACT = 2, _("② 契約内容に関する情報")
    PAYMENT = 3, _("③ 利用残高・返済状況に関する情報")
    FINANCES = 4, _("④ 申告された資産・負債・収入等")
    CONTACT = 5, _("⑤ 来店・問い合わせ等で知り得た情報")
    IDENTITY = 6, _("⑥ 本人確認書類による情報")
    PUBLIC_DOCUMENT = 7, _("⑦ 住民票の写し等公的書類による情報")
    INCOME_PROOF = 8, _("⑧ 収入証明書類による情報")
    ONLINE_AUTH = 9, _("⑨ オンライン本人認証に関する情報")
    PUBLIC_RECORD = 10, _("⑩ 官報・電話帳等の公開情報")


class Gender(models.TextChoices):
    MALE = "male", _("男性")
    FEMALE = "female", _("女性")
    UNSPECIFIED = "unspecified", _("回答しない")


class Housing(models.TextChoices):
    OWNED = "owned", _("持家（本人名義）")
    FAMILY_OWNED = "family_owned", _("持家（家族名義）")
    RENTED = "rented", _("賃貸")
    COMPANY = "company", _("社宅・寮")
    OTHER = "other", _("その他")


class Household(models.TextChoices):
    SINGLE = "single", _("単身")
    WITH_SPOUSE = "with_spouse", _("配偶者あり")
    WITH_FAMILY = "with_family", _("家族と同居")
    OTHER = "other", _("その他")


class TransactionPurpose(models.TextChoices):
    LIVING = "living", _("生計費決済")
    BUSINESS = "business", _("事業費決済")
    CASHING = "cashing", _("キャッシング")
    OTHER = "other", _("その他")


class MemberStatus(models.TextChoices):
    APPLICANT = "applicant", _("申込中")
    ACTIVE = "active", _("有効")
    SUSPENDED = "suspended", _("停止中")
    CLOSED = "closed", _("退会・契約終了")
    ANONYMIZED = "anonymized", _("匿名化済み")


class Member(models.Model):
    """会員: category ① attributes. Kana is full-width katakana, phone digits only."""

    member_no = models.CharField(_("会員番号"), max_length=16, unique=True)
    family_name = models.CharField(_("姓"), max_length=50)
    given_name = models.CharField(_("名"), max_length=50)
    family_name_kana = models.CharField(_("セイ"), max_length=80)
    given_name_kana = models.CharField(_("メイ"), max_length=80)
    birth_date = models.DateField(_("生年月日"))
    gender = models.CharField(_("性別"), max_length=12, choices=Gender.choices, default=Gender.UNSPECIFIED)
    postal_code = models.CharField(_("郵便番号"), max_length=7)
    prefecture = models.CharField(_("都道府県"), max_length=4, choices=[(p, p) for p in PREFECTURES])
    city = models.CharField(_("市区町村"), max_length=100)
    address_line = models.CharField(_("番地・建物名"), max_length=200)
    phone = models.CharField(_("電話番号"), max_length=11, db_index=True)
    email = models.EmailField(_("メールアドレス"), blank=True)
    occupation = models.CharField(_("職業"), max_length=50, blank=True)
    employer_name = models.CharField(_("勤務先"), max_length=100, blank=True)
    household = models.CharField(_("家族構成"), max_length=16, choices=Household.choices, blank=True)
    housing = models.CharField(_("住居状況"), max_length=16, choices=Housing.choices, blank=True)
    transaction_purpose = models.CharField(
        _("取引目的"), max_length=16, choices=TransactionPurpose.choices, blank=True
    )
    status = models.CharField(
        _("状態"), max_length=12, choices=MemberStatus.choices, default=MemberStatus.ACTIVE
    )
    # Derived search keys (kept by ``refresh_search_keys``): kana and name without spaces.
    search_kana = models.CharField(_("検索用カナ"), max_length=160, editable=False, db_index=True)
    search_name = models.CharField(_("検索用氏名"), max_length=100, editable=False, db_index=True)
    provision_stopped = models.BooleanField(
        _("第三者提供停止"),
        default=False,
        help_text=_("提供停止の請求により提携先への連携を停止しています。"),
    )
    created_at = models.DateTimeField(_("登録日時"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)
    history = AuditedHistory(
        excluded_fields=["search_kana", "search_name", "updated_at"],
        object_index=False,  # the audit (member, date, id) index leads with the id (0005)
    )

    class Meta:
        verbose_name = pgettext_lazy("model", "会員")
        verbose_name_plural = pgettext_lazy("plural", "会員")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["email"], name="member_email_idx"),
            # Email search is case-insensitive (iexact compares UPPER(email)).
            models.Index(Upper("email"), name="member_email_upper_idx"),
            models.Index(fields=["status", "-id"], name="member_status_idx"),
            # The member list filters by prefecture, newest first (members.list_views).
            models.Index(fields=["prefecture", "-id"], name="member_prefecture_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(postal_code__regex=r"^[0-9]{7}$"), name="member_postal_code_7_digits"
            ),
            models.CheckConstraint(condition=Q(phone__regex=r"^0[0-9]{9,10}$"), name="member_phone_digits"),
        ]
        permissions = [
            ("view_sensitive_data", _("暗号化項目（書類番号・口座・収入）を表示できる")),
            ("export_many_members", _("上限を超える人数の会員を一度にCSV出力できる")),
        ]

    def __str__(self) -> str:
        return f"{self.member_no} {self.family_name} {self.given_name}"

    def save(self, *args, **kwargs):
        self.refresh_search_keys()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = set(kwargs["update_fields"]) | {
                "search_kana",
                "search_name",
                "updated_at",
            }
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return f"{self.family_name} {self.given_name}"

    @property
    def full_name_kana(self) -> str:
        return f"{self.family_name_kana} {self.given_name_kana}"

    @property
    def phone_display(self) -> str:
        return normalize.format_phone(self.phone)

    @property
    def postal_code_display(self) -> str:
        return normalize.format_postal_code(self.postal_code)

    @property
    def address(self) -> str:
        return f"{self.prefecture}{self.city}{self.address_line}"

    def refresh_search_keys(self) -> None:
        self.search_kana = normalize.search_key(self.family_name_kana + self.given_name_kana)
        self.search_name = normalize.name_key(self.family_name + self.given_name)

    def clean_fields(self, exclude=None) -> None:
        """Normalize category ① input before the field checks, so a phone typed as
        090-1234-5678 is judged as 09012345678; every problem is reported per field in Japanese."""
        exclude = set(exclude or ())
        errors = self._normalize_input(exclude)
        try:
            super().clean_fields(exclude=exclude | set(errors))
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if "birth_date" not in exclude | set(errors) and self.birth_date:
            # Every save path (services, admin form, correction probe, affiliate notice) passes
            # here; the adult check is for a new application only.
            check = (
                normalize.validate_adult_birth_date if self._state.adding else normalize.validate_birth_date
            )
            try:
                check(self.birth_date)
            except ValidationError as exc:
                errors["birth_date"] = exc.messages
        self.refresh_search_keys()
        if errors:
            raise ValidationError(errors)

    def _normalize_input(self, exclude: set[str]) -> dict[str, list]:
        errors: dict[str, list] = {}
        for field, func in MEMBER_NORMALIZERS.items():
            value = getattr(self, field)
            if field in exclude or not value:
                continue
            if field == "member_no" and not self._state.adding:
                continue  # fixed at registration; a number from before the format keeps working
            try:
                setattr(self, field, func(value))
            except ValidationError as exc:
                errors.setdefault(field, []).extend(exc.messages)
        return errors


# How each category ① field is normalized (and validated) before it is stored.
MEMBER_NORMALIZERS = {
    "member_no": normalize.member_no,
    "family_name": normalize.text,
    "given_name": normalize.text,
    "family_name_kana": normalize.validate_kana,
    "given_name_kana": normalize.validate_kana,
    "postal_code": normalize.postal_code,
    "city": normalize.text,
    "address_line": normalize.text,
    "phone": normalize.phone,
    "email": normalize.email,
    "occupation": normalize.text,
    "employer_name": normalize.text,
}


class NumberSequence(models.Model):
    """A counter for databases without sequences (SQLite); PostgreSQL uses a real SEQUENCE.

    ``members.services.next_member_no`` draws from one or the other, never from the numbers in use.
    """

    name = models.CharField(max_length=32, primary_key=True)
    last_value = models.BigIntegerField()

    class Meta:
        verbose_name = pgettext_lazy("model", "採番")
        verbose_name_plural = pgettext_lazy("plural", "採番")

    def __str__(self) -> str:
        return self.name
