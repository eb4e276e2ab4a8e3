"""A task's log line and metrics from real Celery workers (docs/operations.md, Logs and Metrics):
the request id of the web request that queued it, its outcome, and its counter at /metrics/.

Two workers: Celery's test worker in this process (a thread), and a real ``celery worker`` with a
prefork pool in its own process, whose child runs the task and writes its metrics to the files
/metrics/ in this process adds up.
"""

from __future__ import annotations

import json
import signal
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from consentoffice.celery import app
from consentoffice.models import Heartbeat
from consentoffice.tasks import BEAT
from tests.conftest import Client
from tests.integration.test_worker import BROKER_KEY_PREFIX, broker_at, wait_for
from tests.observability import json_lines
from tests.observability.test_metrics import samples, value
from tests.observability.urls import QUEUE
from tests.processes import celery_worker_command, subprocess_env

pytestmark = [
    pytest.mark.integration,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.urls("tests.observability.urls"),
]
ROOT = Path(__file__).resolve().parents[2]
TASK = "consentoffice.tasks.beat_heartbeat"
COUNTER = "consentoffice_celery_tasks_total"


@contextmanager
def _worker():
    # ``queues=`` selects the queues on the app itself (Celery's ``Queues.select``), and the
    # selection outlives the worker: later test workers would consume this queue only and never
    # see the default one. Put the app's selection back afterwards.
    queues = app.amqp.queues
    selected = queues._consume_from
    try:
        with start_worker(
            app, pool="solo", concurrency=1, perform_ping_check=False, loglevel="WARNING", queues=[QUEUE]
        ):
            yield
    finally:
        queues._consume_from = selected


def _tasks_done() -> float:
    found = samples(Client().get("/metrics/").content.decode())
    return value(found, COUNTER, task=TASK, outcome="success") or 0


def _queue_from_a_request() -> str:
    response = Client().get("/tests/queue-heartbeat/")
    assert response.status_code == 200
    return response["X-Request-ID"]


def test_the_test_worker_logs_the_task_with_the_id_of_the_request_that_queued_it(redis_available):
    before = _tasks_done()
    with broker_at(redis_available), _worker():
        # A first task shows the worker is up: starting it configures logging anew (Celery's Django
        # fixup), so the console handler is captured after that.
        _queue_from_a_request()
        assert wait_for(lambda: _tasks_done() == before + 1, timeout=30)
        with json_lines() as (lines, _raw):
            request_id = _queue_from_a_request()
            assert wait_for(lambda: _tasks_done() == before + 2, timeout=30)
            parsed = lines()
    task_lines = [line for line in parsed if line.get("logger") == "consentoffice.task"]
    assert len(task_lines) == 1, parsed
    line = task_lines[0]
    assert (line["task"], line["outcome"], line["request_id"]) == (TASK, "success", request_id)
    assert line["task_id"] and line["duration_ms"] >= 0
    duration = samples(Client().get("/metrics/").content.decode())
    assert (
        value(duration, "consentoffice_celery_task_duration_seconds_count", task=TASK, outcome="success") >= 1
    )


def test_a_prefork_worker_process_logs_json_and_its_metrics_reach_the_endpoint(redis_available):
    env = subprocess_env(
        CELERY_BROKER_URL=redis_available,
        CELERY_BROKER_KEY_PREFIX=BROKER_KEY_PREFIX,
        LOG_FORMAT="json",
        DJANGO_LOG_LEVEL="INFO",
        METRICS_DIR=str(settings.METRICS_DIR),
        PROMETHEUS_MULTIPROC_DIR=str(settings.METRICS_DIR),
    )
    before = _tasks_done()
    with broker_at(redis_available):
        process = subprocess.Popen(
            celery_worker_command("--pool=prefork", "--loglevel=INFO", "-Q", QUEUE),
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            request_id = _queue_from_a_request()
            assert wait_for(lambda: Heartbeat.objects.filter(name=BEAT).exists(), timeout=60)
            # The counter, written by the pool's child process, reaches this process's endpoint.
            assert wait_for(lambda: _tasks_done() == before + 1, timeout=30)
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    task_lines = [line for line in lines if line.get("logger") == "consentoffice.task"]
    assert len(task_lines) == 1, output[-3000:]
    line = task_lines[0]
    assert (line["task"], line["outcome"], line["request_id"]) == (TASK, "success", request_id)
    assert line["task_id"] and line["level"] == "INFO"
    # Once the worker has stopped, its counters leave the endpoint (a restart starts from zero).
    assert _tasks_done() == before
