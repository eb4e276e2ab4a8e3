"""``manage.py seed_bulk --members N``: a large data set for ``manage.py bench`` (PostgreSQL only)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils.translation import gettext as _
from tqdm import tqdm

from consentoffice.devtools import bulk


class Command(BaseCommand):
    help = _(
        "ベンチマーク用の大量データ（会員・契約・支払状況・同意・受付票・信用情報機関への登録と"
        "その履歴）をCOPYで一括投入します。PostgreSQL専用です。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--members", type=int, required=True, help=_("投入する会員の数"))
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--append", action="store_true", help=_("既存の一括データに追加します"))
        mode.add_argument(
            "--reset",
            action="store_true",
            help=_("会員・受付票・登録情報の全テーブルを空にしてから投入します（参照データは残します）"),
        )
        parser.add_argument("--chunk", type=int, default=bulk.CHUNK_MEMBERS, help=_("1回のCOPYで扱う会員数"))
        parser.add_argument("--no-progress", action="store_true", help=_("進捗バーを表示しません"))

    def handle(
        self, *args, members: int, append: bool, reset: bool, chunk: int, no_progress: bool, **options
    ):
        if connection.vendor != "postgresql":
            raise CommandError(
                _(
                    "seed_bulk は PostgreSQL 専用です（COPY を使います）。DATABASE_URL に PostgreSQL を指定してください。"
                )
                + " / seed_bulk needs PostgreSQL (it loads with COPY); set DATABASE_URL=postgres://…"
            )
        if settings.PRODUCTION:
            raise CommandError(_("本番環境（DJANGO_ENV=production）では実行できません。"))
        if members <= 0:
            raise CommandError(_("会員の数は1以上で指定してください。"))
        if reset:
            self.stdout.write(_("既存データを削除しています…"))
            bulk.reset()
        elif bulk.bulk_present() and not append:
            raise CommandError(
                _(
                    "一括データは既に投入されています。追加するには --append、作り直すには --reset を指定してください。"
                )
            )
        started = time.monotonic()
        bar = tqdm(total=members, unit="会員", disable=no_progress, file=self.stderr._out, smoothing=0.05)

        def stage(name: str) -> None:
            bar.set_description(name)
            if name not in ("pools", "rows"):
                bar.write(f"{name} … {time.monotonic() - started:.0f}s")

        result = bulk.load(members=members, progress=bar.update, stage=stage, chunk_members=chunk)
        bar.close()
        elapsed = time.monotonic() - started
        self.stdout.write(
            _("%(members)d人分を%(seconds).1f秒で投入しました。") % {"members": members, "seconds": elapsed}
        )
        self.stdout.write(
            f"encrypted pool: {result.encrypted_pool_size} values per field; "
            f"foreign-key triggers skipped: {result.foreign_key_triggers_skipped}; "
            f"indexes rebuilt: {result.dropped_indexes}"
        )
        width = max(len(t) for t in result.rows)
        for table, count in sorted(result.rows.items()):
            self.stdout.write(f"  {table:<{width}}  {count:>12,}")
        self.stdout.write(f"elapsed_seconds={elapsed:.1f}")
