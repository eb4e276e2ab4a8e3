"""``make load``: the production server under the load mix of ``loadtest/locustfile.py``.

Against the database in DATABASE_URL (the million-member data set, BENCHMARKS.md "Load"):

1. ``manage.py load_prepare``: checks that the data set's encrypted values open with the field keys,
   ``VACUUM (ANALYZE)``, fresh passwords and authenticator devices for the 25 + 5 load users, and
   the client's file (owner-only, in a temporary folder outside the repository);
2. ``collectstatic`` into that folder and gunicorn with ``deploy/gunicorn.conf.py`` in production
   mode, trusting ``X-Forwarded-Proto`` from 127.0.0.1 only (the client stands in for the TLS proxy);
3. locust headless from ``.venv-load``: the 30 users log in (a password hash each, and the
   supervisors' second factor), then the mix is measured from the last login to the end (the
   profile's duration plus LOGIN_ALLOWANCE, less the logins); its CSV files go under ``--out``;
4. a table of requests/s and p50/p95/p99 per endpoint with the load average, then everything stops
   and the temporary folder (static files, secrets) is removed.

The keys (secret key, audit seal key, field-encryption key) come from ``LOAD_KEYS_FILE`` (default
``~/.local/state/consentoffice-load/keys.env``), created with fresh keys when missing. The data set
must have been seeded with the same field key (``seed_bulk`` encrypts with FIELD_ENCRYPTION_KEYS,
and production refuses the development key): ``python loadtest/run.py --print-field-key``.

Only the standard library: run it with any Python 3.11 (the Makefile uses the project's venv).
"""

from __future__ import annotations

import argparse
import base64
import csv
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROFILES = {
    # 30 users (25 operators, 5 supervisors), 1–3 s between two pages, 5 minutes.
    "think": {"think": "1-3", "duration": 300},
    # The same users with no think time: the throughput of the mix.
    "throughput": {"think": "0", "duration": 120},
}
# Seconds locust runs beyond the profile's duration: the 30 logins (a password hash each) come first
# and the statistics are reset when the last one is done (loadtest/locustfile.py).
LOGIN_ALLOWANCE = 30
DEFAULT_KEYS_FILE = Path.home() / ".local" / "state" / "consentoffice-load" / "keys.env"


def read_keys(path: Path) -> dict[str, str]:
    """The production keys of the load, created (owner-only) on first use."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        keys = {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "AUDIT_SEAL_KEY": secrets.token_urlsafe(40),
            "FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        }
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.writelines(f"{name}={value}\n" for name, value in keys.items())
    keys = {}
    for line in path.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip() and not name.startswith("#"):
            keys[name.strip()] = value.strip()
    return keys


class LoadSampler(threading.Thread):
    """The 1-minute load average every 10 s while the load runs (other work on the machine shows)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.samples: list[float] = []
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.wait(10):
            self.samples.append(os.getloadavg()[0])


PARTS = (("web", "gunicorn"), ("database", "postgres"))


def cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far by the processes alive now and by the children they have waited
    for, by part (web server, database, the rest): a gunicorn worker replaced after
    ``max_requests`` is counted in its master's, a finished PostgreSQL backend in the
    postmaster's. Also the load client (locust, this process's child) and the machine's busy and
    total seconds, from /proc (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {name: 0.0 for name, _ in PARTS} | {"other": 0.0}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        seconds = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        if entry.name != str(os.getpid()):  # this process's children: the load client, below
            seconds += (int(fields[13]) + int(fields[14])) / tick  # cutime + cstime
        part = next((name for name, marker in PARTS if marker in command), "other")
        used[part] += seconds
    with open("/proc/stat", encoding="ascii") as handle:
        cpu = [int(v) for v in handle.readline().split()[1:]]
    # locust has ended when the run is counted: it is counted as this process's waited-for children.
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    used["load client"] = children.ru_utime + children.ru_stime
    used["machine busy"] = (sum(cpu) - cpu[3] - cpu[4]) / tick  # all but idle and iowait
    used["machine total"] = sum(cpu) / tick
    return used


def cpu_lines(before: dict[str, float], after: dict[str, float]) -> list[str]:
    """Where the cores went while locust ran (logins included): each part's share of the machine."""
    spent = {name: after[name] - before.get(name, 0.0) for name in after}
    total = spent.pop("machine total") or 1.0
    busy = spent.pop("machine busy")
    parts = ", ".join(f"{name} {seconds / total:.0%}" for name, seconds in spent.items())
    return [f"cpu: machine busy {busy / total:.0%} of {os.cpu_count()} cores; {parts}"]


def wait_for_server(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})
            urllib.request.urlopen(request, timeout=5)
            return
        except urllib.error.HTTPError:
            return  # it answers (503 while no worker or beat runs is fine here)
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the server did not answer on {url} within {timeout:.0f} s")


def summary(stats_csv: Path) -> list[str]:
    """Per endpoint: requests, errors, requests/s, p50/p95/p99 and max (ms), from locust's CSV."""
    with open(stats_csv, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    header = f"{'endpoint':<30} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50':>6} {'p95':>6} {'p99':>6} {'max':>6}"
    lines = [header, "-" * len(header)]
    for row in rows:
        name = "ALL (the mix)" if row["Name"] == "Aggregated" else row["Name"]
        lines.append(
            f"{name:<30} {row['Request Count']:>8} {row['Failure Count']:>6} "
            f"{float(row['Requests/s']):>7.1f} {row['50%']:>6} {row['95%']:>6} {row['99%']:>6} "
            f"{float(row['Max Response Time']):>6.0f}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="think")
    parser.add_argument("--duration", type=int, help="seconds (default: 300 think, 120 throughput)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--out", type=Path, help="folder for locust's CSV files (default var/load/<time>-<profile>)"
    )
    parser.add_argument("--no-vacuum", action="store_true")
    parser.add_argument(
        "--keys-file", type=Path, default=Path(os.environ.get("LOAD_KEYS_FILE", DEFAULT_KEYS_FILE))
    )
    parser.add_argument(
        "--print-field-key", action="store_true", help="print the field key to seed the data set with"
    )
    args = parser.parse_args(argv)
    keys = read_keys(args.keys_file)
    if args.print_field_key:
        print(keys["FIELD_ENCRYPTION_KEYS"])
        return 0
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("DATABASE_URL must name the PostgreSQL database to load (the bulk data set)")
    profile = PROFILES[args.profile]
    duration = args.duration or profile["duration"]
    python = ROOT / ".venv" / "bin" / "python"
    locust = ROOT / ".venv-load" / "bin" / "locust"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or ROOT / "var" / "load" / f"{stamp}-{args.profile}"
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="consentoffice-load-"))
    base = f"http://127.0.0.1:{args.port}"
    env = {
        **os.environ,
        **keys,
        "DJANGO_ENV": "production",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_TRUSTED_PROXIES": "127.0.0.1",
        "STATIC_ROOT": str(work / "static"),
        "GUNICORN_BIND": f"127.0.0.1:{args.port}",
        # Every load user logs in from 127.0.0.1 at the start: the per-address login limit would
        # turn most of them away.
        "RATE_LIMIT_LOGIN": "1000/300",
        "RATE_LIMIT_OTP": "1000/300",
    }
    if "CACHE_URL" not in env and env.get("REDIS_URL"):
        env["CACHE_URL"] = env["REDIS_URL"]
    server = log = None
    sampler = LoadSampler()
    try:
        data_file = work / "client.json"
        prepare = [str(python), "manage.py", "load_prepare", str(data_file)]
        subprocess.run(prepare + (["--no-vacuum"] if args.no_vacuum else []), cwd=ROOT, env=env, check=True)
        subprocess.run(
            [str(python), "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
        )
        log = open(work / "gunicorn.log", "wb")
        server = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "deploy/gunicorn.conf.py", "consentoffice.wsgi"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_for_server(base + "/healthz/")
        load_before = os.getloadavg()
        print(f"{stamp}: profile {args.profile}, {duration} s, load average before {load_before[0]:.2f}")
        sampler.start()
        cpu_before = cpu_seconds()
        subprocess.run(
            [
                str(locust),
                "-f",
                str(ROOT / "loadtest" / "locustfile.py"),
                "--headless",
                "--users",
                "30",
                "--spawn-rate",
                "30",
                "--run-time",
                f"{duration + LOGIN_ALLOWANCE}s",
                "--host",
                base,
                "--csv",
                str(out / "load"),
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT / "loadtest",
            env={
                **os.environ,
                "LOAD_DATA_FILE": str(data_file),
                "LOAD_THINK": profile["think"],
            },
            check=False,
        )
        sampler.stopped.set()
        cpu_after = cpu_seconds()
        during = sampler.samples or [os.getloadavg()[0]]
        lines = [
            f"profile {args.profile}: 30 users (25 operators, 5 supervisors), think {profile['think']} s, "
            f"{duration} s, {stamp}",
            f"load average: {load_before[0]:.2f} before, {min(during):.2f}–{max(during):.2f} during "
            f"(mean {sum(during) / len(during):.2f})",
            *cpu_lines(cpu_before, cpu_after),
            *summary(out / "load_stats.csv"),
        ]
        (out / "summary.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        print("\n".join(lines))
        print(f"files: {out}")
    finally:
        sampler.stopped.set()
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=40)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()
            shutil.copy(work / "gunicorn.log", out / "gunicorn.log")
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
