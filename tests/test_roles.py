"""Roles (consentoffice.core.roles): one table decides what each group may do."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission

from consentoffice.core import roles


def apps_with_models() -> set[str]:
    return {config.label for config in apps.get_app_configs() if list(config.get_models())}


def wanted(role: str) -> set[str]:
    """The role's permissions for apps whose models exist now."""
    present = apps_with_models()
    return {perm for perm in roles.ROLE_PERMISSIONS[role] if perm.split(".", 1)[0] in present}


def held(group: Group) -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


def existing_permissions() -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in Permission.objects.values_list("content_type__app_label", "codename")
    }


def test_members_and_bureaus_have_models():
    assert {"members", "bureaus"} <= apps_with_models()


@pytest.mark.parametrize("role", roles.ROLES)
def test_every_role_permission_of_an_app_with_models_exists(db, role):
    assert wanted(role) - existing_permissions() == set()


@pytest.mark.parametrize("role", roles.ROLES)
def test_each_group_holds_exactly_its_permissions_after_migrate(db, role):
    assert held(Group.objects.get(name=role)) == wanted(role)


def test_privacy_officer_has_everything_a_supervisor_has_and_a_supervisor_everything_an_operator_has(db):
    table = roles.ROLE_PERMISSIONS
    assert table[roles.OPERATOR] < table[roles.SUPERVISOR] < table[roles.PRIVACY_OFFICER]
    groups = {role: held(Group.objects.get(name=role)) for role in roles.ROLES}
    assert groups[roles.OPERATOR] < groups[roles.SUPERVISOR] < groups[roles.PRIVACY_OFFICER]


def test_operators_cannot_see_sensitive_data(operator, supervisor, privacy_officer):
    assert roles.VIEW_SENSITIVE == "members.view_sensitive_data"
    assert roles.VIEW_SENSITIVE not in roles.ROLE_PERMISSIONS[roles.OPERATOR]
    assert not operator.has_perm(roles.VIEW_SENSITIVE)
    assert supervisor.has_perm(roles.VIEW_SENSITIVE)
    assert privacy_officer.has_perm(roles.VIEW_SENSITIVE)


def test_only_privacy_officers_publish_consent_versions(operator, supervisor, privacy_officer):
    assert not operator.has_perm(roles.PUBLISH_CONSENT_VERSION)
    assert not supervisor.has_perm(roles.PUBLISH_CONSENT_VERSION)
    assert privacy_officer.has_perm(roles.PUBLISH_CONSENT_VERSION)


def test_syncing_the_roles_again_restores_drifted_groups(db):
    operator_group = Group.objects.get(name=roles.OPERATOR)
    operator_group.permissions.add(Permission.objects.get(codename="view_sensitive_data"))
    operator_group.permissions.remove(Permission.objects.get(codename="view_member"))

    roles.sync_role_permissions()

    assert held(operator_group) == wanted(roles.OPERATOR)


def test_role_of_names_the_strongest_role(operator, supervisor, privacy_officer, nobody):
    assert roles.role_of(operator) == roles.OPERATOR
    assert roles.role_of(supervisor) == roles.SUPERVISOR
    assert roles.role_of(privacy_officer) == roles.PRIVACY_OFFICER
    assert roles.role_of(nobody) is None
    assert roles.role_of(None) is None


# --- Principals that are not people: least privilege, never superuser -----------------------


def _principals():
    from consentoffice.core.history import affiliate_user, system_user

    return {roles.SYSTEM: system_user(), roles.AFFILIATE: affiliate_user("sakura")}


def test_each_principal_holds_exactly_the_permissions_its_code_paths_ask_for(db):
    listed = {}
    for name, user in _principals().items():
        listed[name] = sorted(user.get_all_permissions())
        assert not user.is_superuser, f"{user.username} is a superuser"
        assert not user.is_staff and not user.has_usable_password()
        assert set(listed[name]) == roles.PRINCIPAL_PERMISSIONS[name]
        assert roles.role_of(user) is None  # a principal is no operator, supervisor or officer
    assert listed[roles.AFFILIATE] == ["members.change_member"]
    assert not any(perm in listed[roles.SYSTEM] for perm in (roles.APPROVE_TICKET, roles.VIEW_SENSITIVE))


def test_no_synthetic_user_is_a_superuser_after_the_tasks_have_run(db):
    from django.contrib.auth import get_user_model

    _principals()
    assert not get_user_model().objects.filter(is_superuser=True, password__startswith="!").exists()


@pytest.mark.parametrize("name", roles.PRINCIPALS)
def test_each_principal_group_holds_exactly_its_permissions_after_migrate(db, name):
    assert held(Group.objects.get(name=name)) == roles.PRINCIPAL_PERMISSIONS[name]


def test_the_migration_takes_superuser_away_from_existing_principals(db, django_user_model):
    from importlib import import_module

    migration = import_module("consentoffice.migrations.0008_principal_groups")
    made = {}
    for username in ("system", "affiliate-sakura", "admin"):
        user = django_user_model.objects.create_user(username=username, is_superuser=True)
        if username == "admin":
            user.set_password("a-real-password-123")
            user.save()
        made[username] = user
    migration.forwards(apps, None)
    for username, user in made.items():
        user.refresh_from_db()
        assert user.is_superuser is (username == "admin")
    assert made["system"].groups.filter(name=roles.SYSTEM).exists()
    assert made["affiliate-sakura"].groups.filter(name=roles.AFFILIATE).exists()
