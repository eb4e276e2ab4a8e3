"""The database a test finds does not depend on which tests ran before it (issue 17).

pytest-django runs these two in this order in one process: the transactional test first (it sees
its marker), the other last (it gets ``db`` only through ``getfixturevalue``, which pytest-django
cannot see). Without ``pytest_runtest_teardown`` in tests/conftest.py, the second found the tables
flushed by the first: no role groups, no purposes, no bureaus."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from bureaus.models import Bureau
from consentoffice.core.roles import ROLES
from members.models import Purpose


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_transactional_test_flushes_its_tables():
    Group.objects.create(name="only-in-this-test")


def test_a_test_on_the_committed_database_without_the_marker(transactional_db):
    """Its teardown flushes with the post_migrate handlers: they create the role groups again,
    not the purposes and bureaus of the data migrations (the CI symptom of 2026-12-07)."""
    Group.objects.create(name="only-in-this-test")


def test_a_later_test_finds_what_the_migrations_created(request):
    request.getfixturevalue("db")
    names = set(Group.objects.values_list("name", flat=True))
    assert set(ROLES) <= names
    assert "only-in-this-test" not in names
    assert Purpose.objects.exists()
    assert Bureau.objects.exists()
