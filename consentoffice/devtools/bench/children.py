"""The cases measured in a child process of their own, so that their peak memory (``ru_maxrss``)
is theirs: the bureau batch and the marketing extract. Each prints one JSON line."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from consentoffice.core import roles
from consentoffice.devtools.bench.client import role_user
from consentoffice.devtools.bench.report import Row
from members.models import Member


def _child_into(row: Row, call: str) -> dict | None:
    """Run a case's child (``_child``) and put its time and query count on ``row``; ``None``, with
    the row marked failed, when the child failed."""
    result, failure = _child(call)
    if failure:
        row.note, row.met = failure, False
        return None
    row.median_ms = row.p95_ms = result["seconds"] * 1000
    row.queries = result["queries"]
    return result


def _child(call: str) -> tuple[dict, str]:
    """Run ``consentoffice.devtools.bench.<call>`` in a fresh interpreter on this database; its last
    JSON line, or an error note."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "consentoffice.settings"),
        "DATABASE_URL": database_url(),
    }
    code = f"import django; django.setup(); from consentoffice.devtools import bench; bench.{call}"
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
        timeout=1800,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {}, "failed: " + (done.stderr.strip().splitlines() or ["?"])[-1][:200]
    return json.loads(lines[-1]), ""


def database_url() -> str:
    """The database this process uses (under pytest: the test database), for the child process."""
    from urllib.parse import quote

    db = connection.settings_dict
    auth = quote(db.get("USER") or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _trim_pending(records: int) -> int:
    """Set pending member-bureau submissions beyond the first ``records`` aside (inside the
    caller's rolled-back transaction) so the batch holds exactly ``records``; returns how many
    are pending now."""
    from bureaus.models import BureauKind

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.id FROM bureaus_submission s JOIN bureaus_bureau b ON b.id = s.bureau_id "
            "WHERE s.status = 'pending' AND b.kind = %s ORDER BY s.id OFFSET %s LIMIT 1",
            [BureauKind.MEMBER, records],
        )
        first_extra = cursor.fetchone()
        if first_extra:
            cursor.execute(
                "UPDATE bureaus_submission SET status = 'batched' WHERE status = 'pending' AND id >= %s",
                [first_extra[0]],
            )
        cursor.execute(
            "SELECT COUNT(*) FROM bureaus_submission s JOIN bureaus_bureau b ON b.id = s.bureau_id "
            "WHERE s.status = 'pending' AND b.kind = %s",
            [BureauKind.MEMBER],
        )
        return cursor.fetchone()[0]


def bureau_child(records: int) -> None:
    """Run in a child process: exactly ``records`` pending submissions, one ``build_batches``,
    rolled back; prints one JSON line. ``bureaus.benchmarks.measure_batch`` (the bureaus app's own
    measurement) tops a smaller data set up to ``records`` and resets the peak-memory mark first."""
    from django.core.files.storage import storages

    from bureaus import services
    from consentoffice.core.history import system_user

    try:
        from bureaus.benchmarks import measure_batch
    except ImportError:
        measure_batch = None
    baseline = _rss_mb()
    files: list[str] = []
    with transaction.atomic():
        pending = _trim_pending(records)
        if measure_batch is not None:
            measured = measure_batch(records)
            result = {
                "records": measured["records"],
                "seconds": measured["seconds"],
                "queries": measured["queries"],
                "peak_mb": measured["peak_mb"],
                "delta_mb": measured["peak_mb"] - baseline,
                "batches": measured["batches"],
                "created": measured.get("created", 0),
            }
        else:
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                batches = services.build_batches(actor=system_user())
                seconds = time.perf_counter() - started
            files = [b.file_name for b in batches if getattr(b, "file_name", "")]
            result = {
                "records": pending,
                "seconds": seconds,
                "queries": len(captured.captured_queries),
                "peak_mb": _rss_mb(),
                "delta_mb": _rss_mb() - baseline,
                "batches": len(batches),
                "created": 0,
            }
        transaction.set_rollback(True)
    storage = storages["private"]
    for name in files:
        if storage.exists(name):
            storage.delete(name)
    print(json.dumps(result))


def extract_child(purpose: str = "marketing_own", channel: str = "post") -> None:
    """Run in a child process: one whole extract as the download runs it, rolled back; prints one
    JSON line. The actor is a privacy officer (``seed_bulk``'s when present)."""
    from members import extracts

    actor = role_user(roles.PRIVACY_OFFICER, prefer="bulk-")
    if actor is None:
        raise RuntimeError("the extract needs an active staff user in the privacy_officer group")
    with transaction.atomic():
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            members = extracts.count_extract(actor=actor, purpose=purpose, channel=channel)
            counted = time.perf_counter()
            extract, logged = extracts.start_extract(actor=actor, purpose=purpose, channel=channel)
            started_stream = time.perf_counter()
            size = 0
            for block in extracts.stream_extract(extract, actor=actor, logged=logged):
                size += len(block)
            finished = time.perf_counter()
        extract.refresh_from_db()
        result = {
            "members": members,
            "logged": logged,
            "rows": extract.count,
            "total": Member.objects.count(),
            "mb": size / 1024 / 1024,
            "seconds": finished - started,
            "count_s": counted - started,
            "log_s": started_stream - counted,
            "stream_s": finished - started_stream,
            "queries": len(captured.captured_queries),
            "peak_mb": _rss_mb(),
        }
        transaction.set_rollback(True)
    print(json.dumps(result))
