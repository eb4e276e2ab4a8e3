"""Members and what is held on them (consent clauses Art. 1–3, 5, 7, 9, 10).

Categories of Art. 1(1): ① attributes on ``Member``; ② ``Contract``; ③ ``PaymentRecord``;
④ ``FinancialDeclaration``; ⑤ ``ContactRecord``; ⑥⑦⑧ ``IdentityDocument``; ⑨ ``OnlineAuthEvent``;
⑩ ``PublicRecord``. Every write goes through ``members.services``.
"""

from __future__ import annotations

import hashlib
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext, pgettext_lazy
from simple_history.models import HistoricalRecords

from consentoffice.crypto import EncryptedIntegerField, EncryptedTextField, SecretTextField
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
    history = HistoricalRecords(excluded_fields=["search_kana", "search_name", "updated_at"])

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


class ConsentVersion(models.Model):
    """同意条項の版 (Art. 9): immutable once published; a second person publishes it."""

    code = models.CharField(_("版コード"), max_length=32, unique=True)
    title = models.CharField(_("表題"), max_length=200)
    body = models.TextField(_("本文"))
    body_sha256 = models.CharField(_("本文SHA-256"), max_length=64, editable=False)
    effective_from = models.DateField(_("適用開始日"))
    published_at = models.DateTimeField(_("公開日時"), null=True, blank=True, editable=False)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("作成者"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("公開承認者"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = pgettext_lazy("model", "同意条項の版")
        verbose_name_plural = pgettext_lazy("plural", "同意条項の版")
        ordering = ["-effective_from", "-id"]
        permissions = [("publish_consentversion", _("同意条項の版を公開できる"))]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @staticmethod
    def digest(body: str) -> str:
        return hashlib.sha256(body.encode("utf-8")).hexdigest()

    def clean(self) -> None:
        self.body_sha256 = self.digest(self.body or "")
        if self.pk:
            stored = (
                ConsentVersion.objects.filter(pk=self.pk)
                .values("published_at", "body_sha256", "title", "effective_from", "code")
                .first()
            )
            if stored and stored["published_at"] is not None:
                changed = (
                    stored["body_sha256"] != self.body_sha256
                    or stored["title"] != self.title
                    or stored["effective_from"] != self.effective_from
                    or stored["code"] != self.code
                )
                if changed:
                    raise ValidationError(
                        _("公開済みの同意条項は変更できません。新しい版を作成してください。")
                    )


class Purpose(models.Model):
    """利用目的: Art. 1 (credit), 2(1)①②③ (marketing, research), Art. 3 (bureau)."""

    code = models.CharField(_("コード"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    clause = models.CharField(_("根拠条項"), max_length=32)
    description = models.TextField(_("説明"), blank=True)
    categories = models.JSONField(_("利用できる情報の区分"), default=list)
    refusable = models.BooleanField(_("拒否できる"), default=False)
    stoppable = models.BooleanField(_("中止の申出ができる"), default=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = pgettext_lazy("model", "利用目的")
        verbose_name_plural = pgettext_lazy("plural", "利用目的")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class ConsentSource(models.TextChoices):
    APPLICATION = "application", _("申込書")
    PHONE = "phone", _("電話")
    MAIL = "mail", _("郵送")
    WEB = "web", _("Web")
    COUNTER = "counter", _("窓口")
    TICKET = "ticket", _("申出（受付票）")
    AFFILIATE = "affiliate", _("提携先")


class Consent(models.Model):
    """Current consent per (member, purpose); its history is the proof of consent."""

    member = models.ForeignKey(
        Member, verbose_name=_("会員"), on_delete=models.PROTECT, related_name="consents"
    )
    purpose = models.ForeignKey(
        Purpose, verbose_name=_("利用目的"), on_delete=models.PROTECT, related_name="+"
    )
    granted = models.BooleanField(_("同意"))
    version = models.ForeignKey(
        ConsentVersion, verbose_name=_("同意条項の版"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("記録日時"), default=timezone.now)
    source = models.CharField(_("経路"), max_length=16, choices=ConsentSource.choices)
    history = HistoricalRecords()

    class Meta:
        verbose_name = pgettext_lazy("model", "同意")
        verbose_name_plural = pgettext_lazy("plural", "同意")
        ordering = ["member", "purpose"]
        constraints = [models.UniqueConstraint(fields=["member", "purpose"], name="consent_one_per_purpose")]

    def __str__(self) -> str:
        return f"{self.purpose}: {pgettext('consent state', '同意') if self.granted else pgettext('consent state', '不同意')}"

    def clean(self) -> None:
        if (
            self.version_id
            and not ConsentVersion.objects.filter(pk=self.version_id, published_at__isnull=False).exists()
        ):
            raise ValidationError({"version": _("未公開の同意条項の版には同意を記録できません。")})


class AffiliateBasis(models.TextChoices):
    CONSENT = "consent", _("本人同意に基づく第三者提供")
    JOINT_USE = "joint_use", _("共同利用")


class Affiliate(models.Model):
    """提携先 (Art. 10): a partner-card company kept in sync through the partner protocol."""

    code = models.SlugField(_("提携先コード"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    endpoint = models.URLField(_("連携先URL"), max_length=300)
    shared_secret = SecretTextField(_("共有シークレット"))
    active = models.BooleanField(_("有効"), default=True)
    basis = models.CharField(
        _("提供の根拠"), max_length=16, choices=AffiliateBasis.choices, default=AffiliateBasis.CONSENT
    )
    shared_items = models.JSONField(
        _("共有する項目"),
        default=list,
        blank=True,
        help_text=_("属性情報①のうち提携先と共有する項目名の一覧"),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = pgettext_lazy("model", "提携先")
        verbose_name_plural = pgettext_lazy("plural", "提携先")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from members.endpoints import check_endpoint

        if self.endpoint:
            try:
                check_endpoint(self.endpoint)
            except ValidationError as exc:
                raise ValidationError({"endpoint": exc.messages}) from None
        unknown = sorted(set(self.shared_items or []) - set(CATEGORY_1_FIELDS))
        if unknown:
            raise ValidationError(
                {
                    "shared_items": _("属性情報①以外の項目は共有できません: %(items)s")
                    % {"items": ", ".join(unknown)}
                }
            )


class ContractKind(models.TextChoices):
    SHOPPING = "shopping", _("ショッピング")
    CASHING = "cashing", _("キャッシング")
    CARD_LOAN = "card_loan", _("カードローン")
    INSTALLMENT = "installment", _("個別割賦")


class ContractStatus(models.TextChoices):
    APPLIED = "applied", _("申込")
    FORMED = "formed", _("成立")
    DECLINED = "declined", _("不成立")
    ENDED = "ended", _("終了")


class DeclineReason(models.TextChoices):
    """Why an application was refused (Art. 5). ``consent_refused`` never for Art. 2(1)①② alone."""

    CONSENT_REFUSED = "consent_refused", _("同意条項に同意がない")
    MISSING_INFORMATION = "missing_information", _("必要事項の記載がない")
    CREDIT_JUDGEMENT = "credit_judgement", _("与信判断による")
    IDENTITY_UNVERIFIED = "identity_unverified", _("本人確認ができない")
    OTHER = "other", _("その他")


class Contract(models.Model):
    """各取引 (category ②). A partner card has an ``affiliate``."""

    member = models.ForeignKey(
        Member, verbose_name=_("会員"), on_delete=models.PROTECT, related_name="contracts"
    )
    contract_no = models.CharField(_("契約番号"), max_length=20, unique=True)
    kind = models.CharField(_("取引の種類"), max_length=16, choices=ContractKind.choices)
    product_name = models.CharField(_("商品名"), max_length=100)
    affiliate = models.ForeignKey(
        Affiliate,
        verbose_name=_("提携先"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contracts",
    )
    consent_version = models.ForeignKey(
        ConsentVersion, verbose_name=_("同意条項の版"), on_delete=models.PROTECT, related_name="+"
    )
    applied_on = models.DateField(_("申込日"))
    contracted_on = models.DateField(_("契約日"), null=True, blank=True)
    credit_limit = models.PositiveIntegerField(_("契約額（円）"), default=0)
    installments = models.PositiveSmallIntegerField(_("支払回数"), default=1)
    settlement_account = EncryptedTextField(_("決済口座"), blank=True)
    status = models.CharField(
        _("状態"), max_length=12, choices=ContractStatus.choices, default=ContractStatus.APPLIED
    )
    ended_on = models.DateField(_("終了日"), null=True, blank=True)
    decline_reason = models.CharField(
        _("不成立の理由"), max_length=24, choices=DeclineReason.choices, blank=True
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = pgettext_lazy("model", "契約")
        verbose_name_plural = pgettext_lazy("plural", "契約")
        ordering = ["-applied_on", "-id"]
        indexes = [
            models.Index(fields=["member", "-applied_on"], name="contract_member_idx"),
            models.Index(fields=["status", "ended_on"], name="contract_status_end_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="formed") | Q(contracted_on__isnull=False),
                name="contract_formed_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status="ended") | Q(ended_on__isnull=False), name="contract_ended_has_date"
            ),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decline_reason=""), name="contract_declined_has_reason"
            ),
        ]
        permissions = [("decide_application", _("申込の成否を決定できる"))]

    def __str__(self) -> str:
        return f"{self.contract_no} {self.product_name}"

    @property
    def is_partner_card(self) -> bool:
        return self.affiliate_id is not None


class PaymentStatus(models.TextChoices):
    """CIC monthly payment status codes (入金状況)."""

    PAID = "$", _("$ 請求どおり入金")
    PARTLY = "P", _("P 一部入金")
    OTHER_PAYER = "R", _("R 本人以外から入金")
    UNPAID_MEMBER = "A", _("A 未入金（本人の事情）")
    UNPAID_OTHER = "B", _("B 未入金（本人以外の事情）")
    UNPAID_UNKNOWN = "C", _("C 未入金（事由不明）")
    NOT_BILLED = "-", _("- 請求なし")


class PaymentRecord(models.Model):
    """③ Monthly balance and repayment status of a contract."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("契約"), on_delete=models.PROTECT, related_name="payments"
    )
    month = models.DateField(_("対象月"), help_text=_("月初日"))
    billed_amount = models.PositiveIntegerField(_("請求額"), default=0)
    paid_amount = models.PositiveIntegerField(_("入金額"), default=0)
    balance = models.PositiveIntegerField(_("残高"), default=0)
    status_code = models.CharField(_("入金状況"), max_length=1, choices=PaymentStatus.choices)
    days_overdue = models.PositiveSmallIntegerField(_("延滞日数"), default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name = pgettext_lazy("model", "支払状況")
        verbose_name_plural = pgettext_lazy("plural", "支払状況")
        ordering = ["contract", "-month"]
        constraints = [models.UniqueConstraint(fields=["contract", "month"], name="payment_one_per_month")]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.month:%Y-%m} {self.status_code}"


class FinancialDeclaration(models.Model):
    """④ Assets, debts and income the member declared; income is encrypted."""

    member = models.ForeignKey(
        Member, verbose_name=_("会員"), on_delete=models.PROTECT, related_name="declarations"
    )
    declared_on = models.DateField(_("申告日"))
    annual_income = EncryptedIntegerField(_("年収（円）"))
    assets = models.PositiveBigIntegerField(_("資産（円）"), default=0)
    debts = models.PositiveBigIntegerField(_("負債（円）"), default=0)
    note = models.CharField(_("備考"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = pgettext_lazy("model", "資産・収入等の申告")
        verbose_name_plural = pgettext_lazy("plural", "資産・収入等の申告")
        ordering = ["member", "-declared_on"]

    def __str__(self) -> str:
        return f"{self.declared_on} {self._meta.verbose_name}"


class ContactChannel(models.TextChoices):
    PHONE = "phone", _("電話")
    VISIT = "visit", _("来店")
    MAIL = "mail", _("郵便")
    EMAIL = "email", _("メール")
    WEB = "web", _("Web")


class ContactRecord(models.Model):
    """⑤ What the company learned from calls, visits and mail (recordings by reference)."""

    member = models.ForeignKey(
        Member, verbose_name=_("会員"), on_delete=models.PROTECT, related_name="contacts"
    )
    at = models.DateTimeField(_("日時"), default=timezone.now)
    channel = models.CharField(_("経路"), max_length=8, choices=ContactChannel.choices)
    inbound = models.BooleanField(_("会員からの連絡"), default=True)
    summary = models.TextField(_("内容"))
    recording_ref = models.CharField(_("録音・映像の参照"), max_length=100, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("記録者"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = pgettext_lazy("model", "応対記録")
        verbose_name_plural = pgettext_lazy("plural", "応対記録")
        ordering = ["-at"]
        indexes = [models.Index(fields=["member", "-at"], name="contact_member_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_channel_display()}"


class IdentityDocumentKind(models.TextChoices):
    DRIVER_LICENSE = "driver_license", _("運転免許証")
    PASSPORT = "passport", _("パスポート")
    INSURANCE_CARD = "insurance_card", _("健康保険証")
    RESIDENCE_CARD = "residence_card", _("在留カード")
    RESIDENT_RECORD = "resident_record", _("住民票の写し")
    INCOME_CERTIFICATE = "income_certificate", _("源泉徴収票・所得証明書")
    OTHER = "other", _("その他")


DOCUMENT_CATEGORY = {
    IdentityDocumentKind.RESIDENT_RECORD: DataCategory.PUBLIC_DOCUMENT,
    IdentityDocumentKind.INCOME_CERTIFICATE: DataCategory.INCOME_PROOF,
}


def looks_like_individual_number(value: str) -> bool:
    """True for a 12-digit number whose check digit is valid (マイナンバー): never stored."""
    digits = normalize.digits(value)
    if len(digits) != 12 or not digits.isdigit():
        return False
    body = [int(c) for c in digits[:11]][::-1]
    total = sum(d * (n + 1 if n <= 6 else n - 5) for n, d in enumerate(body, start=1))
    check = 0 if total % 11 <= 1 else 11 - total % 11
    return check == int(digits[11])


class IdentityDocument(models.Model):
    """⑥⑦⑧ Documents seen to verify identity or income. The number is encrypted.

    An individual number (マイナンバー) is never stored: the card may be seen, its number not kept.
    """

    member = models.ForeignKey(
        Member, verbose_name=_("会員"), on_delete=models.PROTECT, related_name="documents"
    )
    kind = models.CharField(_("書類の種類"), max_length=20, choices=IdentityDocumentKind.choices)
    number = EncryptedTextField(_("記号番号"), blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("確認者"), on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(_("確認日時"), default=timezone.now)
    note = models.CharField(_("備考"), max_length=200, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = pgettext_lazy("model", "本人確認書類")
        verbose_name_plural = pgettext_lazy("plural", "本人確認書類")
        ordering = ["-verified_at"]

    def __str__(self) -> str:
        return self.get_kind_display()

    @property
    def category(self) -> DataCategory:
        return DOCUMENT_CATEGORY.get(self.kind, DataCategory.IDENTITY)

    def clean(self) -> None:
        if self.number:
            self.number = normalize.text(self.number)
            if looks_like_individual_number(self.number):
                raise ValidationError(
                    {
                        "number": _(
                            "個人番号（マイナンバー）は記録できません。番号を入力せずに確認だけを記録してください。"
                        )
                    }
                )


class OnlineAuthEvent(models.Model):
    """⑨ Online authentication facts (3-D Secure, one-time passwords, logins)."""

    class Kind(models.TextChoices):
        LOGIN = "login", _("会員サイトログイン")
        THREE_D_SECURE = "3ds", _("3Dセキュア認証")
        OTP = "otp", _("ワンタイムパスワード")

    member = models.ForeignKey(
        Member, verbose_name=_("会員"), on_delete=models.PROTECT, related_name="auth_events"
    )
    at = models.DateTimeField(_("日時"), default=timezone.now)
    kind = models.CharField(_("種類"), max_length=8, choices=Kind.choices)
    succeeded = models.BooleanField(_("成功"), default=True)
    ip_address = models.GenericIPAddressField(_("IPアドレス"), null=True, blank=True)
    device = models.CharField(_("端末情報"), max_length=200, blank=True)
    merchant = models.CharField(_("加盟店"), max_length=100, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = pgettext_lazy("model", "オンライン認証記録")
        verbose_name_plural = pgettext_lazy("plural", "オンライン認証記録")
        ordering = ["-at"]
        indexes = [models.Index(fields=["member", "-at"], name="authevent_member_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()}"


class PublicRecord(models.Model):
    """⑩ Published information judged to concern the member (gazette, directories)."""

    class Source(models.TextChoices):
        GAZETTE = "gazette", _("官報")
        DIRECTORY = "directory", _("電話帳")
        INTERNET = "internet", _("インターネット")
        OTHER = "other", _("その他")

    member = models.ForeignKey(
        Member, verbose_name=_("会員"), on_delete=models.PROTECT, related_name="public_records"
    )
    source = models.CharField(_("出典"), max_length=12, choices=Source.choices)
    summary = models.TextField(_("概要"))
    found_on = models.DateField(_("確認日"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = pgettext_lazy("model", "公開情報")
        verbose_name_plural = pgettext_lazy("plural", "公開情報")
        ordering = ["-found_on"]

    def __str__(self) -> str:
        return f"{self.found_on} {self.get_source_display()}"


class SyncStatus(models.TextChoices):
    PENDING = "pending", _("未送信")
    SENT = "sent", _("送信済み")
    DEAD = "dead", _("送信不能")


class SyncDirection(models.TextChoices):
    OUTBOUND = "outbound", _("当社→提携先")
    INBOUND = "inbound", _("提携先→当社")


class PartnerSyncEvent(models.Model):
    """Transactional outbox row per (change, affiliate) of Art. 10 partner sync."""

    event_id = models.UUIDField(_("イベントID"), default=uuid.uuid4, unique=True, editable=False)
    member = models.ForeignKey(
        Member, verbose_name=_("会員"), on_delete=models.PROTECT, related_name="sync_events"
    )
    affiliate = models.ForeignKey(
        Affiliate, verbose_name=_("提携先"), on_delete=models.PROTECT, related_name="sync_events"
    )
    direction = models.CharField(
        _("方向"), max_length=8, choices=SyncDirection.choices, default=SyncDirection.OUTBOUND
    )
    payload = models.JSONField(_("内容"))
    status = models.CharField(_("状態"), max_length=8, choices=SyncStatus.choices, default=SyncStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("試行回数"), default=0)
    next_attempt_at = models.DateTimeField(_("次回試行"), default=timezone.now)
    last_error = models.CharField(_("最後のエラー"), max_length=300, blank=True)
    occurred_at = models.DateTimeField(_("発生日時"), default=timezone.now)
    sent_at = models.DateTimeField(_("送信日時"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = pgettext_lazy("model", "提携先連携イベント")
        verbose_name_plural = pgettext_lazy("plural", "提携先連携イベント")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="sync_due_idx"),
            models.Index(fields=["affiliate", "member", "id"], name="sync_order_idx"),
        ]
        permissions = [("replay_partnersyncevent", _("送信不能の連携イベントを再送できる"))]

    def __str__(self) -> str:
        return f"{self.event_id} {self.get_status_display()}"


class Contractor(models.Model):
    """委託先 (Art. 1(2)), e.g. a debt-collection company."""

    name = models.CharField(_("名称"), max_length=100, unique=True)
    business = models.CharField(_("委託業務"), max_length=200)
    address = models.CharField(_("所在地"), max_length=200, blank=True)
    active = models.BooleanField(_("有効"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = pgettext_lazy("model", "委託先")
        verbose_name_plural = pgettext_lazy("plural", "委託先")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Entrustment(models.Model):
    """Which member's data went to which contractor, for what, when, and when it came back."""

    contractor = models.ForeignKey(
        Contractor, verbose_name=_("委託先"), on_delete=models.PROTECT, related_name="entrustments"
    )
    member = models.ForeignKey(
        Member, verbose_name=_("会員"), on_delete=models.PROTECT, related_name="entrustments"
    )
    purpose = models.CharField(_("委託の目的"), max_length=200)
    items = models.JSONField(_("提供した項目"), default=list)
    provided_on = models.DateField(_("提供日"))
    returned_on = models.DateField(_("返却・廃棄日"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = pgettext_lazy("model", "委託記録")
        verbose_name_plural = pgettext_lazy("plural", "委託記録")
        ordering = ["-provided_on"]
        indexes = [models.Index(fields=["member", "-provided_on"], name="entrustment_member_idx")]

    def __str__(self) -> str:
        return f"{self.provided_on} {self.purpose}"


class ProvisionBasis(models.TextChoices):
    CONSENT = "consent", _("本人の同意")
    LAW = "law", _("法令に基づく")
    CONTRACT = "contract", _("契約書等による記録の代替")


class RecipientKind(models.TextChoices):
    BUREAU = "bureau", _("個人信用情報機関")
    AFFILIATE = "affiliate", _("提携先")
    OTHER = "other", _("その他")


class ProvisionRecord(models.Model):
    """第三者提供記録 (APPI Art. 29; rules Art. 19–21): kept 3 years (1 year if the contract records it)."""

    member = models.ForeignKey(
        Member, verbose_name=_("会員"), on_delete=models.PROTECT, related_name="provision_records"
    )
    recipient_kind = models.CharField(_("提供先の種類"), max_length=12, choices=RecipientKind.choices)
    recipient = models.CharField(_("提供先"), max_length=200)
    items = models.JSONField(_("提供した項目"), default=list)
    provided_on = models.DateField(_("提供日"))
    basis = models.CharField(_("根拠"), max_length=12, choices=ProvisionBasis.choices)
    consent_recorded = models.BooleanField(_("本人同意を得ている"), default=True)
    kept_until = models.DateField(_("保存期限"))
    reference = models.CharField(_("参照"), max_length=100, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = pgettext_lazy("model", "第三者提供記録")
        verbose_name_plural = pgettext_lazy("plural", "第三者提供記録")
        ordering = ["-provided_on", "-id"]
        indexes = [models.Index(fields=["member", "-provided_on"], name="provision_member_idx")]

    def __str__(self) -> str:
        return f"{self.provided_on} {self.recipient}"


class AccessAction(models.TextChoices):
    VIEW = "view", _("閲覧")
    VIEW_SENSITIVE = "view_sensitive", _("暗号化項目の閲覧")
    SEARCH = "search", _("検索")
    EXPORT = "export", _("エクスポート")
    DOWNLOAD = "download", _("ダウンロード")


class AccessLog(models.Model):
    """Who viewed, searched, exported or downloaded whose data, when and from where.

    Append-only: written by ``members.services.record_access`` and never changed. It holds no
    personal data itself (search terms are not kept, only their kind and the hit count).
    """

    member = models.ForeignKey(
        Member,
        verbose_name=_("会員"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="access_logs",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("利用者"), on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField(_("操作"), max_length=16, choices=AccessAction.choices)
    at = models.DateTimeField(_("日時"), default=timezone.now, db_index=True)
    ip_address = models.GenericIPAddressField(_("接続元IP"), null=True, blank=True)
    path = models.CharField(_("画面"), max_length=300, blank=True)
    detail = models.CharField(_("詳細"), max_length=300, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("model", "アクセス記録")
        verbose_name_plural = pgettext_lazy("plural", "アクセス記録")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["member", "-at"], name="accesslog_member_idx"),
            models.Index(fields=["user", "-at"], name="accesslog_user_idx"),
        ]
        permissions = [("view_audit_trail", _("監査証跡を閲覧できる"))]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()}"


class ExtractPurpose(models.TextChoices):
    """The purposes a marketing or research list is drawn for (clause Art. 2(1)①②③)."""

    MARKETING_OWN = "marketing_own", _("当社の営業案内（第2条(1)①）")
    MARKETING_PARTNER = "marketing_partner", _("第三者から受託した営業案内（第2条(1)②）")
    RESEARCH = "research", _("市場調査・商品開発（第2条(1)③）")


class ExtractChannel(models.TextChoices):
    POST = "post", _("郵送")
    PHONE = "phone", _("電話")
    EMAIL = "email", _("電子メール")
    SMS = "sms", _("SMS（携帯電話）")


class MarketingExtract(models.Model):
    """営業・調査リストの抽出記録: who drew which list, when, how many members, and the SHA-256 of
    the file as it was sent (``members.extracts``). Written when the download starts and finished
    when its last byte has gone; never changed after that. The members themselves are in the
    access log (one ``export`` row each), not here."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("抽出者"), on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(_("開始日時"), default=timezone.now)
    judged_on = models.DateField(_("判定日"))
    purpose = models.CharField(_("利用目的"), max_length=20, choices=ExtractPurpose.choices)
    channel = models.CharField(_("連絡方法"), max_length=8, choices=ExtractChannel.choices)
    logged = models.PositiveIntegerField(_("アクセス記録の件数"), default=0)
    count = models.PositiveIntegerField(_("出力件数"), default=0)
    sha256 = models.CharField(_("ファイルのSHA-256"), max_length=64, blank=True)
    finished = models.BooleanField(_("出力完了"), default=False)
    finished_at = models.DateTimeField(_("完了日時"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = pgettext_lazy("model", "営業リスト抽出記録")
        verbose_name_plural = pgettext_lazy("plural", "営業リスト抽出記録")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(finished=False)
                | (Q(finished_at__isnull=False) & Q(sha256__regex=r"^[0-9a-f]{64}$")),
                name="marketingextract_finished_has_hash",
            ),
            models.CheckConstraint(
                condition=Q(count__lte=models.F("logged")), name="marketingextract_count_logged"
            ),
        ]
        permissions = [("extract_marketing", _("営業・調査用の会員リストを抽出できる"))]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.get_purpose_display()} {self.get_channel_display()}"

    @property
    def log_detail(self) -> str:
        """The access-log detail of this extract's rows (no personal data: codes and the id)."""
        return f"marketing extract {self.pk} purpose={self.purpose} channel={self.channel}"


# --- Legal holds (法的保全, clause Art. 7, APPI Art. 35) ----------------------------------------


class HoldReason(models.TextChoices):
    LITIGATION = "litigation", _("訴訟・紛争")
    AML_INQUIRY = "aml_inquiry", _("犯罪収益移転防止法に基づく照会・調査")
    AUTHORITY = "authority", _("監督官庁・捜査機関からの照会")
    OTHER = "other", _("その他")


class LegalHold(models.Model):
    """A hold a privacy officer places on a member's data: the nightly erasure skips the member
    until the hold is released (open requests of the member hold erasure without a row here).

    The note names the matter (case number, inquiry reference), never the member's data.
    """

    member = models.ForeignKey(
        Member, verbose_name=_("会員"), on_delete=models.PROTECT, related_name="legal_holds"
    )
    reason_kind = models.CharField(_("保全の理由"), max_length=16, choices=HoldReason.choices)
    note = models.CharField(_("内容（事件番号・照会番号等）"), max_length=300)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("設定者"), on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField(_("設定日時"), default=timezone.now)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("解除者"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    released_at = models.DateTimeField(_("解除日時"), null=True, blank=True)
    release_reason = models.CharField(_("解除の理由"), max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = pgettext_lazy("model", "法的保全")
        verbose_name_plural = pgettext_lazy("plural", "法的保全")
        ordering = ["-placed_at", "-id"]
        indexes = [
            models.Index(fields=["member"], condition=Q(released_at__isnull=True), name="legalhold_open_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(released_at__isnull=True, released_by__isnull=True, release_reason="")
                    | (Q(released_at__isnull=False, released_by__isnull=False) & ~Q(release_reason=""))
                ),
                name="legalhold_release_complete",
            )
        ]
        permissions = [("manage_legalhold", _("法的保全を設定・解除できる"))]

    def __str__(self) -> str:
        return f"{self.get_reason_kind_display()} {self.placed_at:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        return self.released_at is None
