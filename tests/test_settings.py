"""Settings come from the environment; production refuses insecure defaults and passes
``check --deploy`` (DESIGN.md, Settings)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings

REPO_ROOT = Path(__file__).resolve().parent.parent
REQUIRED = ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "FIELD_ENCRYPTION_KEYS", "AUDIT_SEAL_KEY")


def production_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in REQUIRED and not k.startswith("DJANGO_")}
    env.pop("DATABASE_URL", None)  # the embedded default is enough for settings and checks
    env.update(DJANGO_ENV="production", DJANGO_SETTINGS_MODULE="consentoffice.settings", **values)
    return env


def good_values() -> dict[str, str]:
    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "info-center.example.jp",
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "AUDIT_SEAL_KEY": secrets.token_urlsafe(48),
    }


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)


def setup_django(env: dict[str, str]) -> subprocess.CompletedProcess:
    return run([sys.executable, "-c", "import django; django.setup()"], env)


def test_production_refuses_to_start_without_any_of_the_required_variables():
    result = setup_django(production_env())

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    for name in REQUIRED:
        assert name in result.stderr


@pytest.mark.parametrize("missing", REQUIRED)
def test_production_names_exactly_the_missing_variable(missing):
    values = good_values()
    del values[missing]

    result = setup_django(production_env(**values))

    assert result.returncode != 0
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("django.core.exceptions.ImproperlyConfigured")
    assert missing in error
    assert all(name not in error for name in REQUIRED if name != missing)


@pytest.mark.parametrize(
    "override",
    [
        {"DJANGO_SECRET_KEY": "too-short-secret"},
        {"DJANGO_SECRET_KEY": "dev-only-insecure-consentoffice-secret-key-never-use-in-production"},
        {"FIELD_ENCRYPTION_KEYS": "ZGV2LW9ubHkta2V5LWNvbnNlbnRvZmZpY2UtMzItYnk="},
        {"FIELD_ENCRYPTION_KEYS": "not-a-fernet-key"},
    ],
    ids=["short-secret", "development-secret", "development-key", "malformed-key"],
)
def test_production_refuses_insecure_or_malformed_values(override):
    values = {**good_values(), **override}
    script = "import django; django.setup(); from consentoffice.core import crypto; crypto.encrypt('x')"

    result = run([sys.executable, "-c", script], production_env(**values))

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    for value in override.values():
        assert value not in result.stderr  # secrets are never echoed


@pytest.mark.parametrize("seal_key", ["short-seal-key", "same-as-secret"])
def test_production_refuses_a_weak_or_shared_audit_seal_key(seal_key):
    values = good_values()
    values["AUDIT_SEAL_KEY"] = values["DJANGO_SECRET_KEY"] if seal_key == "same-as-secret" else seal_key

    result = setup_django(production_env(**values))

    assert result.returncode != 0
    assert "AUDIT_SEAL_KEY must be at least 32 characters" in result.stderr
    assert values["AUDIT_SEAL_KEY"] not in result.stderr


def test_production_with_all_variables_set_starts():
    result = setup_django(production_env(**good_values()))
    assert result.returncode == 0, result.stderr


def test_production_passes_check_deploy_without_warnings():
    result = run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        production_env(**good_values()),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_japanese_language_and_tokyo_time_are_the_defaults():
    assert settings.LANGUAGE_CODE == "ja"
    assert settings.TIME_ZONE == "Asia/Tokyo"
    assert settings.USE_TZ is True


def test_a_malformed_trusted_proxy_is_refused_and_a_good_one_turns_the_header_on():
    bad = setup_django(production_env(**good_values(), DJANGO_TRUSTED_PROXIES="proxy.example.jp"))
    assert bad.returncode != 0 and "DJANGO_TRUSTED_PROXIES" in bad.stderr

    script = "import django; django.setup(); from django.conf import settings as s; print(s.SECURE_PROXY_SSL_HEADER)"
    without = run([sys.executable, "-c", script], production_env(**good_values()))
    with_proxy = run(
        [sys.executable, "-c", script], production_env(**good_values(), DJANGO_TRUSTED_PROXIES="10.0.0.0/24")
    )
    assert without.stdout.strip() == "None"
    assert with_proxy.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')"


@pytest.mark.parametrize(
    "override",
    [
        {"PARTNER_ENDPOINT_PRIVATE_NETWORKS": "partner-line.example.jp"},
        {"PARTNER_ENDPOINT_CA_BUNDLE": "/nonexistent/affiliates-ca.pem"},
    ],
    ids=["network", "ca-bundle"],
)
def test_the_production_settings_of_the_affiliates_line_are_checked_at_start(override):
    result = setup_django(production_env(**good_values(), **override))
    assert result.returncode != 0 and next(iter(override)) in result.stderr


def test_the_embedded_broker_writes_only_under_var(tmp_path):
    """A worker on the embedded broker binds its control queue (worker remote control) in a
    folder of kombu's; that folder, like the queues, is under var/, never ``control/`` in the
    directory the command was started from."""
    import time

    var, cwd = tmp_path / "var", tmp_path / "elsewhere"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL", "DJANGO_ENV")}
    env.update(
        CONSENTOFFICE_VAR_DIR=str(var),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DJANGO_SETTINGS_MODULE="consentoffice.settings",
        PYTHONPATH=str(REPO_ROOT),
    )
    args = [sys.executable, "-m", "celery", "-A", "consentoffice", "worker", "--pool=solo"]
    args += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "warning"]
    worker = subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    control = var / "celery-broker" / "control"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and worker.poll() is None:
            if control.is_dir() or (cwd / "control").exists():
                break
            time.sleep(0.2)
    finally:
        worker.terminate()
        _out, err = worker.communicate(timeout=30)
    assert control.is_dir(), err.decode()[-2000:]
    assert list(cwd.iterdir()) == []


@pytest.mark.parametrize(("value", "threshold"), [(None, "0"), ("on", "0"), ("off", "None")])
def test_prepared_statements_on_postgresql_can_be_turned_off_for_a_pooler(value, threshold):
    """Only a PostgreSQL database gets ``prepare_threshold``; DATABASE_PREPARED_STATEMENTS=off
    leaves psycopg's default (Django: none prepared), as a transaction pooler needs."""
    env = production_env(**good_values(), DATABASE_URL="postgres://u@127.0.0.1:5432/db")
    if value is not None:
        env["DATABASE_PREPARED_STATEMENTS"] = value
    code = "from django.conf import settings; print(settings.DATABASES['default'].get('OPTIONS', {}).get('prepare_threshold'))"
    result = run([sys.executable, "-c", code], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == threshold
    sqlite = run([sys.executable, "-c", code], production_env(**good_values()))
    assert sqlite.stdout.strip() == "None"


def test_a_misspelt_prepared_statements_setting_is_refused():
    env = production_env(**good_values(), DATABASE_PREPARED_STATEMENTS="no")
    result = setup_django(env)
    assert result.returncode != 0
    assert "DATABASE_PREPARED_STATEMENTS must be 'on' or 'off'" in result.stderr


@pytest.mark.parametrize(
    ("cache_url", "engine"),
    [
        ("redis://127.0.0.1:6379/1", "django.contrib.sessions.backends.cached_db"),
        ("", "django.contrib.sessions.backends.db"),
    ],
)
def test_sessions_are_cached_only_in_a_cache_every_process_shares(cache_url, engine):
    """A per-process cache would keep a session that another process ended (tests/security/
    test_auth.py runs both engines)."""
    env = production_env(**good_values(), CACHE_URL=cache_url)
    code = "from django.conf import settings; print(settings.SESSION_ENGINE)"
    result = run([sys.executable, "-c", code], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == engine
