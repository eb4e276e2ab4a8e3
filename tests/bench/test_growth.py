"""``manage.py bench_growth``: ``bench`` on data sets of several sizes, in rounds, as one table."""

from __future__ import annotations

import json
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from consentoffice.devtools.bench import growth
from consentoffice.devtools.bench.children import database_url


def test_data_sets_are_label_url_pairs_with_distinct_labels():
    parsed = growth.parse_data_sets(["250k=postgres://h/a", "1M=postgres://h/b?x=1"])
    assert [(d.label, d.url) for d in parsed] == [("250k", "postgres://h/a"), ("1M", "postgres://h/b?x=1")]
    for bad in (
        ["postgres://h/a", "1M=postgres://h/b"],
        ["a=u", "a=v"],
        ["a=u"],
        ["=u", "b=v"],
        ["a=", "b=v"],
    ):
        with pytest.raises(ValueError):
            growth.parse_data_sets(bad)


def test_the_table_shows_the_median_of_the_rounds_and_judges_the_ratio():
    page = {"name": "overdue_queue", "median_ms": 10.0, "units": None, "buffers": 500}
    job = {"name": "bureau_batch", "median_ms": 50_000.0, "units": 1_000_000}
    results = {
        "250k": [
            [page, job],
            [{**page, "median_ms": 30.0}, job],  # one slow round: the median keeps it out
            [{**page, "median_ms": 11.0}, job],
        ],
        "1M": [
            [{**page, "median_ms": 13.0, "buffers": 510}, {**job, "median_ms": 80_000.0}],
            [{**page, "median_ms": 12.0}, {**job, "median_ms": 70_000.0}],
            [{**page, "median_ms": 14.0}, {**job, "median_ms": 75_000.0}],
        ],
    }
    rows = growth.combine(results)
    assert [(r.case, r.unit) for r in rows] == [("overdue_queue", "ms"), ("bureau_batch", "µs/unit")]
    overdue, batch = rows
    assert overdue.figure("250k") == 11.0 and overdue.figure("1M") == 13.0
    assert overdue.ratio("250k", "1M") == pytest.approx(13 / 11)
    assert batch.figure("250k") == 50.0 and batch.figure("1M") == 75.0  # µs per record
    lines = growth.format_table(rows, ["250k", "1M"])
    assert lines[0].split() == ["case", "unit", "250k", "1M", "1M/250k", "met"]
    assert lines[2].split() == ["overdue_queue", "ms", "11.0", "13.0", "1.18", "yes"]
    assert lines[3].split() == ["bureau_batch", "µs/unit", "50.0", "75.0", "1.50", "NO"]
    buffers = growth.format_buffers(rows, ["250k", "1M"])
    assert buffers[0].split() == ["case", "250k", "1M", "1M/250k"]
    assert buffers[2:] == [buffers[2]] and buffers[2].split() == ["overdue_queue", "500", "500", "1.00"]
    spread = growth.format_rounds(rows, ["250k", "1M"])
    assert spread[0].split() == [
        "overdue_queue",
        "250k:",
        "10.0",
        "30.0",
        "11.0",
        "|",
        "1M:",
        "13.0",
        "12.0",
        "14.0",
    ]


def test_a_case_that_measured_nothing_is_left_out():
    rows = growth.combine({"a": [[{"name": "disclosure", "median_ms": None}]], "b": [[]]})
    assert rows == []


def test_the_command_refuses_bad_arguments():
    for args, options in (
        (["only-one=postgres://h/a"], {}),
        (["a=postgres://h/a", "b=postgres://h/b"], {"only": "nonsense"}),
        (["a=postgres://h/a", "b=postgres://h/b"], {"rounds": 0}),
        (["a=postgres://h/a", "b=postgres://h/b"], {"bureau_records": 0}),
    ):
        with pytest.raises(CommandError):
            call_command("bench_growth", *args, stdout=StringIO(), **options)


def test_bench_growth_passes_the_batch_size_to_every_bench(monkeypatch):
    """``--bureau-records``: the batch size every data set holds as seeded rows, on each ``bench``
    command line (none without it)."""
    commands = []

    def run(command, **kwargs):
        commands.append(command)
        Path(command[command.index("--json") + 1]).write_text("[]", encoding="utf-8")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(growth.subprocess, "run", run)
    call_command(
        "bench_growth",
        "a=postgres://h/a",
        "b=postgres://h/b",
        rounds=2,
        runs=1,
        only="bureau_batch",
        bureau_records=200_000,
        stdout=StringIO(),
    )
    assert len(commands) == 4
    for command in commands:
        assert command[command.index("--bureau-records") + 1] == "200000"
    commands.clear()
    call_command("bench_growth", "a=postgres://h/a", "b=postgres://h/b", rounds=1, runs=1, stdout=StringIO())
    assert len(commands) == 2 and not any("--bureau-records" in c for c in commands)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_bench_growth_runs_bench_in_rounds_on_every_data_set(tmp_path):
    """Two labels for the test database: each round runs ``bench`` in a child process against each;
    the table has a figure per label for each case, and ``bench --json`` wrote what it read."""
    call_command("migrate", verbosity=0)
    call_command("seed_bulk", members=60, no_progress=True, stdout=StringIO())
    url = database_url()
    out = StringIO()
    call_command(
        "bench_growth",
        f"small={url}",
        f"large={url}",
        rounds=2,
        runs=1,
        only="member_list,home",
        isolate=True,
        stdout=out,
    )
    text = out.getvalue()
    assert text.count("round ") == 4  # 2 rounds × 2 data sets
    assert text.count("GB read into it") == 4  # --isolate: each run on its own data set's cache
    table = text.split("each round:")[0].splitlines()
    for case in ("member_list", "home"):
        line = next(line for line in table if line.startswith(case + " "))
        cells = line.split()
        assert cells[1] == "ms" and float(cells[2]) > 0 and float(cells[3]) > 0, line
    assert "buffers read per view" in text
    rounds = text.split("each round:")[1]
    assert rounds.count("small:") == 2 and rounds.count("large:") == 2
    # The JSON bench writes for it: one object per row with the fields of the table.
    path = tmp_path / "rows.json"
    call_command("bench", runs=1, only="home", no_vacuum=True, json_path=str(path), stdout=StringIO())
    rows = json.loads(path.read_text(encoding="utf-8"))
    assert [r["name"] for r in rows] == ["home"] and rows[0]["median_ms"] > 0 and rows[0]["queries"] > 0
    assert rows[0]["buffers"] > 0  # the home page reads the user, the session, the tickets


def test_emptying_the_page_cache_writes_3_where_allowed_and_says_so_where_not(tmp_path):
    target = tmp_path / "drop_caches"
    assert growth.drop_page_cache(str(target)) is True
    assert target.read_text() == "3"
    assert growth.drop_page_cache(str(tmp_path)) is False  # a directory: not writable as a file


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_prewarm_reads_every_relation_and_leaves_no_extension_behind():
    from django.db import connection

    call_command("migrate", verbosity=0)
    relations, blocks = growth.prewarm(database_url())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'i', 't', 'm') AND c.relpersistence = 'p' "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
        )
        (expected,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM pg_extension WHERE extname = 'pg_prewarm'")
        (installed,) = cursor.fetchone()
    assert relations == expected > 100  # every table, partition, index and TOAST table of the schema
    assert blocks > 0
    assert installed == 0
    with pytest.raises(RuntimeError, match="prewarm failed"):
        growth.prewarm(database_url().rsplit("/", 1)[0] + "/no_such_database_here")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_fresh_copy_holds_the_data_set_keeps_nothing_and_is_dropped_even_after_a_failure():
    """``--fresh-copy``: each run measures a copy made from the data set as a template; what the run
    writes stays in the copy, and the copy is gone afterwards, also when the run failed."""
    import psycopg
    from django.db import connections

    from members.models import Member

    call_command("migrate", verbosity=0)
    call_command("seed_bulk", members=30, no_progress=True, stdout=StringIO())
    members = Member.objects.count()
    table = Member._meta.db_table
    url = database_url()
    connections.close_all()  # a template must have no other connection while it is copied
    data_set = growth.DataSet("small", url)
    with growth.fresh_copy(data_set) as copy:
        assert copy.label == "small" and copy.url != url
        copy_name = copy.url.rsplit("/", 1)[1]
        assert copy_name.endswith(growth.COPY_SUFFIX)
        with psycopg.connect(copy.url, autocommit=True) as conn:
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == members
            conn.execute("CREATE TABLE growth_probe (x int)")
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT to_regclass('growth_probe')").fetchone()[0] is None
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == members
        assert (
            conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [copy_name]).fetchone()[0]
            == 0
        )
    with pytest.raises(LookupError):
        with growth.fresh_copy(data_set):
            raise LookupError("the run failed")
    with psycopg.connect(url) as conn:
        assert (
            conn.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [copy_name]).fetchone()[0]
            == 0
        )
    with pytest.raises(RuntimeError, match="copy of gone failed"):
        with growth.fresh_copy(growth.DataSet("gone", url.rsplit("/", 1)[0] + "/no_such_database_here")):
            pass
    out = StringIO()
    call_command(
        "bench_growth",
        f"small={url}",
        f"large={url}",
        rounds=1,
        runs=1,
        only="home",
        fresh_copy=True,
        stdout=out,
    )
    text = out.getvalue()
    assert text.count("a fresh copy of the data set") == 2
    home = next(line for line in text.splitlines() if line.startswith("home "))
    assert float(home.split()[2]) > 0 and float(home.split()[3]) > 0, home
