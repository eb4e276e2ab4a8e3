"""Build the registration files now (what the nightly task does): ``manage.py build_bureau_batches``."""

from django.core.management.base import BaseCommand

from bureaus import services
from consentoffice.core.history import system_user


class Command(BaseCommand):
    help = "Write one registration file per member bureau from the pending submissions."

    def handle(self, *args, **options):
        actor = system_user()
        swept = services.sweep_contract_events(actor=actor)
        for batch in services.build_batches(actor=actor):
            self.stdout.write(
                f"{batch.bureau.code} batch {batch.pk}: {batch.record_count} records, {batch.sha256}"
            )
        self.stdout.write(f"events registered by the sweep: {swept}")
