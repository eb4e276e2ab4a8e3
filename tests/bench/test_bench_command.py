"""``manage.py bench`` on a tiny data set: every row of the table is printed (no timing asserted)."""

from __future__ import annotations

import pstats
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from consentoffice.devtools import bench as benchmarks
from members.models import AccessLog, Member, PartnerSyncEvent
from requests.models import Reminder, Ticket

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def tiny_data_set():
    # A transactional test before this one may have flushed the permission rows; migrate's
    # post_migrate signal creates them again and gives the role groups their permissions.
    call_command("migrate", verbosity=0)
    call_command("seed_bulk", members=120, no_progress=True, stdout=StringIO())


def test_bench_prints_a_row_for_every_case_and_changes_nothing(tiny_data_set):
    before = (
        Member.objects.count(),
        Ticket.objects.count(),
        AccessLog.objects.count(),
        PartnerSyncEvent.objects.count(),
        Reminder.objects.count(),
    )
    out = StringIO()
    call_command("bench", runs=1, bureau_records=50, sync_events=20, reminder_tickets=300, stdout=out)
    text = out.getvalue()
    lines = text.splitlines()
    assert lines[0].startswith("machine: ") and "PostgreSQL" in lines[0]
    # Dead rows of earlier rolled-back runs are vacuumed away before anything is measured.
    assert any(line.startswith("VACUUM (ANALYZE) before measuring: ") for line in lines[:4])
    for case in benchmarks.ALL_CASES:
        assert any(line.startswith(case + " ") for line in lines), case
    assert "failed" not in text
    member_list = next(line for line in lines if line.startswith("member_list "))
    assert "x " in member_list  # the ratio to the plain admin
    assert (
        Member.objects.count(),
        Ticket.objects.count(),
        AccessLog.objects.count(),
        PartnerSyncEvent.objects.count(),
        Reminder.objects.count(),
    ) == before


def test_bench_only_runs_the_named_cases(tiny_data_set):
    out = StringIO()
    call_command("bench", runs=1, only="member_list,search_phone,dashboard", no_vacuum=True, stdout=out)
    cases = [
        line.split()[0]
        for line in out.getvalue().splitlines()
        if line and line.split()[0] in benchmarks.ALL_CASES
    ]
    assert cases == ["member_list", "search_phone", "dashboard"]
    assert "VACUUM" not in out.getvalue()


def test_bench_profiles_each_page_into_its_own_file(tiny_data_set, tmp_path):
    out = StringIO()
    call_command(
        "bench", runs=2, only="workspace,home", no_vacuum=True, profile_dir=str(tmp_path / "p"), stdout=out
    )
    for name in ("workspace", "home"):
        path = tmp_path / "p" / f"{name}.prof"
        assert f"profile: {path}" in out.getvalue()
        stats = pstats.Stats(str(path))
        # The page's own view ran under the profiler, twice.
        calls = {func[2]: counts[1] for func, counts in stats.stats.items()}
        assert calls.get(name) == 2, sorted(calls)[:20]


def test_bench_refuses_an_unknown_case():
    with pytest.raises(CommandError):
        call_command("bench", only="nonsense", stdout=StringIO())


def test_the_plain_admin_searches_the_same_fields_as_the_member_search():
    assert {"member_no", "phone", "family_name_kana", "given_name_kana", "family_name"} <= set(
        benchmarks.PlainMemberAdmin.search_fields
    )
