"""``manage.py seal_audit``: seal the audit rows written since the last run (what beat schedules)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from consentoffice.audit.seal import seal_audit_trail


class Command(BaseCommand):
    help = "Chain SHA-256 hashes over the history and access-log rows not sealed yet."

    def add_arguments(self, parser):
        parser.add_argument(
            "--delay", type=int, default=None, help="seconds a row must be old (default: setting)"
        )

    def handle(self, *args, **options):
        total = 0
        while True:
            sealed = seal_audit_trail(delay_seconds=options["delay"])
            total += sealed
            if not sealed:
                break
        self.stdout.write(f"sealed {total} rows")
