"""``manage.py bench``: measures the data set it finds (seed it with ``seed_bulk``) and prints the
figures of issue 7: median and 95th percentile, query counts, and the untuned admin's ratio."""

from __future__ import annotations

import dataclasses
import json
import os
import platform

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils.translation import gettext as _

from consentoffice.devtools import bench as benchmarks
from consentoffice.devtools.vacuum import vacuum_analyze


class Command(BaseCommand):
    help = _("性能を測定して表を出力します（データは作りません。測定中の変更はすべて取り消します）。")

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=20, help=_("各画面を測る回数（既定: 20）"))
        parser.add_argument(
            "--bureau-records",
            type=int,
            default=benchmarks.BUREAU_RECORDS,
            help=_("登録ファイルに載せる件数（既定: 1,000,000）"),
        )
        parser.add_argument("--sync-events", type=int, default=2000, help=_("提携先へ送るイベント数"))
        parser.add_argument(
            "--reminder-tickets",
            type=int,
            default=benchmarks.REMINDER_OPEN_TICKETS,
            help=_("リマインダー実行時の未完了受付票の数（不足分は一時的に追加）"),
        )
        parser.add_argument(
            "--no-vacuum",
            action="store_true",
            help=_("測定前の VACUUM (ANALYZE) を省略します（既定では測定前にデータベース全体に実行）"),
        )
        parser.add_argument(
            "--json",
            dest="json_path",
            default="",
            metavar="PATH",
            help=_("測定結果を JSON でこのファイルにも書き出します（bench_growth が読みます）"),
        )
        parser.add_argument(
            "--profile",
            dest="profile_dir",
            default="",
            metavar="DIR",
            help=_(
                "各画面を測定後さらに同じ回数 cProfile で取得し、DIR/<項目>.prof に保存します（時間には含めません）"
            ),
        )
        parser.add_argument(
            "--only",
            default="",
            help=_("測る項目をカンマ区切りで指定: %(cases)s") % {"cases": ", ".join(benchmarks.ALL_CASES)},
        )

    def handle(
        self,
        *args,
        runs: int,
        only: str,
        bureau_records: int,
        sync_events: int,
        reminder_tickets: int,
        no_vacuum: bool = False,
        json_path: str = "",
        profile_dir: str = "",
        **options,
    ):
        selected = {name.strip() for name in only.split(",") if name.strip()}
        unknown = selected - set(benchmarks.ALL_CASES)
        if unknown:
            raise CommandError(_("不明な項目: %(names)s") % {"names": ", ".join(sorted(unknown))})
        if runs < 1:
            raise CommandError(_("--runs は1以上で指定してください。"))
        if profile_dir:
            os.makedirs(profile_dir, exist_ok=True)
        self.stdout.write(self._machine())
        summary = benchmarks.data_set_summary()
        if summary:
            self.stdout.write(
                "data set (estimated rows): " + ", ".join(f"{t}={n:,}" for t, n in sorted(summary.items()))
            )
        if not no_vacuum and connection.vendor == "postgresql":
            # Dead rows of earlier (rolled-back) runs would be measured too where autovacuum is off.
            self.stdout.write(f"VACUUM (ANALYZE) before measuring: {vacuum_analyze():.1f} s")
        self.stdout.write(f"runs per page: {runs}")
        self.stdout.write(benchmarks.HEADER)
        self.stdout.write("-" * len(benchmarks.HEADER))
        try:
            rows = benchmarks.run(
                runs=runs,
                only=selected or None,
                bureau_records=bureau_records,
                sync_events=sync_events,
                reminder_tickets=reminder_tickets,
                on_row=lambda row: self.stdout.write(benchmarks.format_row(row)),
                echo=self.stdout.write,
                vacuum=False,  # done above, before the table
                profile_dir=profile_dir,
            )
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        if json_path:
            self._write_json(json_path, rows)

    @staticmethod
    def _write_json(path: str, rows) -> None:
        with open(path, "w", encoding="utf-8") as out:
            json.dump([dataclasses.asdict(row) for row in rows], out, ensure_ascii=False, indent=1)

    @staticmethod
    def _machine() -> str:
        version = ""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SHOW server_version")
                version = f"PostgreSQL {cursor.fetchone()[0]}"
        memory = ""
        try:
            with open("/proc/meminfo") as meminfo:
                kb = int(meminfo.readline().split()[1])
            memory = f", {kb / 1024 / 1024:.1f} GiB RAM"
        except (OSError, ValueError, IndexError):
            pass
        return f"machine: {os.cpu_count()} CPUs{memory}, Python {platform.python_version()}, {version or connection.vendor}"
