"""The restore drill (issue 17; docs/operations.md, Backup and restore).

A small installation in scratch databases of its own — ``migrate``, ``seed_demo`` (disclosure
packages and bureau files in the private storage included) and a sealed audit trail — is backed
up with ``deploy/backup.sh`` and restored with ``deploy/restore.sh`` into a NEW database and a new
storage folder, every command a real process with its own keys. The original is left as it was
and compared with the copy: row counts of every table, the encrypted values read through the ORM,
the private files byte for byte, and ``verify_audit`` with the restored anchor file. Restores
that lack the anchor or use a wrong key must be refused. The scratch databases are dropped after.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.conftest import _reachable, need_service

ROOT = Path(__file__).resolve().parents[2]
BACKUP = ROOT / "deploy" / "backup.sh"
RESTORE = ROOT / "deploy" / "restore.sh"
MEMBERS = 20  # enough for every kind of row seed_demo writes, packages and bureau files included

# Prints, for every model with encrypted fields, how many values it holds and a digest of them as
# the ORM reads them (decrypted): equal digests on both copies mean equal plaintexts, and the
# plaintexts never reach the test's output.
READ_ENCRYPTED = """
import hashlib, json
from django.apps import apps
from consentoffice.core.crypto import EncryptedTextField
out = {}
for model in apps.get_models():
    fields = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
    if not fields or model._meta.proxy:
        continue
    rows = list(model._base_manager.order_by("pk").values_list("pk", *fields))
    values = [str(v) for row in rows for v in row[1:] if v not in (None, "")]
    out[model._meta.label] = [
        len(values),
        sum(v.startswith("gAAAAA") for v in values),
        hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest(),
    ]
print("DRILL " + json.dumps(out, sort_keys=True))
"""


def _database_url() -> str:
    return os.environ.get("DATABASE_URL", "")


def _with_database(url: str, name: str) -> str:
    base, sep, query = url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}{sep}{query}"


def _psql(url: str, sql: str) -> str:
    done = subprocess.run(
        ["psql", url, "-XtA", "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def _run(args, env, *, check=True, cwd=ROOT) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], env=env, cwd=cwd, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise AssertionError(
            f"{args[:3]} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return done


def _manage(env, *args, check=True) -> subprocess.CompletedProcess:
    return _run([sys.executable, "manage.py", *args], env, check=check)


def _row_counts(url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _encrypted(env) -> dict:
    out = _manage(env, "shell", "-c", READ_ENCRYPTED).stdout
    import json

    return json.loads(next(line for line in out.splitlines() if line.startswith("DRILL "))[6:])


class Installation:
    """The environment of one copy: its database, storage, anchor file and keys."""

    def __init__(self, base_env: dict, url: str, home: Path, keys: dict):
        self.url = url
        self.storage = home / "private"
        self.anchors = home / "audit" / "anchors.log"
        self.env = {
            **base_env,
            **keys,
            "DATABASE_URL": url,
            "CONSENTOFFICE_VAR_DIR": str(home / "var"),
            "PRIVATE_STORAGE_ROOT": str(self.storage),
            "AUDIT_ANCHOR_FILE": str(self.anchors),
        }


@pytest.fixture(scope="module")
def drill(tmp_path_factory):
    url = _database_url()
    need_service("PostgreSQL (DATABASE_URL)", url.startswith("postgres") and _reachable(url, 5432))
    for tool in ("pg_dump", "pg_restore", "psql", "gpg", "sha256sum", "tar"):
        need_service(f"the {tool} command", shutil.which(tool) is not None)

    home = tmp_path_factory.mktemp("drill")
    # gpg's agent socket must fit a short Unix socket path: a folder of its own under /tmp.
    gnupghome = tempfile.mkdtemp(prefix="gpg-drill-")
    maintenance = _with_database(url, "postgres")
    prefix = f"{url.partition('?')[0].rsplit('/', 1)[1]}_drill_{os.getpid()}"
    created: list[str] = []

    def new_database_url(suffix: str) -> str:
        name = f"{prefix}_{suffix}"
        created.append(name)
        return _with_database(url, name)

    base_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))},
        "DJANGO_ENV": "development",
        "DJANGO_SETTINGS_MODULE": "consentoffice.settings",
        "CELERY_BROKER_URL": "memory://",
        "GNUPGHOME": gnupghome,
        "PYTHON": sys.executable,
    }
    keys = {
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "AUDIT_SEAL_KEY": secrets.token_urlsafe(48),
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
    }
    try:
        started = time.monotonic()
        _run(
            ["gpg", "--batch", "--passphrase", "", "--quick-gen-key", "consentoffice backup drill",
             "future-default", "default", "never"],
            base_env,
        )  # fmt: skip
        listing = _run(["gpg", "--batch", "--with-colons", "--list-keys"], base_env).stdout
        recipient = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))
        base_env["BACKUP_GPG_RECIPIENT"] = recipient

        source = Installation(base_env, new_database_url("source"), home / "source", keys)
        _psql(maintenance, f'CREATE DATABASE "{source.url.partition("?")[0].rsplit("/", 1)[1]}"')
        _manage(source.env, "migrate", "--noinput", "-v", "0")
        migrated = time.monotonic()
        _manage(source.env, "seed_demo", "--members", str(MEMBERS))
        seeded = time.monotonic()
        _manage({**source.env, "AUDIT_SEAL_DELAY_SECONDS": "0"}, "seal_audit")
        backup_dir = Path(_run([BACKUP, home / "backups"], source.env).stdout.strip().splitlines()[-1])
        backed_up = time.monotonic()

        copy = Installation(base_env, new_database_url("restored"), home / "restored", keys)
        restored = _run([RESTORE, backup_dir], copy.env)
        done = time.monotonic()
        print(
            f"\nrestore drill ({MEMBERS} members): migrate {migrated - started:.1f} s, "
            f"seed_demo {seeded - migrated:.1f} s, seal + backup {backed_up - seeded:.1f} s, "
            f"restore + checks {done - backed_up:.1f} s"
        )
        yield {
            "source": source,
            "copy": copy,
            "backup": backup_dir,
            "restore_output": restored.stdout,
            "keys": keys,
            "new_database_url": new_database_url,
            "home": home,
            "env": base_env,
        }
    finally:
        for name in created:
            _psql(maintenance, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        subprocess.run(["gpgconf", "--kill", "all"], env={**os.environ, "GNUPGHOME": gnupghome}, check=False)
        shutil.rmtree(gnupghome, ignore_errors=True)


def test_a_backup_restores_into_a_new_database_with_everything_intact(drill, settings):
    source, copy = drill["source"], drill["copy"]

    # Every table, row for row (the original still has all of its own).
    counts = _row_counts(source.url)
    assert counts["members_member"] >= MEMBERS
    assert counts["requests_disclosurepackage"] > 0
    assert counts["bureaus_submissionbatch"] > 0
    # restore.sh's verify_audit records its clean run on the copy (the incremental checkpoint).
    restored = _row_counts(copy.url)
    assert restored.pop("consentoffice_auditverification") == 1
    assert counts.pop("consentoffice_auditverification") == 0
    assert restored == counts

    # The encrypted values decrypt on the copy with the keys from the escrow, to the same values.
    original, restored = _encrypted(source.env), _encrypted(copy.env)
    assert restored == original
    assert original["members.Contract"][0] > 0 and original["members.FinancialDeclaration"][0] > 0
    assert all(tokens == 0 for _count, tokens, _digest in restored.values()), (
        "a value read back still encrypted"
    )

    # The private files, byte for byte; the packages decrypt to the ZIP whose SHA-256 is on the row.
    files = _files(source.storage)
    assert any(name.startswith("disclosures/") for name in files)
    assert any(name.startswith("bureaus/") for name in files)
    assert _files(copy.storage) == files
    settings.FIELD_ENCRYPTION_KEYS = [drill["keys"]["FIELD_ENCRYPTION_KEYS"]]
    from consentoffice.core import crypto

    packages = dict(
        line.split("|")
        for line in _psql(copy.url, "SELECT file, sha256 FROM requests_disclosurepackage").splitlines()
    )
    for name, expected in packages.items():
        with open(copy.storage / name, "rb") as stream:
            plaintext = b"".join(crypto.decrypt_stream(stream))
        assert hashlib.sha256(plaintext).hexdigest() == expected
        assert zipfile.is_zipfile(io.BytesIO(plaintext))
    assert f"OK files={len(packages) + counts['bureaus_submissionbatch']} " in drill["restore_output"]

    # The file check can fail: a package damaged on disk, a bureau file gone.
    damaged = copy.storage / next(iter(packages))
    data = bytearray(damaged.read_bytes())
    data[-5] ^= 1
    damaged.write_bytes(bytes(data))
    next(p for p in sorted(copy.storage.rglob("*")) if p.is_file() and "bureaus" in p.parts).unlink()
    refused = _manage(copy.env, "verify_private_files", check=False)
    assert refused.returncode == 1
    assert "cannot decrypt: disclosure package" in refused.stdout
    assert "missing: bureau file" in refused.stdout

    # The sealed audit trail verifies on the copy, against the anchor file restored with it.
    assert copy.anchors.read_bytes() == source.anchors.read_bytes() != b""
    verified = _manage(copy.env, "verify_audit").stdout
    assert "problems=0" in verified and "anchors=0 " not in verified and " blocks=0 " not in f" {verified}"


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("anchor part missing", "incomplete or damaged"),
        ("anchor part empty", "no anchor was restored"),
        ("wrong encryption key", "cannot decrypt"),
        ("wrong seal key", "does not verify"),
    ],
)
def test_a_restore_that_cannot_be_trusted_is_refused(drill, case, expected):
    backup = drill["home"] / f"backup {case}"
    shutil.copytree(drill["backup"], backup)
    keys = dict(drill["keys"])
    if case == "anchor part missing":
        (backup / "anchors.log.gpg").unlink()
    elif case == "anchor part empty":
        (backup / "anchors.log.gpg").unlink()
        _run(["gpg", "--batch", "--trust-model", "always", "-e", "-r", drill["env"]["BACKUP_GPG_RECIPIENT"],
              "-o", backup / "anchors.log.gpg", "/dev/null"], drill["env"])  # fmt: skip
        sums = _run(
            ["sha256sum", "anchors.log.gpg", "database.dump.gpg", "private.tar.gpg"], drill["env"], cwd=backup
        )
        (backup / "SHA256SUMS").write_text(sums.stdout)
    elif case == "wrong encryption key":
        keys["FIELD_ENCRYPTION_KEYS"] = Fernet.generate_key().decode()
    else:
        keys["AUDIT_SEAL_KEY"] = secrets.token_urlsafe(48)
    slug = "".join(word[0] for word in case.split())
    target = Installation(drill["env"], drill["new_database_url"](slug), drill["home"] / slug, keys)
    refused = _run([RESTORE, backup], target.env, check=False)
    assert refused.returncode != 0, refused.stdout
    assert expected in refused.stderr, refused.stderr[-2000:]
