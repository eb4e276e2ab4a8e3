"""The run: the cases chosen with ``--only``, the pages in one rolled-back transaction under the
bench's URLconf, then the jobs; one failing job does not hide the others' figures."""

from __future__ import annotations

from collections.abc import Callable

from django.db import connection, transaction
from django.test.utils import override_settings

from consentoffice.core import roles
from consentoffice.devtools.bench.client import Context, heaviest_member, role_user, typical_member
from consentoffice.devtools.bench.jobs import (
    HEAVY_CASES,
    case_bureau_batch,
    case_disclosure,
    case_marketing_extract,
    case_partner_sync,
    case_reminders,
)
from consentoffice.devtools.bench.pages import PAGE_CASES, _wanted, case_pages
from consentoffice.devtools.bench.plain import BENCH_URLCONF
from consentoffice.devtools.bench.report import BUREAU_RECORDS, REMINDER_OPEN_TICKETS, Row
from consentoffice.devtools.vacuum import vacuum_analyze

ALL_CASES = PAGE_CASES + HEAVY_CASES


def run(
    *,
    runs: int = 10,
    only: set[str] | None = None,
    echo: Callable[[str], None] = print,
    bureau_records: int = BUREAU_RECORDS,
    sync_events: int = 2000,
    reminder_tickets: int = REMINDER_OPEN_TICKETS,
    on_row: Callable[[Row], None] | None = None,
    vacuum: bool = True,
    profile_dir: str = "",
) -> list[Row]:
    if connection.vendor != "postgresql":
        echo("note: not PostgreSQL — figures are not comparable with the targets")
    elif vacuum:
        # Dead rows of earlier (rolled-back) runs and pages not yet all-visible would be measured
        # too where autovacuum is off (this project's CI server): vacuum first.
        echo(f"VACUUM (ANALYZE): {vacuum_analyze():.1f} s")
    operator = role_user(roles.OPERATOR, prefer="bulk-")
    supervisor = role_user(roles.SUPERVISOR, prefer="bulk-")
    if operator is None or supervisor is None:
        raise RuntimeError("the bench needs an active staff user in the operator and supervisor groups")
    ctx = Context(
        runs=runs,
        operator=operator,
        supervisor=supervisor,
        supervisor2=role_user(roles.SUPERVISOR, exclude=supervisor.pk),
        member=typical_member(),
        heaviest=heaviest_member(),
        bureau_records=bureau_records,
        sync_events=sync_events,
        reminder_tickets=reminder_tickets,
    )
    wanted = _wanted(only)
    rows: list[Row] = []
    with override_settings(ROOT_URLCONF=BENCH_URLCONF, ALLOWED_HOSTS=["testserver", "localhost"]):
        from django.urls import clear_url_caches

        clear_url_caches()
        try:
            if any(wanted(n) for n in PAGE_CASES):
                with transaction.atomic():
                    rows += case_pages(ctx, only, profile_dir=profile_dir)
                    transaction.set_rollback(True)
                for row in rows:
                    (on_row or (lambda r: None))(row)
        finally:
            clear_url_caches()
    for name, case in (
        ("disclosure", case_disclosure),
        ("bureau_batch", case_bureau_batch),
        ("partner_sync", case_partner_sync),
        ("reminders", case_reminders),
        ("marketing_extract", case_marketing_extract),
    ):
        if wanted(name):
            try:
                row = case(ctx)
            except Exception as exc:  # one failing case does not hide the others' figures
                row = Row(name, name, met=False, note=f"failed: {type(exc).__name__}: {exc}"[:200])
            rows.append(row)
            (on_row or (lambda r: None))(row)
    return rows
