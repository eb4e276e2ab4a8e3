"""A large, realistic data set for benchmarks (``manage.py seed_bulk``), written with COPY.

Services write one row at a time with its history row, checks and locks: right for real work,
far too slow for a million members. This loader writes the same shapes directly with PostgreSQL
``COPY`` (psycopg 3 ``cursor.copy``) and writes each history row in the same pass, so the data
set looks as if the services had made it: every row has a ``+`` history row naming a bulk
operator and a reason, tickets have one history row per status they went through.

What keeps the rows valid without the services:

- category ① values come from the same ``members.normalize`` functions (kana, names, phone and
  postal code are normalized when the pools are built), and ``search_kana``/``search_name`` are
  derived as ``Member.refresh_search_keys`` derives them;
- states are the model choices and the check constraints hold by construction (a formed
  contract has a contract date, an ended one an end date, a closed request an outcome, a refusal
  a ground, the approver is never the preparer);
- encrypted fields hold real Fernet ciphertext from ``consentoffice.core.crypto.encrypt``. Encrypting
  millions of values one by one costs minutes, so each encrypted field draws from a pool of
  ``ENCRYPTED_POOL_SIZE`` values encrypted once per run: the database holds ciphertext only, but
  two members may share the same (fictional) account or document number.

Foreign keys are guaranteed by construction. When the database user is a superuser the load sets
``session_replication_role = replica`` so that PostgreSQL skips the per-row foreign-key triggers,
and on large loads the non-unique indexes of the loaded tables are dropped first and built again
at the end (unique indexes and constraints stay in place and are checked row by row).

Bulk members have member numbers from ``2000000001`` (the demo seed uses ``1000000001``…), bulk
contracts ``K…`` numbers, bulk users ``bulk-…`` user names; that is how ``bulk_present`` knows a
data set is already there.
"""

from __future__ import annotations

import json
import queue
import random
import threading
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import psycopg
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.utils import timezone
from faker import Faker

from bureaus.fileformat import IDENTITY_FIELDS
from consentoffice.core import roles
from consentoffice.core.crypto import encrypt
from consentoffice.core.dates import add_months, period_end
from consentoffice.core.history import save_tracked
from members import normalize
from members.demo import (
    CONTACT_SUMMARIES,
    EMAIL_DOMAINS,
    NAME_AND_CONTACT_ITEMS,
    OCCUPATIONS,
    OWN_BUSINESSES,
    PLACES,
)
from members.models import (
    CATEGORY_1_FIELDS,
    Affiliate,
    AffiliateBasis,
    ConsentVersion,
    Member,
    Purpose,
)

FIRST_BULK_MEMBER_NO = 2_000_000_001
LAST_BULK_MEMBER_NO = 2_999_999_999
CHUNK_MEMBERS = 5_000
ENCRYPTED_POOL_SIZE = 2_048
TICKET_EVERY = 33  # about 3 % of members have a ticket
PARTNER_EVERY = 10  # a tenth of members hold a partner card
BIG_LOAD = 50_000
WRITERS = 2  # from this many members on, indexes are dropped and built again
REASON = "seed_bulk: ベンチマーク用一括投入"
SEED = 7

BULK_OPERATORS = 20
BULK_SUPERVISORS = 3
BULK_AFFILIATES = (
    ("bulk-aurora", "オーロラ百貨店", "オーロラ百貨店カード", AffiliateBasis.CONSENT),
    ("bulk-kaze-rail", "かぜ鉄道", "かぜ鉄道ポイントカード", AffiliateBasis.JOINT_USE),
)
AFFILIATE_SHARED_ITEMS = list(NAME_AND_CONTACT_ITEMS)
CIC_NAME = "株式会社シー・アイ・シー"
PRODUCTS = {
    "shopping": "スタンダードカード",
    "cashing": "キャッシングサービス",
    "card_loan": "カードローン",
    "installment": "ショッピングクレジット",
}
BANKS = ("みずほ銀行", "三菱UFJ銀行", "三井住友銀行", "りそな銀行", "ゆうちょ銀行", "横浜銀行")
BRANCHES = ("本店営業部", "新宿支店", "渋谷支店", "梅田支店", "名古屋支店", "博多支店")

# The tables loaded, in foreign-key order; each with the columns written (history tables take the
# same columns plus HISTORY_COLUMNS, except where the model excludes some from its history).
TABLES: dict[str, tuple[str, ...]] = {
    "members_member": (
        "id",
        "member_no",
        *CATEGORY_1_FIELDS,
        "status",
        "provision_stopped",
        "created_at",
    ),
    "members_contract": (
        "id",
        "contract_no",
        "kind",
        "product_name",
        "applied_on",
        "contracted_on",
        "credit_limit",
        "installments",
        "settlement_account",
        "status",
        "ended_on",
        "decline_reason",
        "affiliate_id",
        "consent_version_id",
        "member_id",
    ),
    "members_paymentrecord": (
        "id",
        "month",
        "billed_amount",
        "paid_amount",
        "balance",
        "status_code",
        "days_overdue",
        "contract_id",
    ),
    "members_consent": ("id", "granted", "recorded_at", "source", "version_id", "member_id", "purpose_id"),
    "members_financialdeclaration": (
        "id",
        "declared_on",
        "annual_income",
        "assets",
        "debts",
        "note",
        "member_id",
    ),
    "members_identitydocument": (
        "id",
        "kind",
        "number",
        "verified_by_id",
        "verified_at",
        "note",
        "member_id",
    ),
    "members_contactrecord": (
        "id",
        "at",
        "channel",
        "inbound",
        "summary",
        "recording_ref",
        "recorded_by_id",
        "member_id",
    ),
    "members_provisionrecord": (
        "id",
        "recipient_kind",
        "recipient",
        "items",
        "provided_on",
        "basis",
        "consent_recorded",
        "kept_until",
        "reference",
        "member_id",
    ),
    "members_partnersyncevent": (
        "id",
        "event_id",
        "direction",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
        "occurred_at",
        "sent_at",
        "affiliate_id",
        "member_id",
    ),
    "bureaus_submission": (
        "id",
        "record_type",
        "event_date",
        "registered_until",
        "payload",
        "status",
        "response_code",
        "response_message",
        "answered_at",
        "created_at",
        "bureau_id",
        "contract_id",
        "inquiry_id",
        "member_id",
        "original_id",
        "batch_id",
    ),
    "requests_ticket": (
        "id",
        "number",
        "kind",
        "channel",
        "summary",
        "requester_type",
        "agent_name",
        "agent_document_issued_on",
        "agent_verified",
        "identity_method",
        "identity_documents_seen",
        "identity_verified_at",
        "received_at",
        "due_at",
        "status",
        "outcome",
        "refusal_ground",
        "outcome_reason",
        "approved_at",
        "closed_at",
        "response_method",
        "fee_amount",
        "fee_paid_on",
        "on_hold",
        "hold_reason",
        "hold_started_at",
        "held_seconds",
        "escalated_at",
        "version",
        "approver_id",
        "assignee_id",
        "identity_verified_by_id",
        "member_id",
        "prepared_by_id",
    ),
    "members_accesslog": ("id", "action", "at", "ip_address", "path", "detail", "member_id", "user_id"),
}
# Columns of the live table that the history table does not keep (``HistoricalRecords(excluded_fields=…)``).
LIVE_ONLY_COLUMNS = {"members_member": ("search_kana", "search_name", "updated_at")}
HISTORY_COLUMNS = ("history_id", "history_date", "history_change_reason", "history_type", "history_user_id")
NO_HISTORY = {"members_accesslog"}


def history_table(table: str) -> str:
    app, model = table.split("_", 1)
    return f"{app}_historical{model}"


HISTORY_TABLE = {table: history_table(table) for table in TABLES}


def all_tables() -> list[str]:
    tables = []
    for table in TABLES:
        tables.append(table)
        if table not in NO_HISTORY:
            tables.append(history_table(table))
    return tables


# --- values -----------------------------------------------------------------------------------

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


# --- the load ---------------------------------------------------------------------------------


@dataclass
class Reference:
    """Rows the load points at: users, affiliates, purposes, the consent version, bureaus."""

    operators: list[int]
    supervisors: list[int]
    affiliates: list[tuple[int, str]]
    purposes: dict[str, int]
    version_id: int
    bureaus: dict[str, int]


def ensure_reference_rows() -> Reference:
    """Bulk users per role (no usable password: the bench logs them in directly) and affiliates."""
    User = get_user_model()
    groups = {g.name: g for g in Group.objects.filter(name__in=roles.ROLES)}

    def user(username: str, role: str, last: str, first: str) -> int:
        found = User.objects.filter(username=username).first()
        if found is None:
            found = User(username=username, is_staff=True, last_name=last, first_name=first)
            found.set_unusable_password()
            found.save()
            found.groups.add(groups[role])
        return found.pk

    operators = [
        user(f"bulk-operator-{n:02d}", roles.OPERATOR, "一括", f"オペレーター{n}")
        for n in range(1, BULK_OPERATORS + 1)
    ]
    supervisors = [
        user(f"bulk-supervisor-{n}", roles.SUPERVISOR, "一括", f"スーパーバイザー{n}")
        for n in range(1, BULK_SUPERVISORS + 1)
    ]
    user("bulk-privacy-officer", roles.PRIVACY_OFFICER, "一括", "管理者")
    actor = User.objects.get(pk=supervisors[0])
    affiliates = []
    for code, name, product, basis in BULK_AFFILIATES:
        affiliate = Affiliate.objects.filter(code=code).first()
        if affiliate is None:
            affiliate = save_tracked(
                Affiliate(
                    code=code,
                    name=name,
                    endpoint="http://127.0.0.1:9/",
                    shared_secret=f"bulk-secret-{code}",
                    basis=basis,
                    shared_items=AFFILIATE_SHARED_ITEMS,
                    active=True,
                ),
                actor=actor,
                reason=REASON,
            )
        affiliates.append((affiliate.pk, product))
    version = (
        ConsentVersion.objects.filter(published_at__isnull=False).order_by("-effective_from", "-id").first()
    )
    from bureaus.models import Bureau

    return Reference(
        operators=operators,
        supervisors=supervisors,
        affiliates=affiliates,
        purposes=dict(Purpose.objects.values_list("code", "pk")),
        version_id=version.pk,
        bureaus=dict(Bureau.objects.values_list("code", "pk")),
    )


def bulk_present() -> bool:
    return Member.objects.filter(
        member_no__gte=str(FIRST_BULK_MEMBER_NO), member_no__lte=str(LAST_BULK_MEMBER_NO)
    ).exists()


def reset_tables() -> list[str]:
    """Every table of members, requests and bureaus data (and history), but not the reference rows
    the migrations create, affiliates or contractors: emptied with TRUNCATE."""
    keep = {
        "members_purpose",
        "members_historicalpurpose",
        "members_consentversion",
        "members_historicalconsentversion",
        "members_affiliate",
        "members_historicalaffiliate",
        "members_contractor",
        "members_historicalcontractor",
        "bureaus_bureau",
        "bureaus_historicalbureau",
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND "
            "(tablename LIKE 'members\\_%%' OR tablename LIKE 'requests\\_%%' OR tablename LIKE 'bureaus\\_%%')"
        )
        return sorted(t for (t,) in cursor.fetchall() if t not in keep)


def reset() -> None:
    tables = reset_tables()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE " + ", ".join(connection.ops.quote_name(t) for t in tables) + " RESTART IDENTITY"
        )


@dataclass
class Counters:
    next_id: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    ticket_seq: dict[str, int] = field(default_factory=dict)

    def take(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value


class Chunk:
    """Lines of one chunk per table; history lines built next to their live row."""

    def __init__(self, counters: Counters):
        self.lines: dict[str, list[str]] = defaultdict(list)
        self.counters = counters

    def add(
        self,
        table: str,
        values: list[str],
        *,
        history: list[tuple[list[str], str, str, int]] | None = None,
        at: str = "",
        user: int = 0,
    ) -> None:
        """``values`` in ``TABLES`` order. Without ``history`` the object gets one ``+`` history
        row dated ``at`` by ``user``; ``history`` holds (values, date, type, user) per history row."""
        row = "\t".join(values)
        self.lines[table].append(row + "\n")
        if table in NO_HISTORY:
            return
        htable = HISTORY_TABLE[table]
        ids = self.counters.next_id
        out = self.lines[htable]
        if history is None:
            hid = ids[htable]
            ids[htable] = hid + 1
            out.append(f"{row}\t{hid}\t{at}\t{REASON}\t+\t{user}\n")
            return
        for hvalues, hdate, htype, huser in history:
            hid = ids[htable]
            ids[htable] = hid + 1
            out.append("\t".join(hvalues) + f"\t{hid}\t{hdate}\t{REASON}\t{htype}\t{huser}\n")


def _psycopg_params() -> dict:
    params = connection.get_connection_params()
    return {k: v for k, v in params.items() if k not in ("cursor_factory", "context")}


class Writer(threading.Thread):
    """COPYs chunks on its own connection while the main thread builds the next chunk."""

    def __init__(self, columns: dict[str, tuple[str, ...]]):
        super().__init__(daemon=True)
        self.columns = columns
        self.queue: queue.Queue = queue.Queue(maxsize=1)
        self.error: BaseException | None = None
        self.conn = psycopg.connect(**_psycopg_params(), autocommit=False)
        with self.conn.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            self.superuser = bool(cursor.fetchone()[0])
            if self.superuser:
                cursor.execute("SET session_replication_role = replica")
        self.conn.commit()

    def run(self) -> None:
        while True:
            chunk = self.queue.get()
            if chunk is None:
                return
            if self.error is not None:
                continue
            try:
                with self.conn.cursor() as cursor:
                    for table, columns in self.columns.items():
                        lines = chunk.get(table)
                        if not lines:
                            continue
                        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                            copy.write("".join(lines))
                self.conn.commit()
            except BaseException as exc:  # reported by the main thread
                self.error = exc

    def put(self, chunk: dict[str, list[str]]) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(chunk)

    def finish(self) -> None:
        self.queue.put(None)
        self.join()
        self.conn.close()
        if self.error is not None:
            raise self.error


def copy_columns() -> dict[str, tuple[str, ...]]:
    columns: dict[str, tuple[str, ...]] = {}
    for table, cols in TABLES.items():
        columns[table] = cols + LIVE_ONLY_COLUMNS.get(table, ())
        if table not in NO_HISTORY:
            columns[history_table(table)] = cols + HISTORY_COLUMNS
    return columns


def _next_ids(tables: list[str]) -> dict[str, int]:
    ids = {}
    with connection.cursor() as cursor:
        for table in tables:
            key = "history_id" if "_historical" in table else "id"
            cursor.execute(f"SELECT COALESCE(MAX({key}), 0) + 1 FROM {table}")
            ids[table] = cursor.fetchone()[0]
    return ids


def _reset_sequences(tables: list[str]) -> None:
    with connection.cursor() as cursor:
        for table in tables:
            key = "history_id" if "_historical" in table else "id"
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, %s), (SELECT COALESCE(MAX({key}), 1) FROM {table}))",
                [table, key],
            )


def droppable_indexes(tables: list[str]) -> list[tuple[str, str]]:
    """(name, definition) of the non-unique indexes not backing a constraint on ``tables``."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = ANY(%s) AND indexdef NOT LIKE 'CREATE UNIQUE%%' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname",
            [tables],
        )
        return list(cursor.fetchall())


def build_indexes(definitions: list[str], sessions: int = WRITERS) -> None:
    """Build the dropped indexes again, ``sessions`` at a time (one sort per index)."""
    pending: queue.Queue = queue.Queue()
    for definition in definitions:
        pending.put(definition.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with psycopg.connect(**_psycopg_params(), autocommit=True) as conn:
                conn.execute("SET maintenance_work_mem = '256MB'")
                while True:
                    try:
                        statement = pending.get_nowait()
                    except queue.Empty:
                        return
                    conn.execute(statement)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(sessions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _ticket_seq_start() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT substring(number from 1 for 10), MAX(CAST(substring(number from 11) AS integer)) "
            "FROM requests_ticket WHERE number ~ '^T[0-9]{8}-[0-9]+$' GROUP BY 1"
        )
        return {prefix: last for prefix, last in cursor.fetchall()}


@dataclass
class LoadResult:
    members: int
    rows: dict[str, int]
    encrypted_pool_size: int
    dropped_indexes: int
    foreign_key_triggers_skipped: bool


def load(
    *,
    members: int,
    progress: Callable[[int], None] | None = None,
    stage: Callable[[str], None] | None = None,
    seed: int = SEED,
    chunk_members: int = CHUNK_MEMBERS,
) -> LoadResult:
    """Write ``members`` bulk members and everything held on them; returns the rows per table."""
    stage = stage or (lambda text: None)
    progress = progress or (lambda n: None)
    ref = ensure_reference_rows()
    first_index = _first_free_index()
    # Seeded per starting member, so a run is repeatable and an --append run differs from the first
    # (event ids are drawn from it).
    rng = random.Random(seed * 1_000_003 + first_index)
    stage("pools")
    pools = build_pools(rng)
    tables = all_tables()
    counters = Counters(next_id=_next_ids(tables), ticket_seq=_ticket_seq_start())
    indexes = droppable_indexes(tables) if members >= BIG_LOAD else []
    with connection.cursor() as cursor:
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(name)}")
    # Two PostgreSQL sessions take turns: parsing COPY input is the slow side on two cores.
    writers = [Writer(copy_columns()) for _ in range(WRITERS)]
    for writer in writers:
        writer.start()
    builder = RowBuilder(ref=ref, pools=pools, rng=rng, counters=counters, today=timezone.localdate())
    try:
        stage("rows")
        done = 0
        while done < members:
            size = min(chunk_members, members - done)
            chunk = Chunk(counters)
            for index in range(first_index + done, first_index + done + size):
                builder.member(chunk, index)
            for table, lines in chunk.lines.items():
                counters.rows[table] += len(lines)
            writers[(done // chunk_members) % len(writers)].put(chunk.lines)
            done += size
            progress(size)
        for writer in writers:
            writer.finish()
    finally:
        for writer in writers:
            if writer.is_alive():
                writer.queue.put(None)
                writer.join()
        if indexes:
            stage("indexes")
            build_indexes([definition for _name, definition in indexes])
    stage("sequences")
    _reset_sequences(tables)
    stage("analyze")
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {table}")
    return LoadResult(
        members=members,
        rows=dict(counters.rows),
        encrypted_pool_size=ENCRYPTED_POOL_SIZE,
        dropped_indexes=len(indexes),
        foreign_key_triggers_skipped=writers[0].superuser,
    )


def _first_free_index() -> int:
    last = (
        Member.objects.filter(
            member_no__gte=str(FIRST_BULK_MEMBER_NO), member_no__lte=str(LAST_BULK_MEMBER_NO)
        )
        .order_by("-member_no")
        .values_list("member_no", flat=True)
        .first()
    )
    return int(last) - FIRST_BULK_MEMBER_NO + 2 if last else 1


# --- one member and what is held on them ---------------------------------------------------------

CONTRACT_STATUS_WEIGHTS = (("formed", 75), ("ended", 12), ("declined", 5), ("applied", 8))
TICKET_KIND_WEIGHTS = (
    ("disclosure", 30),
    ("correction", 15),
    ("deletion", 8),
    ("usage_stop", 5),
    ("provision_stop", 5),
    ("marketing_stop", 12),
    ("inquiry", 20),
    ("opinion", 5),
)
TICKET_FINAL_STATES = (
    "closed",
    "received",
    "closed",
    "verifying",
    "closed",
    "in_progress",
    "closed",
    "pending_approval",
    "closed",
)
TICKET_STATUS_PATH = ("received", "verifying", "in_progress", "pending_approval", "closed")
OUTCOME_WEIGHTS = (("fulfilled", 70), ("partly", 12), ("refused", 8), ("withdrawn", 10))


class RowBuilder:
    def __init__(self, *, ref: Reference, pools: Pools, rng: random.Random, counters: Counters, today: date):
        self.ref = ref
        self.pools = pools
        self.rng = rng
        self.counters = counters
        self.today = today
        self.now = timezone.now()
        self.months = month_starts_before(today, 12)
        self.month_text = [m.isoformat() for m in self.months]
        # A history row of a monthly record is dated a few days after its month ends.
        self.month_history = [iso(self._at(add_months(m, 1) + timedelta(days=4), 3)) for m in self.months]
        self.cic = ref.bureaus.get("CIC")
        self.statuses = [s for s, _w in CONTRACT_STATUS_WEIGHTS]
        self.status_weights = [w for _s, w in CONTRACT_STATUS_WEIGHTS]
        self.ticket_kinds = [k for k, _w in TICKET_KIND_WEIGHTS]
        self.ticket_weights = [w for _k, w in TICKET_KIND_WEIGHTS]
        self.occupations = [o for o, _w, _k in OCCUPATIONS]
        self.occupation_weights = [w for _o, w, _k in OCCUPATIONS]
        self.employer_kind = {o: k for o, _w, k in OCCUPATIONS}
        self._iso_cache: dict[tuple[date, int], str] = {}

    @staticmethod
    def _at(day: date, hour: int) -> datetime:
        return datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)

    def _at_iso(self, day: date, hour: int) -> str:
        key = (day, hour)
        found = self._iso_cache.get(key)
        if found is None:
            found = self._iso_cache[key] = iso(self._at(day, hour))
        return found

    def _pick(self, items):
        return items[int(self.rng.random() * len(items))]

    # -- member
    def member(self, chunk: Chunk, index: int) -> None:
        rng = self.rng
        member_id = self.counters.take("members_member")
        member_no = str(FIRST_BULK_MEMBER_NO + index - 1)
        gender = rng.choices(("male", "female", "unspecified"), weights=(48, 48, 4))[0]
        family, family_kana, family_romaji = self._pick(self.pools.family)
        given_pool = self.pools.male if gender == "male" else self.pools.female
        if gender == "unspecified":
            given_pool = self.pools.male if rng.random() < 0.5 else self.pools.female
        given, given_kana, given_romaji = self._pick(given_pool)
        prefecture, city, postal3, area = self._pick(PLACES)
        if rng.random() < 0.75:
            phone = self._pick(("090", "080", "070")) + f"{rng.randrange(100_000_000):08d}"
        else:
            local = 10 - len(area)
            phone = area + str(rng.randint(2, 9)) + f"{rng.randrange(10 ** (local - 1)):0{local - 1}d}"
        address_line = f"{rng.randint(1, 5)}-{rng.randint(1, 30)}-{rng.randint(1, 20)}"
        if rng.random() < 0.5:
            address_line += f" {self._pick(self.pools.buildings)}{rng.randint(1, 9)}{rng.randint(1, 12):02d}"
        email = ""
        if rng.random() < 0.85:
            email = f"{given_romaji}.{family_romaji}{index}@{self._pick(EMAIL_DOMAINS)}"
        occupation = rng.choices(self.occupations, weights=self.occupation_weights)[0]
        employer = {
            "company": self._pick(self.pools.companies),
            "public": f"{prefecture}庁",
            "own": f"{family}{self._pick(OWN_BUSINESSES)}",
            "": "",
        }[self.employer_kind[occupation]]
        birth = date(rng.randint(1945, 2004), rng.randint(1, 12), rng.randint(1, 28))

        contract_count = rng.choices((1, 2, 3), weights=(60, 30, 10))[0]
        statuses = rng.choices(self.statuses, weights=self.status_weights, k=contract_count)
        if "formed" in statuses:
            status = "suspended" if rng.random() < 0.02 else "active"
        elif "applied" in statuses:
            status = "applicant"
        else:
            status = "closed"
        joined = self.today - timedelta(days=rng.randint(400, 3650))
        created_at = self._at_iso(joined, 1)
        identity = {
            "family_name": family,
            "given_name": given,
            "family_name_kana": family_kana,
            "given_name_kana": given_kana,
            "birth_date": birth.isoformat(),
            "gender": gender,
            "postal_code": postal3 + f"{rng.randrange(10000):04d}",
            "prefecture": prefecture,
            "city": city + self._pick(self.pools.towns),
            "address_line": address_line,
            "phone": phone,
            "employer_name": employer,
        }
        operator = self._pick(self.ref.operators)
        values = [
            str(member_id),
            member_no,
            family,
            given,
            family_kana,
            given_kana,
            identity["birth_date"],
            gender,
            identity["postal_code"],
            prefecture,
            identity["city"],
            address_line,
            phone,
            email,
            occupation,
            employer,
            self._pick(("single", "with_spouse", "with_family", "other")),
            self._pick(("owned", "family_owned", "rented", "company", "other")),
            rng.choices(("living", "business", "cashing", "other"), weights=(80, 8, 10, 2))[0],
            status,
            "f",
            created_at,
        ]
        live = values + [family_kana + given_kana, normalize.name_key(family + given), iso(self.now)]
        chunk.lines["members_member"].append("\t".join(live) + "\n")
        hid = self.counters.take("members_historicalmember")
        chunk.lines["members_historicalmember"].append(
            "\t".join(values) + f"\t{hid}\t{created_at}\t{REASON}\t+\t{operator}\n"
        )

        identity_json = json.dumps(identity, ensure_ascii=False, separators=(",", ":"))
        self._consents(chunk, member_id, created_at, operator)
        self._declaration(chunk, member_id, joined, operator)
        self._identity_document(chunk, member_id, created_at, operator)
        self._contacts(chunk, member_id, operator, index)
        partner = index % PARTNER_EVERY == 0
        for n, contract_status in enumerate(statuses):
            affiliate = (
                self.ref.affiliates[index // PARTNER_EVERY % len(self.ref.affiliates)]
                if partner and n == 0
                else None
            )
            self._contract(
                chunk,
                member_id,
                member_no,
                index,
                n,
                contract_status,
                joined,
                operator,
                affiliate,
                identity_json,
            )
        if partner:
            self._sync_event(chunk, member_id, member_no, index, phone, operator)
        if index % TICKET_EVERY == 0:
            self._ticket(chunk, member_id, index)

    def _consents(self, chunk: Chunk, member_id: int, stamp: str, operator: int) -> None:
        rng = self.rng
        for code, chance in (
            ("credit", 1),
            ("marketing_own", 0.8),
            ("marketing_partner", 0.6),
            ("research", 0.7),
            ("bureau", 1),
        ):
            purpose = self.ref.purposes.get(code)
            if purpose is None:
                continue
            granted = "t" if rng.random() < chance else "f"
            values = [
                str(self.counters.take("members_consent")),
                granted,
                stamp,
                "application",
                str(self.ref.version_id),
                str(member_id),
                str(purpose),
            ]
            chunk.add("members_consent", values, at=stamp, user=operator)

    def _declaration(self, chunk: Chunk, member_id: int, joined: date, operator: int) -> None:
        rng = self.rng
        values = [
            str(self.counters.take("members_financialdeclaration")),
            joined.isoformat(),
            self._pick(self.pools.incomes),
            str(rng.randrange(0, 30_000_000, 10_000)),
            str(rng.randrange(0, 5_000_000, 10_000)),
            "",
            str(member_id),
        ]
        chunk.add("members_financialdeclaration", values, at=self._at_iso(joined, 2), user=operator)

    def _identity_document(self, chunk: Chunk, member_id: int, at: str, operator: int) -> None:
        kind = self._pick(
            ("driver_license", "driver_license", "passport", "insurance_card", "residence_card")
        )
        values = [
            str(self.counters.take("members_identitydocument")),
            kind,
            self._pick(self.pools.document_numbers),
            str(operator),
            at,
            "",
            str(member_id),
        ]
        chunk.add("members_identitydocument", values, at=at, user=operator)

    def _contacts(self, chunk: Chunk, member_id: int, operator: int, index: int) -> None:
        rng = self.rng
        for n in range(rng.choices((0, 1, 2), weights=(45, 45, 10))[0]):
            channel, summary = self._pick(CONTACT_SUMMARIES)
            at = self.now - timedelta(days=rng.randint(1, 365), minutes=rng.randint(0, 600))
            recording = f"REC-{at:%Y%m%d}-{index}{n}" if channel == "phone" else ""
            values = [
                str(self.counters.take("members_contactrecord")),
                iso(at),
                str(channel),
                "t",
                summary,
                recording,
                str(operator),
                str(member_id),
            ]
            chunk.add("members_contactrecord", values, at=iso(at), user=operator)

    def _contract(
        self,
        chunk: Chunk,
        member_id: int,
        member_no: str,
        index: int,
        n: int,
        status: str,
        joined: date,
        operator: int,
        affiliate: tuple[int, str] | None,
        identity_json: str,
    ) -> None:
        rng = self.rng
        contract_id = self.counters.take("members_contract")
        kind = (
            "shopping"
            if affiliate or n == 0
            else self._pick(("cashing", "card_loan", "installment", "shopping"))
        )
        product = affiliate[1] if affiliate else PRODUCTS[kind]
        if status == "applied":
            applied = self.today - timedelta(days=rng.randint(1, 30))
        elif status == "ended":
            applied = joined + timedelta(days=rng.randint(0, 60))
        else:
            applied = min(joined + timedelta(days=rng.randint(0, 200)), self.today - timedelta(days=400))
        contracted = applied + timedelta(days=7) if status in ("formed", "ended") else None
        ended = None
        if status == "ended":
            ended = max(contracted + timedelta(days=400), self.today - timedelta(days=rng.randint(30, 1400)))
            ended = min(ended, self.today - timedelta(days=1))
        credit = rng.choice((100_000, 300_000, 500_000, 800_000, 1_000_000)) if status != "declined" else 0
        installments = 1 if kind in ("shopping", "cashing") else rng.choice((3, 6, 12, 24))
        contract_no = f"K{index:09d}{n}"
        values = [
            str(contract_id),
            contract_no,
            kind,
            product,
            applied.isoformat(),
            contracted.isoformat() if contracted else NULL,
            str(credit),
            str(installments),
            self._pick(self.pools.accounts),
            status,
            ended.isoformat() if ended else NULL,
            "credit_judgement" if status == "declined" else "",
            str(affiliate[0]) if affiliate else NULL,
            str(self.ref.version_id),
            str(member_id),
        ]
        chunk.add("members_contract", values, at=self._at_iso(applied, 2), user=operator)
        if self.cic is None:
            return
        contract_json = json.dumps(
            {
                "contract_no": contract_no,
                "kind": kind,
                "product_name": product,
                "applied_on": applied.isoformat(),
                "contracted_on": contracted.isoformat() if contracted else None,
                "ended_on": ended.isoformat() if ended else None,
                "credit_limit": credit,
                "installments": installments,
                "status": status,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        base = f'{{"member_no":"{member_no}","identity":{identity_json},"contract":{contract_json}'
        until = period_end(applied, months=6)
        self._submission(
            chunk,
            member_id,
            contract_id,
            "application",
            applied,
            until,
            base + "}",
            "accepted" if until >= self.today else "expired",
            operator,
        )
        if contracted is None:
            return
        self._submission(
            chunk,
            member_id,
            contract_id,
            "contract",
            contracted,
            period_end(ended, months=60) if ended else None,
            base + "}",
            "accepted",
            operator,
        )
        self._provision(chunk, member_id, contracted, contract_no, operator)
        if affiliate and index // PARTNER_EVERY % len(self.ref.affiliates) == 0:
            self._provision(chunk, member_id, contracted, contract_no, operator, affiliate=True)
        profile = self._pick(
            self.pools.delinquent_profiles if rng.random() < 0.02 else self.pools.payment_profiles
        )
        last_month = len(self.months) - 1
        months = range(len(self.months))
        if ended is not None:
            # An ended contract keeps the 12 months before its end (shifted, same profile).
            end_first = ended.replace(day=1)
            month_days = [add_months(end_first, -k) for k in range(12, 0, -1)]
            month_text = [d.isoformat() for d in month_days]
            month_history = [iso(self._at(add_months(d, 1) + timedelta(days=4), 3)) for d in month_days]
        else:
            month_text, month_history = self.month_text, self.month_history
        ids = self.counters.next_id
        pid, hid = ids["members_paymentrecord"], ids["members_historicalpaymentrecord"]
        live, hist = chunk.lines["members_paymentrecord"], chunk.lines["members_historicalpaymentrecord"]
        tail = f"\t{contract_id}"
        for m in months:
            billed, paid, balance, code, days = profile[m]
            row = f"{pid}\t{month_text[m]}\t{billed}\t{paid}\t{balance}\t{code}\t{days}{tail}"
            live.append(row + "\n")
            hist.append(f"{row}\t{hid}\t{month_history[m]}\t{REASON}\t+\t{operator}\n")
            pid += 1
            hid += 1
        ids["members_paymentrecord"], ids["members_historicalpaymentrecord"] = pid, hid
        if ended is None:
            billed, paid, balance, code, days = profile[last_month]
            payment = (
                f'"payment":{{"month":"{month_text[last_month]}","status_code":"{code}",'
                f'"billed_amount":{billed},"paid_amount":{paid},"balance":{balance},"days_overdue":{days}}}}}'
            )
            self._submission(
                chunk,
                member_id,
                contract_id,
                "payment",
                self.months[last_month],
                None,
                base + "," + payment,
                "pending",
                operator,
            )

    def _submission(
        self, chunk, member_id, contract_id, record_type, event, until, payload, status, operator
    ) -> None:
        created = self._at_iso(event, 4)
        answered = self._at_iso(event + timedelta(days=3), 4) if status in ("accepted", "expired") else NULL
        values = [
            str(self.counters.take("bureaus_submission")),
            record_type,
            event.isoformat(),
            until.isoformat() if until else NULL,
            esc(payload),
            status,
            "00" if answered != NULL else "",
            "",
            answered,
            created,
            str(self.cic),
            str(contract_id),
            NULL,
            str(member_id),
            NULL,
            NULL,
        ]
        chunk.add("bureaus_submission", values, at=created, user=operator)

    def _provision(
        self, chunk, member_id, provided: date, contract_no: str, operator, *, affiliate=False
    ) -> None:
        values = [
            str(self.counters.take("members_provisionrecord")),
            "affiliate" if affiliate else "bureau",
            BULK_AFFILIATES[0][1] if affiliate else CIC_NAME,
            json.dumps(AFFILIATE_SHARED_ITEMS if affiliate else list(IDENTITY_FIELDS)),
            provided.isoformat(),
            "consent",
            "t",
            period_end(provided, years=3).isoformat(),
            contract_no,
            str(member_id),
        ]
        chunk.add("members_provisionrecord", values, at=self._at_iso(provided, 5), user=operator)

    def _sync_event(self, chunk, member_id, member_no, index, phone, operator) -> None:
        rng = self.rng
        occurred = self.now - timedelta(days=rng.randint(1, 300))
        affiliate_id = self.ref.affiliates[index // PARTNER_EVERY % len(self.ref.affiliates)][0]
        payload = json.dumps({"member_no": member_no, "changes": {"phone": phone}}, separators=(",", ":"))
        values = [
            str(self.counters.take("members_partnersyncevent")),
            str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "outbound",
            payload,
            "sent",
            "1",
            iso(occurred),
            "",
            iso(occurred),
            iso(occurred + timedelta(seconds=2)),
            str(affiliate_id),
            str(member_id),
        ]
        pending = values[:4] + ["pending", "0", iso(occurred), "", iso(occurred), NULL] + values[10:]
        chunk.add(
            "members_partnersyncevent",
            values,
            history=[
                (pending, iso(occurred), "+", operator),
                (values, iso(occurred + timedelta(seconds=2)), "~", operator),
            ],
        )

    # -- tickets: every state, one history row per status reached
    def _ticket(self, chunk: Chunk, member_id: int, index: int) -> None:
        rng = self.rng
        kind = rng.choices(self.ticket_kinds, weights=self.ticket_weights)[0]
        conversation = kind in ("inquiry", "opinion")
        # The final state cycles with the ticket's ordinal so that every state is present in
        # any data set with a handful of tickets (5 of 9 closed, the rest open).
        final = TICKET_FINAL_STATES[(index // TICKET_EVERY) % len(TICKET_FINAL_STATES)]
        if conversation and final in ("verifying", "pending_approval"):
            final = "in_progress"
        if final == "closed":
            received = self.now - timedelta(days=rng.randint(20, 700), minutes=rng.randint(0, 600))
        else:
            received = self.now - timedelta(days=rng.randint(0, 19), minutes=rng.randint(0, 600))
        local = timezone.localtime(received)
        prefix = f"T{local:%Y%m%d}-"
        seq = self.counters.ticket_seq.get(prefix, 0) + 1
        self.counters.ticket_seq[prefix] = seq
        from requests import rules

        due = rules.due_at(received)
        operator = self._pick(self.ref.operators)
        supervisor = self._pick(self.ref.supervisors)
        path = TICKET_STATUS_PATH if not conversation else ("received", "in_progress", "closed")
        steps = path[: path.index(final) + 1]
        outcome, ground, reason = "", "", ""
        if final == "closed" and not conversation:
            outcome = rng.choices([o for o, _w in OUTCOME_WEIGHTS], weights=[w for _o, w in OUTCOME_WEIGHTS])[
                0
            ]
            if outcome == "refused":
                ground = self._pick(("harm", "business", "law"))
                reason = "法令上の不開示事由に該当するため"
            elif outcome == "partly":
                reason = "保存義務のある記録を除いて対応"
        ticket_id = self.counters.take("requests_ticket")
        fee = str(settings.DISCLOSURE_FEE_YEN) if kind == "disclosure" else "0"
        state = {
            "status": "received",
            "identity_method": "",
            "identity_documents_seen": "0",
            "identity_verified_at": NULL,
            "identity_verified_by_id": NULL,
            "outcome": "",
            "refusal_ground": "",
            "outcome_reason": "",
            "approved_at": NULL,
            "closed_at": NULL,
            "approver_id": NULL,
            "prepared_by_id": NULL,
            "version": "1",
        }
        history = []
        at = received
        for n, step in enumerate(steps):
            if n:
                at = at + timedelta(hours=rng.randint(2, 60 if final == "closed" else 20))
                if final != "closed":
                    at = min(at, self.now - timedelta(minutes=len(steps) - n))
            state["status"] = step
            state["version"] = str(n + 1)
            if step == "in_progress" and not conversation:
                state.update(
                    identity_method="driver_license",
                    identity_documents_seen="1",
                    identity_verified_at=iso(at),
                    identity_verified_by_id=str(operator),
                )
            if step == "pending_approval" or (step == "closed" and not conversation):
                state.update(prepared_by_id=str(operator))
                if final == "closed":
                    state.update(outcome=outcome, refusal_ground=ground, outcome_reason=reason)
            if step == "closed":
                state.update(closed_at=iso(at))
                if not conversation:
                    state.update(approver_id=str(supervisor), approved_at=iso(at))
            values = [
                str(ticket_id),
                f"{prefix}{seq:04d}",
                kind,
                self._pick(("phone", "mail", "counter", "web")),
                "",
                "self",
                "",
                NULL,
                "f",
                state["identity_method"],
                state["identity_documents_seen"],
                state["identity_verified_at"],
                iso(received),
                iso(due),
                state["status"],
                state["outcome"],
                state["refusal_ground"],
                state["outcome_reason"],
                state["approved_at"],
                state["closed_at"],
                "paper",
                fee,
                NULL,
                "f",
                "",
                NULL,
                "0",
                NULL,
                state["version"],
                state["approver_id"],
                str(operator),
                state["identity_verified_by_id"],
                str(member_id),
                state["prepared_by_id"],
            ]
            actor = supervisor if step == "closed" and not conversation else operator
            history.append((values, iso(at), "+" if n == 0 else "~", actor))
        values[3] = history[0][0][3]  # one channel for the ticket
        for hvalues, *_rest in history:
            hvalues[3] = values[3]
        chunk.add("requests_ticket", values, history=history)
        log = [
            str(self.counters.take("members_accesslog")),
            "view",
            iso(received + timedelta(minutes=5)),
            "127.0.0.1",
            f"/admin/members/member/{member_id}/change/",
            "",
            str(member_id),
            str(operator),
        ]
        chunk.add("members_accesslog", log)


def table_counts(tables: Iterator[str] | None = None) -> dict[str, int]:
    """Rows per loaded table (exact counts: for reports, not for pages)."""
    counts = {}
    with connection.cursor() as cursor:
        for table in tables or all_tables():
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    return counts
