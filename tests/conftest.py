"""Shared fixtures. Service-dependent tests skip on a laptop without the service and fail in
CI (REQUIRE_SERVICES=1) when it cannot be reached."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile
import time
from urllib.parse import urlparse

# Tests never touch the developer's embedded broker folder or the real encryption keys.
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ.setdefault("CONSENTOFFICE_VAR_DIR", os.path.join(os.path.dirname(__file__), "..", "var", "test"))
# Each test process (each xdist worker) counts requests and tasks in metrics files of its own.
if "METRICS_DIR" not in os.environ:
    os.environ["METRICS_DIR"] = tempfile.mkdtemp(prefix="consentoffice-metrics-")
    atexit.register(shutil.rmtree, os.environ["METRICS_DIR"], ignore_errors=True)

import pytest
from django.contrib.auth.models import Group
from django.test import Client as DjangoClient

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
# Roles whose users log in with a TOTP code after the password (consentoffice.accounts.twofactor).
OTP_ROLES = ("supervisor", "privacy_officer")


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
    from django.contrib.auth.management import create_permissions
    from django.contrib.contenttypes.management import create_contenttypes
    from django.contrib.contenttypes.models import ContentType

    from consentoffice.core.roles import sync_role_permissions

    # The flush may have left content types and permissions missing (and their cache stale):
    # the principals (system, affiliate) hold nothing but these permissions.
    ContentType.objects.clear_cache()
    for app_config in apps.get_app_configs():
        create_contenttypes(app_config, verbosity=0)
        create_permissions(app_config, verbosity=0)
    for module in (
        "consentoffice.migrations.0002_role_groups",
        "members.migrations.0002_purposes_and_first_consent_version",
        "bureaus.migrations.0002_bureau_rows",
    ):
        migration = import_module(module)
        (getattr(migration, "forwards", None) or migration.create_groups)(apps, None)
    sync_role_permissions(apps=apps)


@pytest.fixture
def private_storage(settings, tmp_path):
    """Disclosure packages and bureau files go to a private storage of the test's own."""
    from django.core.files.storage import storages

    root = tmp_path / "private"
    settings.PRIVATE_STORAGE_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {**settings.STORAGES["private"]["OPTIONS"], "location": str(root)},
        },
    }
    storages._storages.pop("private", None)
    yield root
    storages._storages.pop("private", None)


@pytest.fixture
def redis_available():
    need_service("Redis", _reachable(redis_url(), 6379))
    return redis_url()


TEST_PASSWORD = "pw-for-tests-only-123"  # passes AUTH_PASSWORD_VALIDATORS (tests/security)


def totp_token(device) -> str:
    """The code an authenticator app would show now for ``device`` (a real AuthenticatorDevice).

    Each time step's code is accepted once; when this step's code was already used (two logins
    within 30 seconds), the next step's code is given, which the device's tolerance accepts."""
    device.refresh_from_db()
    totp = device.totp()
    if totp.t() <= device.last_t:
        totp.time += (device.last_t + 1 - totp.t()) * device.STEP
    return f"{totp.token():0{device.DIGITS}d}"


class Client(DjangoClient):
    """The test client; ``force_login`` of a user who holds a confirmed TOTP device also marks
    the session verified with that device, as the second-factor page would after a right code.

    The rule itself stays on: a supervisor without a device, or logged in with
    ``force_login(user, otp=False)``, is sent to the code page like anyone else. ``login_as``
    goes through the real pages (password, then a real code)."""

    def force_login(self, user, backend=None, *, otp: bool = True):
        super().force_login(user, backend)
        from consentoffice.accounts.security import SESSION_RENEWED_KEY

        session = self.session
        # What the response to a real login leaves: a session renewed just now.
        session[SESSION_RENEWED_KEY] = int(time.time())
        if otp:
            from django_otp import DEVICE_ID_SESSION_KEY

            from consentoffice.accounts.twofactor import confirmed_device

            device = confirmed_device(user)
            if device is not None:
                session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()

    def login(self, **credentials):
        """Like Django's, with a request for django-axes (it refuses to judge a login without)."""
        from django.contrib.auth import authenticate
        from django.test import RequestFactory

        user = authenticate(RequestFactory().post("/admin/login/"), **credentials)
        if user is None:
            return False
        self.force_login(user)
        return True


@pytest.fixture
def client():
    return Client()


def login_as(client, user, password: str = TEST_PASSWORD, *, next_url: str = "/admin/"):
    """Log ``user`` in through the real pages: the admin login form, then (for roles that need
    it) the second-factor page with a code computed from the user's own device key. Returns the
    last response (a redirect to ``next_url`` when everything passed)."""
    from consentoffice.accounts.twofactor import confirmed_device

    response = client.post(
        "/admin/login/", {"username": user.get_username(), "password": password, "next": next_url}
    )
    if response.status_code != 302:
        return response
    landing = client.get(response["Location"])
    if landing.status_code != 302 or not landing["Location"].startswith("/account/otp/"):
        return response
    device = confirmed_device(user)
    assert device is not None, f"{user.get_username()} has no confirmed TOTP device"
    return client.post("/account/otp/", {"otp_token": totp_token(device), "next": next_url})


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters live in the cache: every test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _own_audit_anchors(settings, tmp_path):
    """Each test anchors its audit chain in a file of its own (its database is its own too)."""
    settings.AUDIT_ANCHOR_FILE = tmp_path / "audit-anchors.log"


def _user(django_user_model, username: str, role: str | None):
    user = django_user_model.objects.create_user(
        username=username, password=TEST_PASSWORD, is_staff=role is not None
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    if role in OTP_ROLES:
        from consentoffice.accounts.twofactor import create_confirmed_device

        create_confirmed_device(user, name="テスト用")
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


def _used_transactional_db(item) -> bool:
    """Did the test run on the real (committed) test database, whose teardown flushes it?"""
    marker = item.get_closest_marker("django_db")
    return bool(marker and marker.kwargs.get("transaction")) or bool(
        {"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ()))
    )


# What the migrations left in each test database, as pytest-django serialized it when it created
# the database: kept here, not only on the connection object, which a test may have replaced.
_MIGRATED_ROWS = pytest.StashKey[dict]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a transactional test, the database holds exactly what the migrations left in it.

    Its teardown flushes every table, without the post_migrate handlers when it restores
    (``serialized_rollback``); Django puts the saved rows back only when the next *transactional*
    test starts. pytest-django runs the transactional tests after the other database tests, but it
    sorts by the fixtures it can see: a test that gets ``db`` through ``request.getfixturevalue`` is
    sorted after them and found no role groups (``Group matching query does not exist``) whenever a
    transactional test ran before it on the same worker. In one CI run (one process) such a test
    found the role groups but no purposes: a flush with the post_migrate handlers (which create the
    groups, not the data migrations' rows) and nothing restored. So after every test that used the
    committed database, each test database is flushed and the saved rows loaded again, from a copy
    this hook keeps itself; the order of the suite cannot matter."""
    result = yield
    saved_rows = item.config.stash.setdefault(_MIGRATED_ROWS, {})
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        contents = getattr(connection, "_test_serialized_contents", None)
        if contents is not None:
            saved_rows.setdefault(connection.alias, contents)
    # After the session's last test its test databases are gone too (the connections point at
    # the real ones again): nothing is left to restore.
    if nextitem is not None and saved_rows and _used_transactional_db(item):
        from django.contrib.contenttypes.models import ContentType
        from django.core.management import call_command
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            for alias, contents in saved_rows.items():
                connection = connections[alias]
                call_command(
                    "flush",
                    database=alias,
                    interactive=False,
                    verbosity=0,
                    inhibit_post_migrate=True,
                    reset_sequences=False,
                )
                connection.creation.deserialize_db_from_string(contents)
                connection.close()
        ContentType.objects.clear_cache()
    return result


def pytest_collection_modifyitems(config, items):
    """Every transactional test restores the database it found (``serialized_rollback``).

    A transactional test without it leaves its teardown's flush to the post_migrate handlers,
    which re-create the role groups under new ids; a later ``serialized_rollback`` test then fails
    to restore the saved groups (duplicate name) — or passes, depending on the order of the suite.
    """
    offenders = [
        item.nodeid
        for item in items
        if (marker := item.get_closest_marker("django_db"))
        and marker.kwargs.get("transaction")
        and not marker.kwargs.get("serialized_rollback")
    ]
    if offenders:
        raise pytest.UsageError(
            "transactional tests must use serialized_rollback=True: " + ", ".join(sorted(offenders))
        )
