"""``manage.py bench_growth 250k=URL 500k=URL 1M=URL``: the growth table of issue 18 — ``bench`` on
data sets of several sizes, in rounds, side by side (``consentoffice.devtools.bench.growth``)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from consentoffice.devtools.bench import PAGE_CASES, growth
from consentoffice.devtools.bench.runner import ALL_CASES


class Command(BaseCommand):
    help = _(
        "規模の異なるデータセットで bench を交互に実行し、画面と重い処理がデータ量とともに"
        "伸びないかを一つの表にします。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "data_sets",
            nargs="+",
            metavar="LABEL=DATABASE_URL",
            help=_("小さい順に、ラベル=データベースURL（例: 250k=postgres://…/co_250k）"),
        )
        parser.add_argument("--rounds", type=int, default=3, help=_("各データセットを測る回数（既定: 3）"))
        parser.add_argument("--runs", type=int, default=20, help=_("各画面を測る回数（既定: 20）"))
        parser.add_argument(
            "--only",
            default=",".join(PAGE_CASES),
            help=_("測る項目をカンマ区切りで指定（既定: 画面のすべて）"),
        )

        parser.add_argument(
            "--isolate",
            action="store_true",
            help=_(
                "各実行の前にページキャッシュを空にし、そのデータセットだけを読み込む"
                "（root が必要。全データセットがメモリに収まらないマシン向け）"
            ),
        )

        parser.add_argument(
            "--fresh-copy",
            action="store_true",
            help=_(
                "各実行の前にデータセットをテンプレートとして複製し、その複製を測って削除する"
                "（前の実行の不要行を持ち越さない。データセットに他の接続がないこと）"
            ),
        )

        parser.add_argument(
            "--bureau-records",
            type=int,
            default=None,
            help=_(
                "bench に渡す登録ファイルの件数。全データセットが保留中として持つ件数以下にすると、"
                "どの規模でも既存の行だけを測る"
            ),
        )

    def handle(
        self,
        *args,
        data_sets: list[str],
        rounds: int,
        runs: int,
        only: str,
        isolate: bool,
        fresh_copy: bool,
        bureau_records: int | None,
        **options,
    ):
        try:
            parsed = growth.parse_data_sets(data_sets)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        cases = [name.strip() for name in only.split(",") if name.strip()]
        unknown = sorted(set(cases) - set(ALL_CASES))
        if unknown or not cases:
            raise CommandError(_("不明な項目: %(names)s") % {"names": ", ".join(unknown) or "-"})
        if rounds < 1 or runs < 1 or (bureau_records is not None and bureau_records < 1):
            raise CommandError(_("--rounds、--runs と --bureau-records は1以上で指定してください。"))
        bench_options = () if bureau_records is None else ("--bureau-records", str(bureau_records))
        manage_py = Path(settings.BASE_DIR) / "manage.py"
        try:
            rows = growth.measure(
                parsed,
                cases=cases,
                rounds=rounds,
                runs=runs,
                manage_py=manage_py,
                echo=self.stdout.write,
                isolated=isolate,
                fresh=fresh_copy,
                bench_options=bench_options,
            )
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        labels = [d.label for d in parsed]
        self.stdout.write(
            f"median of {rounds} rounds' medians ({runs} runs a page); pages in ms, heavy jobs in µs per unit; "
            f"met = {labels[-1]}/{labels[0]} ≤ {growth.GROWTH_LIMIT}"
        )
        for line in growth.format_table(rows, labels):
            self.stdout.write(line)
        if any(row.buffers for row in rows):
            self.stdout.write("")
            self.stdout.write(
                "buffers read per view (8 kB pages touched by the page's SELECTs, median of the rounds):"
            )
            for line in growth.format_buffers(rows, labels):
                self.stdout.write(line)
        self.stdout.write("")
        self.stdout.write("each round:")
        for line in growth.format_rounds(rows, labels):
            self.stdout.write(line)
