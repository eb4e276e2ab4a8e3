"""The files of ``deploy/`` agree with the README's Production section (no services needed): the
units start exactly its commands with its environment file, the example environment names every
variable the settings read, and the units keep the processes confined."""

from __future__ import annotations

import configparser
import re
import shlex

import pytest

from tests.production import (
    DEPLOY,
    ENV_EXAMPLE,
    ENV_LINE,
    REPO_ROOT,
    env_file_variables,
    production_commands,
)

UNITS = {
    "web": "consentoffice-web.service",
    "worker": "consentoffice-worker@.service",
    "beat": "consentoffice-beat.service",
}
INSTALL_DIR = "/opt/consentoffice"
# Read by the settings but refused or ignored in production: not in the production file.
DEVELOPMENT_ONLY = {"DJANGO_DEBUG", "PARTNER_ENDPOINT_ALLOW_HTTP", "PARTNER_ENDPOINT_ALLOW_PRIVATE"}


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string((DEPLOY / name).read_text(encoding="utf-8"))
    return parser


def readme_environment_file() -> str:
    lines = [c.line for c in production_commands() if c.kind == "environment"]
    assert len(lines) == 1, "README, Production: one line loads the environment file"
    return ENV_LINE.match(lines[0]).group("path")


@pytest.mark.parametrize("kind", sorted(UNITS))
def test_each_unit_runs_the_readmes_command_with_its_environment_file(kind):
    service = unit(UNITS[kind])["Service"]
    readme = [c for c in production_commands() if c.kind == kind]
    assert len(readme) == 1, f"README, Production: one {kind} command"
    exec_start = shlex.split(service["ExecStart"].replace("%%", "%"))
    assert exec_start[0] == f"{INSTALL_DIR}/{readme[0].argv[0]}"
    # The worker template names each instance (--hostname); otherwise the very same arguments.
    arguments = [arg for arg in exec_start[1:] if not arg.startswith("--hostname=")]
    assert arguments == readme[0].argv[1:]
    assert service["EnvironmentFile"] == readme_environment_file()
    assert service["WorkingDirectory"] == INSTALL_DIR


@pytest.mark.parametrize("name", sorted(UNITS.values()))
def test_each_unit_runs_confined_as_its_own_user_and_restarts(name):
    service = unit(name)["Service"]
    assert service["User"] == "consentoffice" and service["Group"] == "consentoffice"
    assert service["NoNewPrivileges"] == "yes" and service["PrivateTmp"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"].split() == [f"{INSTALL_DIR}/var"]
    assert service["CapabilityBoundingSet"] == ""
    assert service["Restart"] in {"always", "on-failure"}


def test_the_example_environment_names_every_variable_the_settings_read():
    source = (REPO_ROOT / "consentoffice" / "settings.py").read_text(encoding="utf-8")
    read = set(
        re.findall(r'(?:os\.environ\.get|_env_list|_env_networks|_rate)\(\s*"([A-Z][A-Z0-9_]+)"', source)
    )
    assert read, "found no environment variables in the settings"
    example = env_file_variables(ENV_EXAMPLE)
    missing = sorted(read - DEVELOPMENT_ONLY - set(example))
    assert not missing, f"deploy/consentoffice.env.example lacks {missing}"
    # Each variable has a comment above it or in its group (no bare list of names).
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    assert text.count("\n#") >= len(example) // 3
    assert example["DJANGO_ENV"] == "production"
    for key in ("DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "AUDIT_SEAL_KEY"):
        assert example[key] == "", f"the example must not ship a value for {key}"


def test_exactly_one_beat_and_any_number_of_workers():
    kinds = [c.kind for c in production_commands()]
    assert kinds.count("beat") == 1 and kinds.count("web") == 1 and kinds.count("worker") == 1
    assert UNITS["worker"].endswith("@.service"), "the worker unit is a template: @1, @2, …"


def test_the_readme_runs_migrate_and_collectstatic_before_the_processes():
    commands = production_commands()
    order = [c.manage_command or c.kind for c in commands]
    assert order[0] == "environment"
    first_process = min(order.index(kind) for kind in ("web", "worker", "beat"))
    for step in ("migrate", "collectstatic"):
        assert step in order and order.index(step) < first_process, f"{step} before the processes"
    assert all("--noinput" in c.argv for c in commands if c.manage_command in {"migrate", "collectstatic"})


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_database_server_settings_are_ones_this_postgresql_accepts():
    """deploy/postgresql-consentoffice.conf: each line names a server parameter, with a value of its
    kind (an enum's value among its choices, a size PostgreSQL can parse)."""
    from django.db import connection

    settings = {}
    for line in (DEPLOY / "postgresql-consentoffice.conf").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, value = (part.strip() for part in line.split("=", 1))
            settings[name] = value
    assert "wal_compression" in settings
    with connection.cursor() as cursor:
        for name, value in settings.items():
            cursor.execute("SELECT vartype, enumvals, unit FROM pg_settings WHERE name = %s", [name])
            row = cursor.fetchone()
            assert row is not None, f"{name}: not a parameter of this server"
            vartype, enumvals, unit = row
            if vartype == "enum":
                assert value in enumvals, (name, value, enumvals)
            elif vartype == "bool":
                assert value in ("on", "off"), (name, value)
            elif unit in ("kB", "8kB", "MB"):
                cursor.execute("SELECT pg_size_bytes(%s)", [value])
                assert cursor.fetchone()[0] > 0, (name, value)
