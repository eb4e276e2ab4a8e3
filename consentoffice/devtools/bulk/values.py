"""The values of the rows: COPY text escapes, dates, and the pools drawn from at random (names
normalized as ``members.normalize`` does; encrypted fields from a pool encrypted once per run,
docs/postgresql.md, "The bulk seed")."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime

from faker import Faker

from consentoffice.core.crypto import encrypt
from consentoffice.core.dates import add_months
from consentoffice.devtools.bulk.tables import ENCRYPTED_POOL_SIZE, SEED
from members import normalize

BANKS = ("みずほ銀行", "三菱UFJ銀行", "三井住友銀行", "りそな銀行", "ゆうちょ銀行", "横浜銀行")
BRANCHES = ("本店営業部", "新宿支店", "渋谷支店", "梅田支店", "名古屋支店", "博多支店")

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"


def esc(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


def iso(moment: datetime) -> str:
    return moment.isoformat()


def month_starts_before(today: date, count: int) -> list[date]:
    first = today.replace(day=1)
    return [add_months(first, -n) for n in range(count, 0, -1)]


@dataclass
class Pools:
    """Values drawn at random per row; built once per run (names from Faker ``ja_JP``)."""

    family: list[tuple[str, str, str]]
    male: list[tuple[str, str, str]]
    female: list[tuple[str, str, str]]
    towns: list[str]
    buildings: list[str]
    companies: list[str]
    accounts: list[str]
    incomes: list[str]
    document_numbers: list[str]
    payment_profiles: list[list[tuple[int, int, int, str, int]]]
    delinquent_profiles: list[list[tuple[int, int, int, str, int]]]


def _name_pair(pair) -> tuple[str, str, str]:
    kanji, kana, romaji = pair
    return normalize.text(kanji), normalize.validate_kana(kana), romaji.lower()


def build_pools(rng: random.Random, *, encrypted: int = ENCRYPTED_POOL_SIZE) -> Pools:
    fake = Faker("ja_JP")
    fake.seed_instance(SEED)
    family = sorted({_name_pair(fake.last_name_pair()) for _ in range(4000)})
    male = sorted({_name_pair(fake.first_name_male_pair()) for _ in range(3000)})
    female = sorted({_name_pair(fake.first_name_female_pair()) for _ in range(3000)})
    towns = sorted({normalize.text(fake.town()) for _ in range(2000)})
    buildings = sorted({normalize.text(fake.building_name()) for _ in range(200)})
    companies = sorted({normalize.text(fake.company()) for _ in range(2000)})
    accounts = [
        encrypt(f"{rng.choice(BANKS)} {rng.choice(BRANCHES)} 普通 {rng.randint(1000000, 9999999)}")
        for _ in range(encrypted)
    ]
    incomes = [encrypt(str(rng.randrange(1_500_000, 15_000_000, 10_000))) for _ in range(encrypted)]
    document_numbers = [
        encrypt(f"{rng.randint(10, 99)}{rng.randint(0, 10**10 - 1):010d}") for _ in range(encrypted)
    ]
    return Pools(
        family=family,
        male=male,
        female=female,
        towns=towns,
        buildings=buildings,
        companies=companies,
        accounts=accounts,
        incomes=incomes,
        document_numbers=document_numbers,
        payment_profiles=[_payment_profile(rng, delinquent=False) for _ in range(1000)],
        delinquent_profiles=[_payment_profile(rng, delinquent=True) for _ in range(100)],
    )


def _payment_profile(rng: random.Random, *, delinquent: bool) -> list[tuple[int, int, int, str, int]]:
    """12 months of (billed, paid, balance, CIC status code, days overdue), oldest first."""
    balance = rng.randrange(50_000, 400_000, 1_000)
    rows = []
    for n in range(12):
        billed = rng.randrange(5_000, 60_000, 100)
        late = 12 - n
        if delinquent and late <= 3:
            code = "P" if late == 3 else "A"
        else:
            code = rng.choices(["$", "P", "-"], weights=[92, 4, 4])[0]
        paid = {"-": 0, "P": billed // 2, "A": 0}.get(code, billed)
        if code == "-":
            billed = 0
        balance = max(balance - paid + rng.randrange(0, 40_000, 1_000), 0)
        days = 0
        if code in ("P", "A"):
            days = 30 * (4 - late) if delinquent and late <= 3 else rng.randint(5, 25)
        rows.append((billed, paid, balance, code, days))
    return rows
