"""The growth table (issue 18): ``manage.py bench`` run on data sets of several sizes and printed
side by side.

The sizes are measured in rounds that take each data set in turn (250k, 500k, 1M, 250k, …), so a
slow minute of the machine falls on every size alike instead of on one column; each case's figure
is the median of its rounds' medians. A page must not grow with the data: its median at the
largest size within ``GROWTH_LIMIT`` of the smallest. A heavy job is compared per unit it works
through (record, event, open ticket, member): growing no faster than linearly means its time per
unit stays within the same limit.

A machine whose page cache cannot hold every data set at once would charge the largest one for
the others' reads: with ``isolate`` each run starts from an emptied page cache with its own data
set read into it (``drop_page_cache``, ``prewarm``), so one data set is in memory at a time.

A heavy job measured in a transaction that is rolled back leaves its dead rows and index entries
behind, and a server without autovacuum keeps them: each round would then measure a data set
bloated by the rounds before it. With ``fresh`` each run measures a copy of the data set made
from it as a template just before (``fresh_copy``) and dropped after, so every round starts from
the data set as it was seeded.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

GROWTH_LIMIT = 1.2


@dataclass(frozen=True)
class DataSet:
    label: str
    url: str


@dataclass
class GrowthRow:
    case: str
    unit: str  # "ms" for a page, "µs/unit" for a heavy job
    rounds: dict[str, list[float]] = field(default_factory=dict)  # label -> one figure per round
    buffers: dict[str, list[int]] = field(default_factory=dict)  # label -> a page's buffers per round

    def figure(self, label: str) -> float | None:
        values = self.rounds.get(label) or []
        return statistics.median(values) if values else None

    def ratio(self, first: str, last: str) -> float | None:
        low, high = self.figure(first), self.figure(last)
        if not low or high is None:
            return None
        return high / low

    def buffers_read(self, label: str) -> int | None:
        values = self.buffers.get(label) or []
        return int(statistics.median(values)) if values else None


def parse_data_sets(specs: Iterable[str]) -> list[DataSet]:
    """``label=DATABASE_URL`` pairs, smallest data set first; labels must differ."""
    data_sets: list[DataSet] = []
    for spec in specs:
        label, sep, url = spec.partition("=")
        if not sep or not label.strip() or not url.strip():
            raise ValueError(f"expected LABEL=DATABASE_URL, got {spec!r}")
        if any(d.label == label.strip() for d in data_sets):
            raise ValueError(f"label {label.strip()!r} given twice")
        data_sets.append(DataSet(label.strip(), url.strip()))
    if len(data_sets) < 2:
        raise ValueError("a growth table needs at least two data sets")
    return data_sets


def bench_once(
    data_set: DataSet,
    *,
    cases: list[str],
    runs: int,
    vacuum: bool,
    manage_py: Path,
    bench_options: tuple[str, ...] = (),
) -> list[dict]:
    """One ``manage.py bench`` against ``data_set`` in a process of its own; its rows as dicts."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rows.json"
        command = [
            sys.executable,
            str(manage_py),
            "bench",
            "--runs",
            str(runs),
            "--only",
            ",".join(cases),
            "--json",
            str(out),
        ]
        if not vacuum:
            command.append("--no-vacuum")
        command.extend(bench_options)
        env = {**os.environ, "DATABASE_URL": data_set.url}
        completed = subprocess.run(command, env=env, capture_output=True, text=True)
        if completed.returncode != 0:
            tail = (completed.stderr or completed.stdout).strip().splitlines()[-3:]
            raise RuntimeError(f"bench on {data_set.label} failed: " + " / ".join(tail))
        return json.loads(out.read_text(encoding="utf-8"))


DROP_CACHES = "/proc/sys/vm/drop_caches"

# Every relation with storage of the data set's own schemas (tables, their partitions, indexes,
# TOAST), read block by block through the operating system's page cache.
PREWARM_SQL = """
SELECT count(*), coalesce(sum(pg_prewarm(c.oid, 'read')), 0)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'i', 't', 'm') AND c.relpersistence = 'p'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
"""


def drop_page_cache(path: str = DROP_CACHES) -> bool:
    """Write dirty pages out and empty the kernel's page cache; False where that is not allowed
    (it needs root)."""
    os.sync()
    try:
        with open(path, "w") as handle:
            handle.write("3")
    except OSError:
        return False
    return True


def prewarm(url: str) -> tuple[int, int]:
    """Read every relation of the database at ``url`` into the page cache: (relations, 8 kB blocks).
    ``pg_prewarm`` is created in a transaction that is rolled back, so the data set keeps no trace."""
    import psycopg

    try:
        with psycopg.connect(url) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
            relations, blocks = conn.execute(PREWARM_SQL).fetchone()
            conn.rollback()
    except psycopg.Error as exc:
        raise RuntimeError(f"prewarm failed: {exc.__class__.__name__}: {exc}") from exc
    return int(relations), int(blocks)


def isolate(data_set: DataSet, echo: Callable[[str], None]) -> None:
    dropped = drop_page_cache()
    relations, blocks = prewarm(data_set.url)
    echo(
        f"  {data_set.label}: page cache {'emptied' if dropped else 'NOT emptied (needs root)'}, "
        f"{relations} relations, {blocks * 8 / 1024 / 1024:,.1f} GB read into it"
    )


COPY_SUFFIX = "_growth_copy"


def _database_name(url: str) -> str:
    name = unquote(urlsplit(url).path.lstrip("/"))
    if not name:
        raise RuntimeError("a fresh copy needs a database name in the URL")
    return name


def _on_database(url: str, name: str) -> str:
    """``url`` with its database replaced by ``name`` (same server, user and options)."""
    return urlunsplit(urlsplit(url)._replace(path="/" + quote(name)))


@contextmanager
def fresh_copy(data_set: DataSet) -> Iterator[DataSet]:
    """A copy of ``data_set`` made with it as the template (``STRATEGY FILE_COPY``: the files
    copied, not written through the WAL), dropped when the block ends, also after a failure. A copy
    a killed run left behind is dropped first. The data set must have no other connection while
    it is copied."""
    import psycopg
    from psycopg import sql

    name = _database_name(data_set.url)
    server = _on_database(data_set.url, "postgres")
    copy_name = name[: 63 - len(COPY_SUFFIX)] + COPY_SUFFIX
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(copy_name))
    try:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(drop)
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                    sql.Identifier(copy_name), sql.Identifier(name)
                )
            )
    except psycopg.Error as exc:
        raise RuntimeError(f"copy of {data_set.label} failed: {exc.__class__.__name__}: {exc}") from exc
    copy_url = _on_database(data_set.url, copy_name)
    try:
        yield DataSet(data_set.label, copy_url)
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(drop)


def _value(row: dict) -> tuple[str, float] | None:
    """A page's median in ms, or a heavy job's µs per unit; None when the case measured nothing."""
    median = row.get("median_ms")
    if median is None:
        return None
    units = row.get("units")
    if units:
        return "µs/unit", median * 1000 / units
    return "ms", median


def combine(results: dict[str, list[list[dict]]]) -> list[GrowthRow]:
    """``results[label]`` holds each round's rows for that data set; one GrowthRow per case, in the
    order the cases were first printed."""
    rows: dict[str, GrowthRow] = {}
    for label, rounds in results.items():
        for round_rows in rounds:
            for row in round_rows:
                value = _value(row)
                if value is None:
                    continue
                unit, figure = value
                growth = rows.setdefault(row["name"], GrowthRow(case=row["name"], unit=unit))
                growth.rounds.setdefault(label, []).append(figure)
                if row.get("buffers") is not None:
                    growth.buffers.setdefault(label, []).append(row["buffers"])
    return list(rows.values())


def format_table(rows: list[GrowthRow], labels: list[str]) -> list[str]:
    first, last = labels[0], labels[-1]
    header = (
        f"{'case':<18} {'unit':>8} "
        + " ".join(f"{label:>9}" for label in labels)
        + f" {last + '/' + first:>9}  met"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        ratio = row.ratio(first, last)
        cells = []
        for label in labels:
            figure = row.figure(label)
            cells.append(f"{'-' if figure is None else f'{figure:,.1f}':>9}")
        met = "n/a" if ratio is None else ("yes" if ratio <= GROWTH_LIMIT else "NO")
        ratio_text = "-" if ratio is None else f"{ratio:.2f}"
        lines.append(f"{row.case:<18} {row.unit:>8} " + " ".join(cells) + f" {ratio_text:>9}  {met}")
    return lines


def format_buffers(rows: list[GrowthRow], labels: list[str]) -> list[str]:
    """The pages' buffers read per view (8 kB pages touched by their SELECTs): what each page reads
    at each size, free of the machine's noise."""
    first, last = labels[0], labels[-1]
    header = f"{'case':<18} " + " ".join(f"{label:>9}" for label in labels) + f" {last + '/' + first:>9}"
    lines = [header, "-" * len(header)]
    for row in rows:
        if not row.buffers:
            continue
        figures = [row.buffers_read(label) for label in labels]
        cells = " ".join(f"{'-' if f is None else f'{f:,}':>9}" for f in figures)
        ratio = "-" if not figures[0] or figures[-1] is None else f"{figures[-1] / figures[0]:.2f}"
        lines.append(f"{row.case:<18} {cells} {ratio:>9}")
    return lines


def format_rounds(rows: list[GrowthRow], labels: list[str]) -> list[str]:
    """Every round's figure, so the spread behind each median can be seen."""
    lines = []
    for row in rows:
        parts = []
        for label in labels:
            values = row.rounds.get(label) or []
            parts.append(f"{label}: " + " ".join(f"{v:,.1f}" for v in values))
        lines.append(f"{row.case:<18} " + " | ".join(parts))
    return lines


def measure(
    data_sets: list[DataSet],
    *,
    cases: list[str],
    rounds: int,
    runs: int,
    manage_py: Path,
    echo: Callable[[str], None] = print,
    isolated: bool = False,
    fresh: bool = False,
    bench_options: tuple[str, ...] = (),
) -> list[GrowthRow]:
    """``rounds`` rounds over the data sets in turn; each data set is vacuumed in the first round only
    (each fresh copy in every round); ``isolated``: each run on a page cache holding its data set
    alone (``isolate``); ``fresh``: each run on a new copy of its data set (``fresh_copy``)."""
    results: dict[str, list[list[dict]]] = {d.label: [] for d in data_sets}
    for number in range(rounds):
        for data_set in data_sets:
            echo(f"round {number + 1}/{rounds}: {data_set.label}")
            with fresh_copy(data_set) if fresh else nullcontext(data_set) as target:
                if fresh:
                    echo(f"  {data_set.label}: a fresh copy of the data set")
                if isolated:
                    isolate(target, echo)
                results[data_set.label].append(
                    bench_once(
                        target,
                        cases=cases,
                        runs=runs,
                        vacuum=fresh or number == 0,
                        manage_py=manage_py,
                        bench_options=bench_options,
                    )
                )
    return combine(results)
