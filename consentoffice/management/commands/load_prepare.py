"""``manage.py load_prepare <file>``: gets the database ready for the load test (``make load``).

Checks that the data set's encrypted values open with the configured keys, vacuums, gives the load
users fresh passwords and authenticator devices and writes what the load client needs to ``file``
(owner-only; passwords, authenticator keys and sampled members stay out of the output).
"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from consentoffice.devtools import load


class Command(BaseCommand):
    help = _("負荷試験の準備をします（鍵の確認、VACUUM、負荷試験用ユーザー、クライアント用ファイル）。")

    def add_arguments(self, parser):
        parser.add_argument("file", help=_("クライアント用ファイルの書き出し先（所有者のみ読み書き可）"))
        parser.add_argument("--no-vacuum", action="store_true", help=_("VACUUM (ANALYZE) を省略します"))

    def handle(self, *args, file: str, no_vacuum: bool, **options):
        try:
            counts = load.prepare(Path(file), vacuum=not no_vacuum)
        except load.KeyMismatch as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(", ".join(f"{key}={value}" for key, value in counts.items()))
