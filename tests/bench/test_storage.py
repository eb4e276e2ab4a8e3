"""``manage.py storage``: sizes per table and per member from PostgreSQL's catalogue."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from consentoffice.devtools import storage
from tests.factories import MemberFactory


@pytest.mark.postgres
@pytest.mark.django_db
def test_storage_prints_every_large_table_its_history_and_the_size_per_member():
    MemberFactory.create_batch(3)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE members_member")
    out = io.StringIO()
    call_command("storage", tables=500, indexes=5, stdout=out)
    lines = out.getvalue().splitlines()

    names = {line.split()[0] for line in lines if line and not line.startswith(("-", "table", "index"))}
    assert {"members_member", "members_historicalmember", "history", "all"} <= names
    member_line = next(line for line in lines if line.startswith("members_member "))
    assert int(member_line.split()[1].replace(",", "")) == 3  # rows as ANALYZE estimated them
    assert "KB per member" in next(line for line in lines if line.startswith("members (est.): 3;"))
    sizes = {s.name: s for s in storage.table_sizes()}
    assert sizes["members_member"].heap > 0 and sizes["members_member"].indexes > 0
    assert sizes["members_historicalmember"].is_history and not sizes["members_member"].is_history
    listed = lines[lines.index(next(line for line in lines if line.startswith("index "))) + 1 :]
    assert len(listed) == 5 and all(line.split()[1] in sizes for line in listed)


@pytest.mark.django_db
def test_storage_refuses_other_databases_with_a_clear_message():
    if connection.vendor == "postgresql":
        pytest.skip("the refusal is for SQLite")
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("storage", stdout=io.StringIO())
