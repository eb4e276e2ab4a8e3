"""``manage.py apply_retention [--dry-run]``: the retention policy of clause Art. 7, by hand."""

from django.core.management.base import BaseCommand

from consentoffice.core.history import system_user
from members import retention


class Command(BaseCommand):
    help = "Erase/anonymize member data whose retention period has passed; --dry-run lists it."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only list what the next run would do")

    def handle(self, *args, dry_run: bool, **options):
        steps = retention.plan() if dry_run else retention.apply(actor=system_user())
        for step in steps:
            held = f"\theld: {','.join(step.held_by)}" if step.held else ""
            self.stdout.write(
                f"{step.member_no}\t{step.target}\t{step.records}\t{step.ended_on.isoformat()}{held}"
            )
        verb = "would process" if dry_run else "processed"
        acted = [s for s in steps if not s.held]
        self.stdout.write(self.style.SUCCESS(f"{verb} {len(acted)} step(s), {len(steps) - len(acted)} held"))
