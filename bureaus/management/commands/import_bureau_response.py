"""Import a bureau's response file for a batch: ``manage.py import_bureau_response <batch id> <file>``."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from bureaus import services
from bureaus.models import SubmissionBatch
from consentoffice.core.history import system_user


class Command(BaseCommand):
    help = "Import a credit bureau's response file (accepted / rejected per record)."

    def add_arguments(self, parser):
        parser.add_argument("batch_id", type=int)
        parser.add_argument("path")
        parser.add_argument("--user", help="username of the supervisor importing (default: system)")

    def handle(self, *args, batch_id: int, path: str, user: str | None = None, **options):
        actor = get_user_model().objects.get(username=user) if user else system_user()
        try:
            batch = SubmissionBatch.objects.get(pk=batch_id)
        except SubmissionBatch.DoesNotExist:
            raise CommandError(f"batch {batch_id} does not exist") from None
        try:
            with open(path, "rb") as stream:
                batch = services.import_response(actor=actor, batch=batch, stream=stream)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(
            f"batch {batch.pk}: accepted {batch.accepted_count}, rejected {batch.rejected_count}"
        )
