"""Shared fixtures. Service-dependent tests skip on a laptop without the service and fail in
CI (REQUIRE_SERVICES=1) when it cannot be reached."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

# Tests never touch the developer's embedded broker folder or the real encryption keys.
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ.setdefault("CONSENTOFFICE_VAR_DIR", os.path.join(os.path.dirname(__file__), "..", "var", "test"))

import pytest
from django.contrib.auth.models import Group

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1
        ):
            return True
    except OSError:
        return False


def redis_url() -> str:
    return os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


def need_service(name: str, available: bool) -> None:
    """Skip when a service is missing, unless CI requires every service."""
    if available:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"{name} is required (REQUIRE_SERVICES=1) but not available")
    pytest.skip(f"{name} not available")


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Test users need no slow key derivation; production keeps Django's PBKDF2."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _require_marked_services(request):
    if request.node.get_closest_marker("postgres"):
        from django.db import connection

        need_service("PostgreSQL (DATABASE_URL)", connection.vendor == "postgresql")


@pytest.fixture(autouse=True)
def _reference_rows(request):
    """Tests on a flushed (transactional) database get the rows the data migrations create.

    A transactional test flushes every table when it ends; ``serialized_rollback`` restores them,
    but not in every order of the whole suite, so the migrations' own idempotent functions run
    again here rather than each test depending on what ran before it."""
    marker = request.node.get_closest_marker("django_db")
    if not (marker and marker.kwargs.get("transaction")) and "transactional_db" not in request.fixturenames:
        return
    request.getfixturevalue("transactional_db")
    from importlib import import_module

    from django.apps import apps

    from consentoffice.roles import sync_role_permissions

    for module in (
        "consentoffice.migrations.0002_role_groups",
        "members.migrations.0002_purposes_and_first_consent_version",
        "bureaus.migrations.0002_bureau_rows",
    ):
        migration = import_module(module)
        (getattr(migration, "forwards", None) or migration.create_groups)(apps, None)
    sync_role_permissions(apps=apps)


@pytest.fixture
def redis_available():
    need_service("Redis", _reachable(redis_url(), 6379))
    return redis_url()


def _user(django_user_model, username: str, role: str | None):
    user = django_user_model.objects.create_user(
        username=username, password="pw-for-tests-only-123", is_staff=role is not None
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return django_user_model.objects.get(pk=user.pk)  # fresh permission cache


@pytest.fixture
def operator(db, django_user_model):
    return _user(django_user_model, "operator1", "operator")


@pytest.fixture
def operator2(db, django_user_model):
    return _user(django_user_model, "operator2", "operator")


@pytest.fixture
def supervisor(db, django_user_model):
    return _user(django_user_model, "supervisor1", "supervisor")


@pytest.fixture
def supervisor2(db, django_user_model):
    return _user(django_user_model, "supervisor2", "supervisor")


@pytest.fixture
def privacy_officer(db, django_user_model):
    return _user(django_user_model, "privacy1", "privacy_officer")


@pytest.fixture
def privacy_officer2(db, django_user_model):
    return _user(django_user_model, "privacy2", "privacy_officer")


@pytest.fixture
def nobody(db, django_user_model):
    return _user(django_user_model, "nobody", None)
