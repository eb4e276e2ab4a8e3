"""The production web server as deployed (deploy/gunicorn.conf.py, two worker processes): one JSON
request line per request in its output, and /metrics/ adding up what every worker counted."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.fake_affiliate import free_port
from tests.observability.test_metrics import samples, value
from tests.processes import subprocess_env

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
ROOT = Path(__file__).resolve().parents[2]
REQUESTS = 20


def _up(url: str) -> bool:
    try:
        httpx.get(url, timeout=2)
    except httpx.HTTPError:
        return False
    return True


def test_two_gunicorn_workers_log_json_lines_and_share_one_metrics_endpoint(tmp_path):
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    assert gunicorn, "gunicorn is in requirements.txt"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = subprocess_env(
        GUNICORN_BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        LOG_FORMAT="json",
        METRICS_DIR=str(tmp_path / "prometheus"),
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
    )
    process = subprocess.Popen(
        [gunicorn, "-c", "deploy/gunicorn.conf.py", "consentoffice.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not _up(f"{base}/healthz/") and time.monotonic() < deadline:
            time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=30) as client:
            first = client.get("/metrics/")
            assert first.status_code == 200
            before = (
                value(
                    samples(first.text),
                    "consentoffice_http_requests_total",
                    view="member_list",
                    method="GET",
                    status="3xx",
                )
                or 0
            )
            for _ in range(REQUESTS):
                # Anonymous: the login redirect; the phone number in the query must stay out of the log.
                client.get("/members/", params={"q": "09012345678"})
            forwarded = client.get("/metrics/", headers={"X-Forwarded-For": "198.51.100.4"})
            found = samples(client.get("/metrics/").text)
        assert forwarded.status_code == 403
        total = value(
            found, "consentoffice_http_requests_total", view="member_list", method="GET", status="3xx"
        )
        assert total == before + REQUESTS
        workers = {path.name for path in (tmp_path / "prometheus").glob("web-*/counter_*.db")}
        assert 1 <= len(workers) <= 2
    finally:
        process.send_signal(signal.SIGTERM)
        _out, errors = process.communicate(timeout=30)
    lines = [json.loads(line) for line in errors.splitlines() if line.startswith("{")]
    listed = [
        line
        for line in lines
        if line.get("logger") == "consentoffice.request" and line["view"] == "member_list"
    ]
    assert len(listed) == REQUESTS
    assert {(line["route"], line["status"]) for line in listed} == {("/members/", 302)}
    assert len({line["request_id"] for line in listed}) == REQUESTS
    assert "09012345678" not in errors
