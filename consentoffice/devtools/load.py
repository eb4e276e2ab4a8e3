"""What the load test needs in its database (``manage.py load_prepare``; ``make load``, BENCHMARKS.md
"Load"): the data set's field keys checked, the tables vacuumed, the load users with fresh passwords
and authenticator devices, and a sample of members and tickets for the client to open.

Everything the client needs is written to one JSON file that only its owner can read (passwords,
authenticator keys, and the sampled members' numbers, phones and names); nothing of it is printed.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction

from consentoffice.accounts import twofactor
from consentoffice.core import roles
from consentoffice.devtools.vacuum import vacuum_analyze
from consentoffice.models import AuthenticatorDevice
from members.models import Contract, Member
from members.normalize import format_phone
from requests import rules
from requests.models import Ticket

LOAD_OPERATORS = 25
LOAD_SUPERVISORS = 5
SAMPLE_MEMBERS = 1000
SAMPLE_TICKETS = 500


class KeyMismatch(Exception):
    """The data set's encrypted values do not open with FIELD_ENCRYPTION_KEYS."""


def field_keys_open_the_data() -> bool:
    """True when a stored encrypted value opens with FIELD_ENCRYPTION_KEYS (or none is stored).

    The bulk data set holds ciphertext of the keys ``seed_bulk`` ran with; a production server with
    other keys answers 500 on every page that shows such a value, so the load refuses to start."""
    try:
        Contract.objects.exclude(settlement_account="").values_list("settlement_account", flat=True).first()
    except ImproperlyConfigured:
        return False
    return True


def _user(username: str, role: Group, *, last: str, first: str, password_hash: str):
    User = get_user_model()
    user = User.objects.filter(username=username).first() or User(username=username)
    user.last_name, user.first_name = last, first
    user.is_staff, user.is_active, user.is_superuser = True, True, False
    user.password = password_hash
    user.save()
    user.groups.set([role])
    return user


@transaction.atomic
def refresh_users(password: str) -> dict[str, list[dict]]:
    """The load users (``load-operator-NN``, ``load-supervisor-N``) with ``password`` and, for the
    supervisors, one new confirmed authenticator device each (older ones removed). Axes lockouts
    of these users are cleared."""
    from axes.models import AccessAttempt, AccessFailureLog

    groups = {g.name: g for g in Group.objects.filter(name__in=roles.ROLES)}
    password_hash = make_password(password)  # one hash: PBKDF2 costs ~0.3 s per call
    accounts: dict[str, list[dict]] = {"operators": [], "supervisors": []}
    people = [
        (f"load-operator-{n:02d}", roles.OPERATOR, f"オペレーター{n}") for n in range(1, LOAD_OPERATORS + 1)
    ]
    people += [
        (f"load-supervisor-{n}", roles.SUPERVISOR, f"スーパーバイザー{n}")
        for n in range(1, LOAD_SUPERVISORS + 1)
    ]
    for username, role, first in people:
        user = _user(username, groups[role], last="負荷", first=first, password_hash=password_hash)
        account = {"username": username, "password": password}
        if role == roles.SUPERVISOR:
            AuthenticatorDevice.objects.filter(user=user).delete()
            account["totp_key"] = twofactor.create_confirmed_device(user, name="load").key
        accounts["supervisors" if role == roles.SUPERVISOR else "operators"].append(account)
    names = [username for username, _role, _first in people]
    AccessAttempt.objects.filter(username__in=names).delete()
    AccessFailureLog.objects.filter(username__in=names).delete()
    return accounts


def sample_members(count: int = SAMPLE_MEMBERS) -> list[dict]:
    """About ``count`` members spread over the table (a Bernoulli sample, not the first rows)."""
    total = (
        Member.objects.order_by().count()
        if connection.vendor != "postgresql"
        else _estimate("members_member")
    )
    share = min(100.0, 100.0 * 2 * count / max(total, 1))
    if connection.vendor == "postgresql":
        rows = Member.objects.raw(
            "SELECT id, member_no, phone, family_name FROM members_member TABLESAMPLE BERNOULLI (%s) LIMIT %s",
            [share, count],
        )
    else:
        rows = Member.objects.order_by("?")[:count]
    return [
        {"id": m.pk, "no": m.member_no, "phone": format_phone(m.phone), "name": m.family_name} for m in rows
    ]


def _estimate(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT GREATEST(reltuples, 0)::bigint FROM pg_class WHERE relname = %s", [table])
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def sample_tickets(count: int = SAMPLE_TICKETS) -> list[int]:
    """Open tickets (what operators work on) and a quarter as many closed ones."""
    open_ids = list(
        Ticket.objects.filter(status__in=rules.OPEN_STATUSES)
        .order_by("?")
        .values_list("pk", flat=True)[:count]
    )
    closed_ids = list(
        Ticket.objects.exclude(status__in=rules.OPEN_STATUSES)
        .order_by("?")
        .values_list("pk", flat=True)[: count // 4]
    )
    return open_ids + closed_ids


def audit_users() -> list[int]:
    """Operators whose changes the supervisors look up on ``/audit/`` (the bulk ones when present)."""
    User = get_user_model()
    users = User.objects.filter(groups__name=roles.OPERATOR, is_staff=True).order_by("username")
    bulk = list(users.filter(username__startswith="bulk-").values_list("pk", flat=True)[:20])
    return bulk or list(users.values_list("pk", flat=True)[:20])


def write_private_json(path: Path, data: dict) -> None:
    """Write ``data`` to ``path``, readable and writable by its owner only (created that way)."""
    path = Path(path)
    if path.exists():
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False)


def prepare(out: Path, *, vacuum: bool = True) -> dict[str, int | float]:
    """Check the keys, vacuum, refresh the users, write the client's file; returns counts only."""
    if not field_keys_open_the_data():
        raise KeyMismatch(
            "the data set's encrypted values do not open with FIELD_ENCRYPTION_KEYS: run the load "
            "with the keys seed_bulk used (production refuses the development key; seed the data "
            "set with the load's keys, see BENCHMARKS.md, Load)"
        )
    seconds = vacuum_analyze() if vacuum else 0.0
    data = {
        **refresh_users(secrets.token_urlsafe(18)),
        "members": sample_members(),
        "tickets": sample_tickets(),
        "audit_users": audit_users(),
    }
    write_private_json(out, data)
    return {
        "vacuum_seconds": round(seconds, 1),
        "operators": len(data["operators"]),
        "supervisors": len(data["supervisors"]),
        "members": len(data["members"]),
        "tickets": len(data["tickets"]),
    }
