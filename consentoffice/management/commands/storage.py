"""``manage.py storage``: the database's size per table (heap, indexes) and per member, and its
largest indexes (PostgreSQL; BENCHMARKS.md, Storage)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils.translation import gettext as _

from consentoffice.devtools import storage


class Command(BaseCommand):
    help = _("テーブルごとの容量（本体・索引）と会員1人あたりの容量を表示します（PostgreSQL）。")

    def add_arguments(self, parser):
        parser.add_argument("--tables", type=int, default=25, help=_("表示するテーブルの数"))
        parser.add_argument("--indexes", type=int, default=20, help=_("表示する索引の数"))

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError(_("容量の表示はPostgreSQLのデータベースでのみ使えます。"))
        for line in storage.report(tables=options["tables"], indexes=options["indexes"]):
            self.stdout.write(line)
