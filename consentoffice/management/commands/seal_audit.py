"""``manage.py seal_audit``: seal the audit rows written since the last run (what beat schedules).

Prints how many rows were sealed and how fast (BENCHMARKS.md, Audit seal). ``--dry-run`` seals one
run's batch and rolls it back: the rate on a data set without changing it.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from django.db import transaction

from consentoffice.audit.seal import seal_audit_trail


class _RolledBack(Exception):
    pass


class Command(BaseCommand):
    help = "Chain SHA-256 hashes over the history and access-log rows not sealed yet."

    def add_arguments(self, parser):
        parser.add_argument(
            "--delay", type=int, default=None, help="seconds a row must be old (default: setting)"
        )
        parser.add_argument(
            "--batch-size", type=int, default=None, help="rows per table and run (default: setting)"
        )
        parser.add_argument("--dry-run", action="store_true", help="one run, rolled back: only the rate")

    def handle(self, *args, delay, batch_size, dry_run, **options):
        total, started = 0, time.perf_counter()
        if dry_run:
            try:
                with transaction.atomic():
                    total = seal_audit_trail(delay_seconds=delay, batch_size=batch_size)
                    raise _RolledBack
            except _RolledBack:
                pass
        else:
            while sealed := seal_audit_trail(delay_seconds=delay, batch_size=batch_size):
                total += sealed
        elapsed = time.perf_counter() - started
        rate = total / elapsed if elapsed else 0
        note = " (rolled back)" if dry_run else ""
        self.stdout.write(f"sealed {total} rows in {elapsed:.1f} s, {rate:,.0f} rows/s{note}")
