"""Prometheus metrics (docs/operations.md, Metrics): ``/metrics/``, for the operations team's scraper.

Three kinds of figures:

- requests (latency histogram and count by view, method and status class), recorded by
  ``consentoffice.logs.RequestLogMiddleware`` in the web processes;
- Celery tasks (count by name and outcome, duration histogram), recorded by the task signals of
  ``consentoffice.logs`` in the process that ran the task (a prefork worker's child);
- the supervisor's figures (open, overdue, due-soon tickets, approvals waiting, partner sync,
  bureau rejects, the unsealed audit rows, the last beat), computed when scraped by
  ``BusinessCollector``, which asks the dashboard's and the health check's own selectors.

Several processes (gunicorn workers, Celery's pool children) count requests and tasks: they use
prometheus_client's multiprocess mode. Each service writes its files into a directory of its own
under ``settings.METRICS_DIR`` (``var/prometheus``), named after the process that started it
(the gunicorn master, the Celery worker's main process); a new start removes the directories of
services that are no longer running, so a restart begins from zero. The endpoint adds up the
directories of the services running on this host: the web server, the workers and the endpoint
share one machine (docs/operations.md).
"""

from __future__ import annotations

import hmac
import os
import shutil
import threading
from pathlib import Path
from types import SimpleNamespace

from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

WEB = "web"
WORKER = "worker"
# Seconds: from a fast page to the slowest dashboard query; tasks up to the 10-minute time limit.
REQUEST_BUCKETS = (0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0)
TASK_BUCKETS = (0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0)


# --- Where each process writes --------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _owner(directory: Path) -> int | None:
    _kind, _sep, pid = directory.name.rpartition("-")
    return int(pid) if pid.isdigit() else None


def _running(directory: Path) -> bool:
    """A service's directory whose starting process is still alive."""
    pid = _owner(directory)
    return directory.is_dir() and pid is not None and _alive(pid)


def service_dirs() -> list[Path]:
    """The directories of the services still running."""
    base = Path(settings.METRICS_DIR)
    if not base.is_dir():
        return []
    return sorted(d for d in base.iterdir() if _running(d))


# This process's directory once chosen; a forked child (a Celery pool process) inherits it.
_service_dir: Path | None = None
_lock = threading.Lock()
_instruments: SimpleNamespace | None = None


def start_service(kind: str, owner: int) -> Path:
    """Point this process (and the processes it forks) at ``<METRICS_DIR>/<kind>-<owner>`` and
    remove the directories of services that no longer run. Before the first metric is written."""
    base = Path(settings.METRICS_DIR)
    base.mkdir(parents=True, exist_ok=True)
    for stale in base.iterdir():
        if stale.is_dir() and not _running(stale):
            shutil.rmtree(stale, ignore_errors=True)
    directory = base / f"{kind}-{owner}"
    directory.mkdir(exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    global _service_dir
    _service_dir = directory
    return directory


def instruments() -> SimpleNamespace:
    """The request and task metrics, created on first use (the directory is chosen by then)."""
    if _instruments is None:
        with _lock:  # gunicorn's threads: one set of metrics per process
            if _instruments is None:
                _create()
    return _instruments


def _create() -> None:
    global _instruments
    if _service_dir is None:
        # Not a Celery worker (its worker_init chose a directory): a web process, owned by the
        # process that started it (the gunicorn master, or the shell of runserver and tests).
        start_service(WEB, os.getppid())
    from prometheus_client import Counter, Histogram, values

    if not values.ValueClass._multiprocess:
        raise RuntimeError("prometheus_client was imported before PROMETHEUS_MULTIPROC_DIR was set")
    _instruments = SimpleNamespace(
        request_seconds=Histogram(
            "consentoffice_http_request_duration_seconds",
            "Time to answer a request, by view (URL name), method and status class.",
            ["view", "method", "status"],
            buckets=REQUEST_BUCKETS,
            registry=None,
        ),
        requests=Counter(
            "consentoffice_http_requests",
            "Requests answered, by view (URL name), method and status class.",
            ["view", "method", "status"],
            registry=None,
        ),
        task_seconds=Histogram(
            "consentoffice_celery_task_duration_seconds",
            "Time a Celery task ran, by task name and outcome.",
            ["task", "outcome"],
            buckets=TASK_BUCKETS,
            registry=None,
        ),
        tasks=Counter(
            "consentoffice_celery_tasks",
            "Celery tasks run, by task name and outcome (success, failure, retry).",
            ["task", "outcome"],
            registry=None,
        ),
    )


def observe_request(*, view: str, method: str, status: int, seconds: float) -> None:
    labels = {
        "view": view,
        "method": method if method in _METHODS else "other",
        "status": f"{status // 100}xx",
    }
    metrics = instruments()
    metrics.request_seconds.labels(**labels).observe(seconds)
    metrics.requests.labels(**labels).inc()


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def observe_task(*, name: str, outcome: str, seconds: float) -> None:
    metrics = instruments()
    metrics.task_seconds.labels(task=name, outcome=outcome).observe(seconds)
    metrics.tasks.labels(task=name, outcome=outcome).inc()


# --- The supervisor's figures, read when scraped --------------------------------------------


class BusinessCollector:
    """Asks the selectors the dashboard, the home and the health check use (never a query of its
    own): five queries per scrape whatever the size of the tables."""

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        from bureaus.selectors import open_reject_count
        from consentoffice.audit.seal import unsealed_rows
        from consentoffice.home.dashboard import partner_sync_snapshot, ticket_snapshot
        from consentoffice.tasks import last_beat

        now = timezone.now()

        def gauge(name: str, documentation: str, value: float | None):
            family = GaugeMetricFamily(f"consentoffice_{name}", documentation)
            if value is not None:
                family.add_metric([], value)
            return family

        def age(when) -> float | None:
            return None if when is None else max(0.0, (now - when).total_seconds())

        tickets = ticket_snapshot(now=now)
        sync = partner_sync_snapshot()
        unsealed, oldest_unsealed = unsealed_rows()
        yield gauge("tickets_open", "Open tickets.", tickets["open"])
        yield gauge("tickets_overdue", "Open tickets past their legal deadline.", tickets["overdue"])
        yield gauge("tickets_due_soon", "Open tickets due within the due-soon days.", tickets["due_soon"])
        yield gauge(
            "approvals_waiting", "Tickets waiting for a supervisor's approval.", tickets["pending_approval"]
        )
        yield gauge(
            "partner_sync_backlog", "Outbound partner-sync events not yet delivered.", sync["pending"]
        )
        yield gauge(
            "partner_sync_dead", "Outbound partner-sync events given up (replay needed).", sync["dead"]
        )
        yield gauge(
            "partner_sync_oldest_pending_age_seconds",
            "Age of the oldest undelivered partner-sync event (absent when none waits).",
            age(sync["oldest_pending"]),
        )
        yield gauge(
            "bureau_rejects_open", "Records the bureaus rejected, waiting to be fixed.", open_reject_count()
        )
        yield gauge("audit_unsealed_rows", "Audit rows not yet sealed.", unsealed)
        yield gauge(
            "audit_oldest_unsealed_age_seconds",
            "Age of the oldest audit row not yet sealed (absent when all are sealed).",
            age(oldest_unsealed),
        )
        yield gauge(
            "beat_heartbeat_age_seconds",
            "Seconds since beat's heartbeat task last ran (absent if it never ran).",
            age(last_beat()),
        )


class _RunningServices:
    """The request and task metrics of every running service on this host, added up."""

    def collect(self):
        from prometheus_client.multiprocess import MultiProcessCollector

        files = [str(f) for directory in service_dirs() for f in directory.glob("*.db")]
        return MultiProcessCollector.merge(files, accumulate=True)


# --- The endpoint -----------------------------------------------------------------------------


def may_scrape(request) -> bool:
    """``Authorization: Bearer <METRICS_TOKEN>``; without a token, outside production, a caller
    on this machine that came neither through a proxy (``is_direct_local``)."""
    from consentoffice.accounts.security import is_direct_local

    token = settings.METRICS_TOKEN
    scheme, _sep, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if token and scheme.lower() == "bearer":
        return hmac.compare_digest(given.strip().encode(), token.encode())
    return not settings.PRODUCTION and is_direct_local(request)


@never_cache
@require_GET
def metrics_view(request):
    if not may_scrape(request):
        return HttpResponseForbidden("metrics: a bearer token is required\n", content_type="text/plain")
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_RunningServices())
    registry.register(BusinessCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_PLAIN_0_0_4)
