"""consentoffice.accounts.backends.ModelBackendOneQuery: Django's permission set, in one query."""

from __future__ import annotations

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consentoffice.accounts.backends import ModelBackendOneQuery

pytestmark = pytest.mark.django_db


def fresh(user):
    """The user as a new request loads it (no permission cache)."""
    return type(user).objects.get(pk=user.pk)


def django_set(user) -> set[str]:
    return ModelBackend().get_all_permissions(fresh(user))


def one_query_set(user) -> set[str]:
    return ModelBackendOneQuery().get_all_permissions(fresh(user))


@pytest.mark.parametrize("role", ["operator", "supervisor", "privacy_officer", "nobody"])
def test_every_role_gets_the_set_django_would_give(request, role):
    user = request.getfixturevalue(role)
    expected = django_set(user)
    assert one_query_set(user) == expected
    if role != "nobody":
        assert expected, "a role holds permissions through its group"


def test_own_permissions_group_permissions_and_both_are_united(django_user_model):
    user = django_user_model.objects.create_user("mixed", password="pw-for-tests-only-123")
    own = Permission.objects.get(codename="view_member")
    shared = Permission.objects.get(codename="view_ticket")
    group_only = Permission.objects.get(codename="view_submission")
    user.user_permissions.add(own, shared)
    group = Group.objects.create(name="test-mixed")
    group.permissions.add(shared, group_only)
    user.groups.add(group)
    other = Group.objects.create(name="test-not-mine")
    other.permissions.add(Permission.objects.get(codename="delete_member"))

    got = one_query_set(user)

    assert (
        got == django_set(user) == {"members.view_member", "requests.view_ticket", "bureaus.view_submission"}
    )


def test_one_query_then_the_request_cache(supervisor):
    user = fresh(supervisor)
    backend = ModelBackendOneQuery()
    with CaptureQueriesContext(connection) as captured:
        assert backend.has_perm(user, "members.view_member")
        assert not backend.has_perm(user, "members.no_such_permission")
        assert user.has_perm("requests.view_ticket")
    assert len(captured.captured_queries) == 1


def test_inactive_anonymous_and_object_permissions_are_empty(supervisor):
    from django.contrib.auth.models import AnonymousUser

    backend = ModelBackendOneQuery()
    inactive = fresh(supervisor)
    inactive.is_active = False
    assert backend.get_all_permissions(inactive) == set()
    assert backend.get_all_permissions(AnonymousUser()) == set()
    assert backend.get_all_permissions(fresh(supervisor), obj=object()) == set()


def test_a_superuser_has_every_permission(django_user_model):
    admin = django_user_model.objects.create_superuser("root-test", password="pw-for-tests-only-123")
    assert one_query_set(admin) == django_set(admin)
    assert len(one_query_set(admin)) == Permission.objects.count()
