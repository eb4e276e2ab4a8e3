"""Demo data for ``manage.py seed_demo``: users per role, affiliates, contractors and members.

Everything is written through the services, acting as the demo users, so every history row names
an operator or a supervisor and a reason, exactly as real work would. The data is deterministic:
member ``i`` always gets the same profile (Faker ``ja_JP`` and ``random`` are seeded per index),
and a member that already exists is skipped, so running the seed again changes nothing.

Sections run in the order of ``SECTIONS``; each takes the ``DemoContext`` and returns how many
rows it created. The sections of the apps built on members (bureau records, tickets) follow in
``consentoffice.devtools.demo``, which ``manage.py seed_demo`` runs: members imports neither app.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from faker import Faker

from consentoffice.accounts import twofactor
from consentoffice.accounts.users import create_staff_user
from consentoffice.core import roles
from members import services
from members.models import (
    Affiliate,
    AffiliateBasis,
    ConsentSource,
    ConsentVersion,
    ContactChannel,
    Contract,
    ContractKind,
    Contractor,
    DeclineReason,
    Gender,
    Household,
    Housing,
    IdentityDocumentKind,
    Member,
    MemberStatus,
    PaymentStatus,
    PublicRecord,
    Purpose,
    TransactionPurpose,
    looks_like_individual_number,
)

DEFAULT_DEMO_PASSWORD = "demo-pass-2026!"
DEFAULT_MEMBER_COUNT = 200
SEED = 2026
FIRST_MEMBER_NO = 1000000001

ROLE_LABELS = {
    roles.OPERATOR: _("オペレーター"),
    roles.SUPERVISOR: _("スーパーバイザー"),
    roles.PRIVACY_OFFICER: _("個人情報保護管理者"),
}


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    last_name: str
    first_name: str


DEMO_USERS = (
    DemoUser("operator", roles.OPERATOR, "山本", "直子"),
    DemoUser("operator2", roles.OPERATOR, "中村", "健太"),
    DemoUser("supervisor", roles.SUPERVISOR, "小林", "誠"),
    DemoUser("supervisor2", roles.SUPERVISOR, "加藤", "由美"),
    DemoUser("privacy_officer", roles.PRIVACY_OFFICER, "吉田", "恵子"),
)

# Fictional partner-card companies (Art. 10). The endpoints are local stubs, not real services.
# The category ① items partner cards usually share: name, reading, address and contact.
NAME_AND_CONTACT_ITEMS = (
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "postal_code",
    "prefecture",
    "city",
    "address_line",
    "phone",
    "email",
)
DEMO_AFFILIATES = (
    {
        "code": "sakura-dept",
        "name": "さくら百貨店",
        "endpoint": "http://127.0.0.1:8765/",
        "basis": AffiliateBasis.CONSENT,
        "shared_items": list(NAME_AND_CONTACT_ITEMS),
        "product_name": "さくら百貨店カード",
    },
    {
        "code": "minato-air",
        "name": "みなとエアライン",
        "endpoint": "http://127.0.0.1:8766/",
        "basis": AffiliateBasis.JOINT_USE,
        "shared_items": ["birth_date", *NAME_AND_CONTACT_ITEMS],
        "product_name": "みなとエアライン マイルカード",
    },
)

COLLECTOR = "ひかり債権管理回収株式会社"
PRINTER = "あおば情報印刷株式会社"
DEMO_CONTRACTORS = (
    {"name": COLLECTOR, "business": "延滞債権の督促・回収業務", "address": "東京都港区芝浦9-9-9"},
    {"name": PRINTER, "business": "利用明細書の印刷・発送業務", "address": "埼玉県川口市本町9-9-9"},
)

# (prefecture, city, first three digits of its postal codes, area code). Tokyo appears more
# often, as it does in a card company's member base.
PLACES = (
    ("北海道", "札幌市中央区", "060", "011"),
    ("宮城県", "仙台市青葉区", "980", "022"),
    ("埼玉県", "さいたま市浦和区", "330", "048"),
    ("千葉県", "船橋市", "273", "047"),
    ("東京都", "新宿区", "160", "03"),
    ("東京都", "世田谷区", "154", "03"),
    ("東京都", "練馬区", "176", "03"),
    ("東京都", "中野区", "165", "03"),
    ("東京都", "八王子市", "192", "042"),
    ("神奈川県", "横浜市港北区", "222", "045"),
    ("神奈川県", "川崎市中原区", "211", "044"),
    ("新潟県", "新潟市中央区", "951", "025"),
    ("静岡県", "静岡市葵区", "420", "054"),
    ("愛知県", "名古屋市中区", "460", "052"),
    ("京都府", "京都市左京区", "606", "075"),
    ("大阪府", "大阪市北区", "530", "06"),
    ("大阪府", "堺市堺区", "590", "072"),
    ("兵庫県", "神戸市中央区", "650", "078"),
    ("広島県", "広島市中区", "730", "082"),
    ("福岡県", "福岡市博多区", "812", "092"),
    ("沖縄県", "那覇市", "900", "098"),
)

OCCUPATIONS = (
    ("会社員", 45, "company"),
    ("公務員", 8, "public"),
    ("自営業", 10, "own"),
    ("会社役員", 5, "company"),
    ("パート・アルバイト", 12, "company"),
    ("派遣社員", 5, "company"),
    ("年金受給者", 8, ""),
    ("主婦・主夫", 5, ""),
    ("学生", 2, ""),
)
OWN_BUSINESSES = ("商店", "工務店", "歯科医院", "税理士事務所", "食堂", "美容室")
EMAIL_DOMAINS = ("example.jp", "example.co.jp", "example.ne.jp", "example.com")

CONTACT_SUMMARIES = (
    (ContactChannel.PHONE, "住所変更の手続き方法について問い合わせ。Webでの変更方法を案内した。"),
    (ContactChannel.PHONE, "利用明細に覚えのない請求があるとの申出。加盟店名と利用日を案内し了承を得た。"),
    (ContactChannel.PHONE, "支払日と引落口座の確認。"),
    (ContactChannel.PHONE, "カードの紛失による利用停止と再発行の依頼。"),
    (ContactChannel.VISIT, "窓口にて利用限度額の増額について相談。審査手続きを案内した。"),
    (ContactChannel.MAIL, "営業案内の送付先変更の依頼書を受領。"),
    (ContactChannel.EMAIL, "ポイント残高の照会。回答済み。"),
    (ContactChannel.WEB, "会員サイトのログインができないとの問い合わせ。パスワード再設定を案内した。"),
)


def _weighted(rng: random.Random, choices):
    return rng.choices([c[0] for c in choices], weights=[c[1] for c in choices], k=1)[0]


def member_no_for(index: int) -> str:
    return f"{FIRST_MEMBER_NO + index - 1:010d}"


def contract_no_for(index: int, n: int) -> str:
    """Contract numbers follow the members' order, so reruns and other seeds never clash."""
    return f"C{100000000 + index * 10 + n:09d}"


def _rng(index: int, salt: int = 0) -> random.Random:
    return random.Random(SEED * 1_000_003 + index * 17 + salt)


@lru_cache(maxsize=1)
def _shared_faker() -> Faker:
    return Faker("ja_JP")  # building one takes ~50 ms: reseed a single instance per member


def _faker(index: int) -> Faker:
    fake = _shared_faker()
    fake.seed_instance(SEED + index)
    return fake


def _ascii(value: str) -> str:
    return re.sub(r"[^a-z0-9]", "", value.lower())


def member_profile(index: int) -> dict:
    """Category ① data of demo member ``index`` (1-based); the same on every run and machine.

    Names come from Faker's (kanji, kana, romaji) pairs, so the reading always belongs to the
    name; birth dates are fixed dates of adults (not derived from today).
    """
    rng = _rng(index)
    fake = _faker(index)
    gender = rng.choices([Gender.MALE, Gender.FEMALE, Gender.UNSPECIFIED], weights=[48, 48, 4])[0]
    family, family_kana, family_romaji = fake.last_name_pair()
    if gender == Gender.MALE:
        given, given_kana, given_romaji = fake.first_name_male_pair()
    elif gender == Gender.FEMALE:
        given, given_kana, given_romaji = fake.first_name_female_pair()
    else:
        given, given_kana, given_romaji = fake.first_name_pair()
    prefecture, city, postal3, area = rng.choice(PLACES)
    address_line = f"{rng.randint(1, 5)}-{rng.randint(1, 30)}-{rng.randint(1, 20)}"
    if rng.random() < 0.5:
        address_line += f" {fake.building_name()}{fake.town()}{rng.randint(1, 9)}{rng.randint(1, 12):02d}"
    if rng.random() < 0.75:
        phone = rng.choice(("090", "080", "070")) + f"{rng.randint(0, 99999999):08d}"
    else:
        local_len = 10 - len(area)
        phone = (
            area + str(rng.randint(2, 9)) + f"{rng.randint(0, 10 ** (local_len - 1) - 1):0{local_len - 1}d}"
        )
    email = ""
    if rng.random() < 0.85:
        email = f"{_ascii(given_romaji)}.{_ascii(family_romaji)}{index}@{rng.choice(EMAIL_DOMAINS)}"
    occupation = _weighted(rng, OCCUPATIONS)
    employer_kind = next(kind for name, _weight, kind in OCCUPATIONS if name == occupation)
    employer = {
        "company": fake.company(),
        "public": f"{prefecture}庁",
        "own": f"{family}{rng.choice(OWN_BUSINESSES)}",
        "": "",
    }[employer_kind]
    return {
        "member_no": member_no_for(index),
        "family_name": family,
        "given_name": given,
        "family_name_kana": family_kana,
        "given_name_kana": given_kana,
        "birth_date": date(rng.randint(1945, 2004), rng.randint(1, 12), rng.randint(1, 28)),
        "gender": gender,
        "postal_code": postal3 + f"{rng.randint(0, 9999):04d}",
        "prefecture": prefecture,
        "city": city + fake.town(),
        "address_line": address_line,
        "phone": phone,
        "email": email,
        "occupation": occupation,
        "employer_name": employer,
        "household": rng.choice(Household.values),
        "housing": rng.choice(Housing.values),
        "transaction_purpose": rng.choices(TransactionPurpose.values, weights=[80, 8, 10, 2])[0],
        "status": MemberStatus.APPLICANT,
    }


# --- Context --------------------------------------------------------------------------------


@dataclass
class Login:
    username: str
    role: str
    password: str
    created: bool
    totp_secret: str = ""  # base32 key of the user's authenticator (roles with a second factor)
    totp_uri: str = ""


@dataclass
class DemoContext:
    """What the sections share: options, the acting users and what earlier sections made."""

    member_count: int = DEFAULT_MEMBER_COUNT
    password: str = DEFAULT_DEMO_PASSWORD
    today: date = field(default_factory=timezone.localdate)
    now: datetime = field(default_factory=timezone.now)
    users: dict = field(default_factory=dict)
    logins: list[Login] = field(default_factory=list)
    affiliates: dict[str, Affiliate] = field(default_factory=dict)
    contractors: dict[str, Contractor] = field(default_factory=dict)
    purposes: dict[str, Purpose] = field(default_factory=dict)
    consent_version: ConsentVersion | None = None

    def operator_for(self, index: int):
        return self.users["operator" if index % 2 else "operator2"]

    def supervisor_for(self, index: int):
        return self.users["supervisor" if index % 3 else "supervisor2"]


# --- Sections -------------------------------------------------------------------------------


def seed_users(ctx: DemoContext) -> int:
    """One login per role; existing users (and their passwords) are left as they are."""
    User = get_user_model()
    created_count = 0
    for spec in DEMO_USERS:
        user = User.objects.filter(username=spec.username).first()
        created = user is None
        if created:
            user = create_staff_user(
                username=spec.username,
                role=spec.role,
                password=ctx.password,
                last_name=spec.last_name,
                first_name=spec.first_name,
            )
            created_count += 1
        group = Group.objects.get(name=spec.role)
        if not user.groups.filter(pk=group.pk).exists():
            user.groups.add(group)
        user = User.objects.get(pk=user.pk)  # fresh permission cache
        ctx.users[spec.username] = user
        login = Login(spec.username, spec.role, ctx.password, created)
        if twofactor.needs_otp(user):
            # Development only: a ready authenticator key, printed so `make run` users can log in.
            device = twofactor.confirmed_device(user) or twofactor.create_confirmed_device(user)
            login.totp_secret = twofactor.secret_text(device)
            login.totp_uri = device.config_url
        ctx.logins.append(login)
    return created_count


def seed_affiliates(ctx: DemoContext) -> int:
    created = 0
    for spec in DEMO_AFFILIATES:
        affiliate = Affiliate.objects.filter(code=spec["code"]).first()
        if affiliate is None:
            fields = {key: value for key, value in spec.items() if key != "product_name"}
            affiliate = services.save_affiliate(
                actor=ctx.users["supervisor"], reason="提携カードの提携先を登録（デモ）", **fields
            )
            created += 1
        ctx.affiliates[spec["code"]] = affiliate
    return created


def seed_contractors(ctx: DemoContext) -> int:
    created = 0
    for spec in DEMO_CONTRACTORS:
        contractor = Contractor.objects.filter(name=spec["name"]).first()
        if contractor is None:
            contractor = services.save_contractor(
                actor=ctx.users["supervisor"], reason="業務委託契約の締結（デモ）", **spec
            )
            created += 1
        ctx.contractors[spec["name"]] = contractor
    return created


def seed_members(ctx: DemoContext) -> int:
    """Members with consents, contracts, payments and the other categories of Art. 1(1)."""
    ctx.purposes = {p.code: p for p in Purpose.objects.all()}
    ctx.consent_version = services.current_consent_version(ctx.today)
    wanted = {member_no_for(i): i for i in range(1, ctx.member_count + 1)}
    existing = set(Member.objects.filter(member_no__in=wanted).values_list("member_no", flat=True))
    created = 0
    for member_no, index in wanted.items():
        if member_no in existing:
            continue
        with transaction.atomic():
            _seed_member(ctx, index)
        created += 1
    return created


SECTIONS: list[tuple[str, Callable[[DemoContext], int]]] = [
    ("users", seed_users),
    ("affiliates", seed_affiliates),
    ("contractors", seed_contractors),
    ("members", seed_members),
]


def seed(
    *,
    member_count: int = DEFAULT_MEMBER_COUNT,
    password: str = DEFAULT_DEMO_PASSWORD,
    sections: list[tuple[str, Callable[[DemoContext], int]]] | None = None,
):
    """Run every section (``SECTIONS`` unless given); returns the context and {section: rows created}."""
    ctx = DemoContext(member_count=member_count, password=password)
    created = {name: section(ctx) for name, section in (SECTIONS if sections is None else sections)}
    return ctx, created


# --- One member -----------------------------------------------------------------------------

# Scenarios by member index, so a small seed (as in tests) still shows each of them.
PENDING, DECLINED, CONSENT_REFUSED, ENDED, DELINQUENT = (
    "pending",
    "declined",
    "consent_refused",
    "ended",
    "delinquent",
)


def scenario_of(index: int) -> str:
    if index % 100 == 20:
        return CONSENT_REFUSED  # refused the bureau consent: declined under Art. 5
    if index % 20 == 7:
        return DECLINED
    if index % 25 == 13:
        return PENDING
    if index % 20 == 11:
        return ENDED
    if index % 30 == 9:
        return DELINQUENT
    return ""


def partner_affiliate_code(index: int) -> str | None:
    """About 20% hold a partner card (提携カード)."""
    return {1: DEMO_AFFILIATES[0]["code"], 6: DEMO_AFFILIATES[1]["code"]}.get(index % 10)


def _seed_member(ctx: DemoContext, index: int) -> Member:
    rng = _rng(index, salt=1)
    operator = ctx.operator_for(index)
    supervisor = ctx.supervisor_for(index)
    scenario = scenario_of(index)
    member = services.create_member(actor=operator, reason="申込書の受付（デモ）", **member_profile(index))

    _seed_consents(ctx, member, rng, operator, refuse_bureau=scenario == CONSENT_REFUSED)
    _seed_identity_document(member, rng, operator, index)

    contracts = _apply(ctx, member, rng, operator, index, scenario)
    for contract, outcome in contracts:
        if outcome == PENDING:
            continue
        if outcome in (DECLINED, CONSENT_REFUSED):
            services.decide_application(
                contract,
                approve=False,
                actor=supervisor,
                reason=DeclineReason.CONSENT_REFUSED
                if outcome == CONSENT_REFUSED
                else rng.choice([DeclineReason.CREDIT_JUDGEMENT, DeclineReason.IDENTITY_UNVERIFIED]),
            )
            continue
        decided_on = min(contract.applied_on + timedelta(days=rng.randint(3, 14)), ctx.today)
        services.decide_application(contract, approve=True, actor=supervisor, decided_on=decided_on)
        if outcome == ENDED:
            services.end_contract(contract, actor=operator, reason="会員からの解約申出（デモ）")
    formed = [c for c, outcome in contracts if outcome not in (PENDING, DECLINED, CONSENT_REFUSED)]
    if scenario == ENDED:
        member.refresh_from_db()
        services.update_member(
            member, actor=operator, reason="全契約の終了により退会（デモ）", status=MemberStatus.CLOSED
        )

    if formed and (index % 4 == 0 or scenario == DELINQUENT):
        _seed_payments(ctx, formed[0], rng, supervisor, delinquent=scenario == DELINQUENT)
    if scenario == DELINQUENT:
        services.entrust(
            actor=supervisor,
            contractor=ctx.contractors[COLLECTOR],
            member=member,
            purpose="延滞債権の督促",
            items=["family_name", "given_name", "postal_code", "prefecture", "city", "address_line", "phone"],
            provided_on=ctx.today - timedelta(days=rng.randint(3, 20)),
            reason="延滞3か月により回収業務を委託（デモ）",
        )
    if index % 50 == 2:
        services.entrust(
            actor=supervisor,
            contractor=ctx.contractors[PRINTER],
            member=member,
            purpose="利用明細書の印刷・発送",
            items=["family_name", "given_name", "postal_code", "prefecture", "city", "address_line"],
            provided_on=ctx.today.replace(day=1),
        )
    _seed_contacts(ctx, member, rng, operator, index)
    if index % 8 == 4:
        services.add_financial_declaration(
            actor=operator,
            member=member,
            annual_income=rng.randrange(2_500_000, 12_000_000, 10_000),
            assets=rng.randrange(0, 20_000_000, 100_000),
            debts=rng.randrange(0, 5_000_000, 100_000),
            declared_on=ctx.today - timedelta(days=rng.randint(10, 300)),
            note="申込時の自己申告",
        )
    if index % 100 in (17, 77):
        _seed_public_record(ctx, member, rng, operator, index)
    return member


def _seed_consents(
    ctx: DemoContext, member: Member, rng: random.Random, actor, *, refuse_bureau: bool
) -> None:
    """All five purposes; a share refuse marketing (Art. 2(1)①②) or research (③)."""
    refuse_own = rng.random() < 0.15
    granted = {
        "credit": True,
        "marketing_own": not refuse_own,
        "marketing_partner": not refuse_own and rng.random() > 0.12,
        "research": rng.random() > 0.1,
        "bureau": not refuse_bureau,
    }
    source = rng.choices([ConsentSource.APPLICATION, ConsentSource.WEB], weights=[70, 30])[0]
    for code, purpose in ctx.purposes.items():
        services.set_consent(
            member,
            purpose=purpose,
            granted=granted.get(code, True),
            actor=actor,
            source=source,
            version=ctx.consent_version,
        )


def _seed_identity_document(member: Member, rng: random.Random, actor, index: int) -> None:
    kind = rng.choices(
        [
            IdentityDocumentKind.DRIVER_LICENSE,
            IdentityDocumentKind.PASSPORT,
            IdentityDocumentKind.INSURANCE_CARD,
            IdentityDocumentKind.RESIDENCE_CARD,
        ],
        weights=[65, 12, 18, 5],
    )[0]
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    note = ""
    if kind == IdentityDocumentKind.DRIVER_LICENSE:
        number = f"{rng.randint(10, 99)}{rng.randint(0, 10**10 - 1):010d}{rng.choice(letters)}"
    elif kind == IdentityDocumentKind.PASSPORT:
        number = f"T{rng.choice(letters)}{rng.randint(0, 10**7 - 1):07d}"
    elif kind == IdentityDocumentKind.RESIDENCE_CARD:
        number = f"{rng.choice(letters)}{rng.choice(letters)}{rng.randint(0, 10**8 - 1):08d}{rng.choice(letters)}{rng.choice(letters)}"
    else:
        # Health Insurance Act: the insured's symbol and number may not be asked for or kept.
        number = ""
        note = "記号・番号は告知要求制限により記録しない"
    assert not looks_like_individual_number(number)
    services.add_identity_document(actor=actor, member=member, kind=kind, number=number, note=note)


PRODUCTS = {
    ContractKind.SHOPPING: (
        ("コンセントカード クラシック", 300_000, 1_000_000),
        ("コンセントカード ゴールド", 500_000, 2_000_000),
    ),
    ContractKind.CASHING: (("キャッシングサービス", 100_000, 500_000),),
    ContractKind.CARD_LOAN: (("カードローン ゆとりプラン", 300_000, 2_000_000),),
    ContractKind.INSTALLMENT: (
        ("個別クレジット（家電購入）", 100_000, 600_000),
        ("個別クレジット（リフォーム）", 500_000, 3_000_000),
    ),
}


def _apply(ctx: DemoContext, member: Member, rng: random.Random, actor, index: int, scenario: str):
    """Applications (申込) with the outcome each will get: 1–3 per member."""
    single = scenario in (PENDING, DECLINED, CONSENT_REFUSED)
    count = 1 if single else rng.choices([1, 2, 3], weights=[55, 35, 10])[0]
    affiliate_code = partner_affiliate_code(index)
    result = []
    for n in range(1, count + 1):
        affiliate = None
        if n == 1 and affiliate_code:
            affiliate = ctx.affiliates[affiliate_code]
            spec = next(a for a in DEMO_AFFILIATES if a["code"] == affiliate_code)
            kind, product, low, high = ContractKind.SHOPPING, spec["product_name"], 300_000, 1_000_000
        else:
            kind = ContractKind.SHOPPING if n == 1 else rng.choice(list(PRODUCTS)[1:])
            product, low, high = rng.choice(PRODUCTS[kind])
        outcome = scenario if n == 1 and scenario in (PENDING, DECLINED, CONSENT_REFUSED, ENDED) else ""
        if n > 1:
            outcome = (
                ENDED if scenario == ENDED else rng.choices(["", DECLINED, ENDED], weights=[85, 8, 7])[0]
            )
        contract = services.apply_for_contract(
            actor=actor,
            member=member,
            kind=kind,
            product_name=product,
            applied_on=ctx.today
            - timedelta(days=rng.randint(1, 28) if outcome == PENDING else rng.randint(400, 650)),
            affiliate=affiliate,
            credit_limit=rng.randrange(low, high + 1, 100_000),
            installments=rng.choice([6, 10, 12, 24, 36]) if kind == ContractKind.INSTALLMENT else 1,
            settlement_account=f"{rng.randint(1, 9999):04d}-{rng.randint(1, 999):03d}-{rng.randint(0, 9999999):07d}",
            contract_no=contract_no_for(index, n),
        )
        result.append((contract, outcome))
    return result


def _months_back(today: date, count: int) -> list[date]:
    """The first days of the ``count`` months before this one, oldest first."""
    months = []
    year, month = today.year, today.month
    for _i in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        months.append(date(year, month, 1))
    return months[::-1]


def _seed_payments(
    ctx: DemoContext, contract: Contract, rng: random.Random, actor, *, delinquent: bool
) -> None:
    """12 months of CIC payment status (入金状況): mostly ``$``, some ``P``/``A``."""
    balance = rng.randrange(50_000, 400_000, 1_000)
    months = _months_back(ctx.today, 12)
    for n, month in enumerate(months):
        billed = rng.randrange(5_000, 60_000, 100)
        late = len(months) - n  # 3, 2, 1 for the last three months
        if delinquent and late <= 3:
            code = PaymentStatus.PARTLY if late == 3 else PaymentStatus.UNPAID_MEMBER
        else:
            code = rng.choices(
                [PaymentStatus.PAID, PaymentStatus.PARTLY, PaymentStatus.NOT_BILLED], weights=[92, 4, 4]
            )[0]
        if code == PaymentStatus.NOT_BILLED:
            billed = paid = 0
        elif code == PaymentStatus.PARTLY:
            paid = billed // 2
        elif code == PaymentStatus.UNPAID_MEMBER:
            paid = 0
        else:
            paid = billed
        balance = max(balance - paid + rng.randrange(0, 40_000, 1_000), 0)
        days_overdue = 0
        if code in (PaymentStatus.PARTLY, PaymentStatus.UNPAID_MEMBER):
            days_overdue = 30 * (4 - late) if delinquent and late <= 3 else rng.randint(5, 25)
        services.add_payment_record(
            actor=actor,
            contract=contract,
            month=month,
            status_code=code,
            billed_amount=billed,
            paid_amount=paid,
            balance=balance,
            days_overdue=days_overdue,
        )


def _seed_contacts(ctx: DemoContext, member: Member, rng: random.Random, actor, index: int) -> None:
    count = rng.choices([0, 1, 2], weights=[45, 45, 10])[0]
    for n in range(count):
        channel, summary = rng.choice(CONTACT_SUMMARIES)
        at = ctx.now - timedelta(days=rng.randint(1, 180), minutes=rng.randint(0, 600))
        recording = f"REC-{at:%Y%m%d}-{index:04d}{n}" if channel == ContactChannel.PHONE else ""
        services.add_contact_record(
            actor=actor, member=member, channel=channel, summary=summary, at=at, recording_ref=recording
        )


def _seed_public_record(ctx: DemoContext, member: Member, rng: random.Random, actor, index: int) -> None:
    if index % 100 == 17:
        source = PublicRecord.Source.DIRECTORY
        summary = "電話帳掲載の住所・電話番号が届出内容と一致することを確認。"
    else:
        source = PublicRecord.Source.GAZETTE
        summary = "官報に同姓同名・同一生年月日の公告を確認。本人との同一性を確認中。"
    services.add_public_record(
        actor=actor,
        member=member,
        source=source,
        summary=summary,
        found_on=ctx.today - timedelta(days=rng.randint(30, 200)),
    )
