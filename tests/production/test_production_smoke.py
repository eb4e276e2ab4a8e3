"""The production smoke test: the README's Production commands, run as written, then the stack
they started driven over HTTP (issue 17).

``DJANGO_ENV=production`` with freshly generated keys, a PostgreSQL database made for this test
and dropped after it, Redis (a database number of the smoke test's own) as broker and cache, the
environment file built from ``deploy/consentoffice.env.example``. Every command of the README's
```sh block runs in order through a real shell that loads that file as the README says; gunicorn,
a Celery worker and beat are started the same way. The test then plays the TLS proxy in front
(``X-Forwarded-Proto: https`` from 127.0.0.1, a trusted proxy) and a real HTTP client behind it:
the first supervisor enrols an authenticator app with the code ``issue_enrolment_code`` printed
and logs in again with a TOTP code; an operator opens a marketing stop and submits it, the
supervisor approves it; the worker passes the stop on to a fake affiliate over TLS on the
"private line"; ``/healthz/`` is green; the seal task runs on the worker and ``verify_audit``
exits clean. A step missing from the README fails the test.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import httpx
import pytest
from cryptography.fernet import Fernet

from tests.conftest import _reachable, need_service, redis_url
from tests.fake_affiliate import FakeAffiliate, free_port, tls_files
from tests.production import (
    ENV_EXAMPLE,
    ENV_LINE,
    REPO_ROOT,
    Command,
    env_file_variables,
    production_commands,
)

pytestmark = pytest.mark.integration

HOST = "info-center.example.jp"  # the public name the proxy forwards as Host
ORIGIN = f"https://{HOST}"
# The smoke test's own Redis database (broker and cache); its keys carry a prefix of each run's too.
SMOKE_REDIS_DB = int(os.environ.get("SMOKE_REDIS_DB", "14"))
VENV_BIN = Path(sys.executable).parent
PASSWORD_OF = {}  # username -> password, filled as the README's create_staff_user lines run
WAIT_SECONDS = 120


def _postgres_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        need_service("PostgreSQL (DATABASE_URL=postgres://…)", False)
    need_service("PostgreSQL (DATABASE_URL)", _reachable(url, 5432))
    return url


def _with_database(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path=f"/{name}"))


def _smoke_redis_url() -> str:
    url = redis_url()
    need_service("Redis", _reachable(url, 6379))
    return urlunparse(urlparse(url)._replace(path=f"/{SMOKE_REDIS_DB}"))


@pytest.fixture
def database():
    """A fresh PostgreSQL database of this test's, dropped when it ends."""
    import psycopg

    server = _postgres_url()
    name = f"co_smoke_{secrets.token_hex(4)}"
    admin = _with_database(server, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _with_database(server, name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def redis_db():
    """The smoke test's Redis database and a key prefix of this run's (broker and cache): its keys
    are removed afterwards, nobody else's."""
    import redis

    url = _smoke_redis_url()
    prefix = f"smoke-{secrets.token_hex(4)}"
    yield url, prefix
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        client.delete(key)
    client.close()


# --- the processes ------------------------------------------------------------------------------


class Stack:
    """The README's commands run through a shell, as an administrator would run them."""

    def __init__(self, root: Path, env_file: Path, readme_env_file: str):
        self.root = root
        self.env_file = env_file
        self.readme_env_file = readme_env_file
        self.prelude = ""  # the README's environment line, once it has come
        self.processes: dict[str, tuple[subprocess.Popen, Path]] = {}
        self.outputs: list[tuple[str, str]] = []
        self.durations: list[tuple[str, float]] = []

    def _shell(self, line: str) -> list[str]:
        # The venv of the README is this checkout's (.venv/bin/…); its environment file is ours.
        line = re.sub(r"(?<![\w/])\.venv/bin/", f"{VENV_BIN}/", line)
        return ["bash", "-c", f"{self.prelude}exec {line}"]

    @staticmethod
    def _base_env() -> dict[str, str]:
        # A shell on the server knows nothing but the file once loaded. DJANGO_ENV=production
        # keeps a command run without it (a README without its environment line) from making
        # a development database in the checkout: it fails instead, as it should.
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
        return {**{k: os.environ[k] for k in keep if k in os.environ}, "DJANGO_ENV": "production"}

    def load_environment(self, command: Command) -> None:
        match = ENV_LINE.match(command.line)
        assert match.group("path") == self.readme_env_file
        self.prelude = command.line.replace(match.group("path"), str(self.env_file)) + " && "

    def run(self, line: str, *, stdin: str = "", timeout: float = 300) -> str:
        started = time.monotonic()
        result = subprocess.run(
            self._shell(line),
            cwd=REPO_ROOT,
            env=self._base_env(),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            start_new_session=True,  # no terminal: passwords come from standard input
        )
        self.outputs.append((line, (result.stdout + result.stderr)[-3000:]))
        self.durations.append((line.split(" -c ", 1)[0][:60], time.monotonic() - started))
        assert result.returncode == 0, f"{line!r} exited {result.returncode}:\n{result.stderr[-3000:]}"
        return result.stdout

    def start(self, name: str, line: str) -> None:
        log = self.root / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                self._shell(line),
                cwd=REPO_ROOT,
                env=self._base_env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped with all its children
            )
        self.processes[name] = (process, log)

    def assert_running(self) -> None:
        for name, (process, _log) in self.processes.items():
            assert process.poll() is None, f"{name} exited with {process.returncode}"

    def stop(self) -> None:
        for process, _log in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process, _log in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def report(self) -> str:
        parts = [f"--- {line}\n{output}" for line, output in self.outputs]
        for name, (_process, log) in self.processes.items():
            tail = log.read_text(errors="replace").splitlines()[-40:]
            parts.append(f"--- {name} ({log}), last lines:\n" + "\n".join(tail))
        return "\n".join(parts)


@contextmanager
def printed_on_failure(stack: Stack) -> Iterator[None]:
    try:
        yield
    except BaseException:
        print(stack.report(), file=sys.stderr)
        raise


def eventually(check: Callable[[], object], what: str, stack: Stack, timeout: float = WAIT_SECONDS):
    deadline = time.monotonic() + timeout
    while True:
        stack.assert_running()
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.5)


# --- the client behind the proxy -------------------------------------------------------------------


class Browser:
    """A browser behind the TLS proxy the test plays: each request arrives from 127.0.0.1 (a
    trusted proxy) with ``X-Forwarded-Proto: https`` and the public Host. Cookies are kept here:
    the session and CSRF cookies are Secure, and httpx's jar sends none over the http:// hop."""

    def __init__(self, base_url: str):
        self.http = httpx.Client(base_url=base_url, follow_redirects=False, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, data: dict | None = None, *, proxied: bool = True):
        headers = {"Host": HOST}
        if proxied:
            headers["X-Forwarded-Proto"] = "https"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST":
            headers["Origin"] = ORIGIN
            headers["Referer"] = ORIGIN + path
        response = self.http.request(method, path, data=data, headers=headers)
        self.http.cookies.clear()
        for raw in response.headers.get_list("set-cookie"):
            jar = SimpleCookie()
            jar.load(raw)
            for key, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = morsel.value
        return response

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def submit(self, page: str, action: str, fields: dict) -> httpx.Response:
        """GET ``page`` (as a browser has it open), then POST its CSRF token and ``fields`` to ``action``."""
        response = self.get(page)
        assert response.status_code == 200, (page, response.status_code, response.text[:500])
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)
        assert token, f"no CSRF token on {page}"
        return self.request("POST", action, {"csrfmiddlewaretoken": token.group(1), **fields})

    def close(self):
        self.http.close()


def _location(response: httpx.Response) -> str:
    assert response.status_code == 302, (response.status_code, response.text[:800])
    return response.headers["location"]


class Authenticator:
    """The supervisor's authenticator app, and the supervisor using it: a code of the current
    30-second step; each step's code is accepted once, so a second login in the same step waits
    for the next code, as a person would."""

    STEP = 30

    def __init__(self, secret_text: str):
        from base64 import b32decode

        secret = secret_text.replace(" ", "")
        self.key = b32decode(secret + "=" * (-len(secret) % 8))
        self.used_step = -1

    def code(self) -> str:
        from django_otp.oath import TOTP

        while int(time.time() // self.STEP) <= self.used_step:
            time.sleep(0.2)
        totp = TOTP(self.key, self.STEP)
        totp.time = time.time()
        self.used_step = totp.t()
        return f"{totp.token():06d}"


def password_login(browser: Browser, username: str, next_url: str = "/") -> str:
    response = browser.submit(
        "/admin/login/",
        "/admin/login/",
        {"username": username, "password": PASSWORD_OF[username], "next": next_url},
    )
    return _location(response)


def enrol_first_supervisor(browser: Browser, username: str, enrolment_code: str) -> Authenticator:
    """The first login of a supervisor: password, the administrator's enrolment code, the secret
    the page shows (typed into an app), a first code. Returns the app."""
    assert password_login(browser, username, "/audit/") == "/audit/"
    setup = _location(browser.get("/audit/"))
    assert setup.startswith("/account/otp/setup/")
    assert _location(browser.submit(setup, setup, {"enrolment_code": enrolment_code})).startswith(
        "/account/otp/setup/"
    )
    page = browser.get(setup)
    app = Authenticator(re.search(r'<code id="otp-secret">([A-Z2-7 ]+)</code>', page.text).group(1))
    assert _location(browser.submit(setup, setup, {"otp_token": app.code()})) == "/audit/"
    return app


def ticket_version(page: str) -> str:
    return re.search(r'name="version" value="(\d+)"', page).group(1)


def press(browser: Browser, ticket_page: str, step: str, **fields) -> None:
    """Press a step button of the ticket page, with the version the page showed."""
    page = browser.get(ticket_page)
    assert f'data-step="{step}"' in page.text, f"no {step} button on the ticket page"
    action = ticket_page.replace("/change/", f"/step/{step}/")
    response = browser.submit(ticket_page, action, {"version": ticket_version(page.text), **fields})
    assert _location(response) == ticket_page


# --- the test -----------------------------------------------------------------------------------------


FIXTURE_SCRIPT = """
from django.contrib.auth import get_user_model
from members import services
from tests.factories import ContractFactory, MemberFactory, grant_all_consents
supervisor = get_user_model().objects.get(username={supervisor!r})
affiliate = services.save_affiliate(
    actor=supervisor, code="smoke-partner", name="スモーク提携先", endpoint={endpoint!r},
    reason="スモークテストの提携先",
)
member = MemberFactory(member_no="3000000001")
ContractFactory(member=member, affiliate=affiliate)
grant_all_consents(member)
print(affiliate.issued_secret)
"""


def test_production_as_the_readme_says(tmp_path, redis_db, database):
    started = time.monotonic()
    commands = production_commands()
    readme_env = [c for c in commands if c.kind == "environment"]
    port = free_port()
    redis_url_, prefix = redis_db
    tls = tls_files(tmp_path)
    var = tmp_path / "var"
    values = {
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": HOST,
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "AUDIT_SEAL_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": database,
        "CELERY_BROKER_URL": redis_url_,
        "CACHE_URL": redis_url_,
        # Nobody else's worker takes this test's tasks, whoever else uses the same database.
        "CELERY_BROKER_KEY_PREFIX": f"{prefix}:",
        "CACHE_KEY_PREFIX": prefix,
        "DJANGO_TRUSTED_PROXIES": "127.0.0.1",
        "DJANGO_CSRF_TRUSTED_ORIGINS": ORIGIN,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "CONSENTOFFICE_VAR_DIR": str(var),
        "STATIC_ROOT": str(tmp_path / "static"),
        "AUDIT_ANCHOR_FILE": str(var / "audit" / "anchors.log"),
        "PRIVATE_STORAGE_ROOT": str(var / "private"),
        "MEDIA_ROOT": str(var / "media"),
        "AUDIT_SEAL_DELAY_SECONDS": "0",
        "PARTNER_ENDPOINT_PRIVATE_NETWORKS": "127.0.0.1/32",
        "PARTNER_ENDPOINT_CA_BUNDLE": str(tls.ca_file),
        "PARTNER_SYNC_BACKOFF_BASE_SECONDS": "1",
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "METRICS_DIR": str(var / "prometheus"),
        "METRICS_TOKEN": secrets.token_urlsafe(32),
    }
    example = env_file_variables(ENV_EXAMPLE)
    assert not set(values) - set(example), "deploy/consentoffice.env.example must name every variable"
    env_file = tmp_path / "consentoffice.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in {**example, **values}.items()), encoding="utf-8")
    env_file.chmod(0o600)

    readme_path = readme_env[0].line.split(" . ", 1)[1].split(" ", 1)[0] if readme_env else ""
    stack = Stack(tmp_path, env_file, readme_path)
    enrolment_codes: dict[str, str] = {}
    try:
        with printed_on_failure(stack):
            # 1. The README's commands, in its order.
            for command in commands:
                if command.kind == "environment":
                    stack.load_environment(command)
                elif command.kind == "manage" and command.manage_command == "create_staff_user":
                    username = command.argv[3]
                    PASSWORD_OF[username] = secrets.token_urlsafe(18)
                    stack.run(command.line, stdin=PASSWORD_OF[username] + "\n")
                elif command.kind == "manage":
                    output = stack.run(command.line)
                    if command.manage_command == "issue_enrolment_code":
                        enrolment_codes[command.argv[3]] = output.strip().splitlines()[-1]
                else:
                    stack.start(command.kind, command.line)
            setup_seconds = time.monotonic() - started
            roles = {
                c.argv[3]: c.argv[c.argv.index("--role") + 1]
                for c in commands
                if c.manage_command == "create_staff_user"
            }
            supervisor = next(u for u, r in roles.items() if r == "supervisor")
            operator = next(u for u, r in roles.items() if r == "operator")
            assert supervisor in enrolment_codes, "the README issues the first supervisor's enrolment code"

            with FakeAffiliate("set-below", tls=tls) as affiliate:
                # Test data, written by the production code itself: an affiliate on the private
                # line (its endpoint passes the production check) and a member with its card.
                affiliate.secret = (
                    stack.run(
                        ".venv/bin/python manage.py shell -c "
                        + shlex.quote(FIXTURE_SCRIPT.format(supervisor=supervisor, endpoint=affiliate.url))
                    )
                    .strip()
                    .splitlines()[-1]
                )
                _drive(
                    stack,
                    f"http://127.0.0.1:{port}",
                    operator,
                    supervisor,
                    enrolment_codes[supervisor],
                    affiliate,
                )

                # The seal, run by the worker (beat sends it every 5 minutes), then verify_audit.
                anchors = var / "audit" / "anchors.log"
                stack.run(".venv/bin/celery -A consentoffice call consentoffice.tasks.seal_audit_trail")
                eventually(lambda: anchors.exists() and anchors.read_text().strip(), "the seal ran", stack)
                verified = stack.run(".venv/bin/python manage.py verify_audit")
                assert verified.startswith("OK mode=full blocks=") and "problems=0" in verified, verified

                # /metrics/ with the token: the web's request figures, the worker's task figures
                # (same host, METRICS_DIR) and the business gauges.
                def scraped():
                    response = httpx.get(
                        f"http://127.0.0.1:{port}/metrics/",
                        headers={
                            "Host": HOST,
                            "X-Forwarded-Proto": "https",
                            "Authorization": f"Bearer {values['METRICS_TOKEN']}",
                        },
                    )
                    assert response.status_code == 200, response.status_code
                    text = response.text
                    sealed = re.search(
                        r'consentoffice_celery_tasks_total\{(?=[^}]*task="consentoffice\.tasks\.seal_audit_trail")'
                        r'(?=[^}]*outcome="success")[^}]*\} [1-9]',
                        text,
                    )
                    return text if sealed else None

                metrics = eventually(scraped, "the seal task's count on /metrics/", stack)
                assert "consentoffice_http_request_duration_seconds_bucket" in metrics
                assert "consentoffice_tickets_open" in metrics
                assert (
                    httpx.get(
                        f"http://127.0.0.1:{port}/metrics/",
                        headers={"Host": HOST, "X-Forwarded-Proto": "https"},
                    ).status_code
                    == 403
                )
            stack.assert_running()
    finally:
        stack.stop()
    print(
        f"\nproduction smoke: {time.monotonic() - started:.1f} s "
        f"(README commands and process start {setup_seconds:.1f} s)"
    )
    for line, seconds in stack.durations:
        print(f"  {seconds:5.1f} s  {line}")


def _drive(
    stack: Stack, base_url: str, operator: str, supervisor: str, enrolment_code: str, affiliate
) -> None:
    health = Browser(base_url)
    # gunicorn answers (the beat may not have beaten yet: 503 until then).
    eventually(lambda: _answers(health), "gunicorn answers", stack)
    # Only the trusted proxy's word makes a request HTTPS: without it, a redirect to https://.
    plain = health.get("/admin/login/", proxied=False)
    assert plain.status_code == 301 and plain.headers["location"] == f"https://{HOST}/admin/login/"
    # Static files were collected (manifest names) and are served by WhiteNoise.
    login_page = health.get("/admin/login/")
    assert login_page.status_code == 200, login_page.text[:500]
    css = re.search(r'href="(/static/[^"]+\.css)"', login_page.text).group(1)
    assert re.search(r"\.[0-9a-f]{12}\.css$", css) and health.get(css).status_code == 200

    # The first supervisor enrols an app (the first login).
    first = Browser(base_url)
    app = enrol_first_supervisor(first, supervisor, enrolment_code)
    first.close()

    # The operator (password only) opens a marketing stop on the member workspace and submits it.
    op = Browser(base_url)
    assert password_login(op, operator) == "/"
    assert op.get("/").status_code == 200
    workspace = "/members/3000000001/"
    ticket_page = _location(
        op.submit(workspace, workspace + "open-ticket/", {"kind": "marketing_stop", "channel": "phone"})
    )
    assert re.fullmatch(r"/admin/requests/ticket/\d+/change/", ticket_page), ticket_page
    press(op, ticket_page, "verify_identity", method="driver_license", documents_seen="1")
    press(op, ticket_page, "submit_for_approval", outcome="fulfilled", ground="", reason="")
    assert 'data-step="approve"' not in op.get(ticket_page).text  # four eyes

    # The supervisor logs in as on any day: password, then a code from the app.
    sv = Browser(base_url)
    assert password_login(sv, supervisor, "/audit/") == "/audit/"
    otp_page = _location(sv.get("/audit/"))
    assert otp_page.startswith("/account/otp/?")
    assert _location(sv.submit(otp_page, otp_page, {"otp_token": app.code()})) == "/audit/"
    assert sv.get("/audit/").status_code == 200

    # The supervisor approves it; the stop is passed on to the affiliate by the worker.
    press(sv, ticket_page, "approve")
    assert 'class="stage-current" data-stage="closed"' in sv.get(ticket_page).text
    delivered = eventually(lambda: affiliate.received, "the stop reached the affiliate", stack)
    assert delivered[0]["member_no"] == "3000000001" and delivered[0]["stops"] == ["marketing"]
    assert affiliate.bad_signatures == 0

    # /healthz/: database, broker and beat (its heartbeat run by the worker).
    def green():
        response = health.get("/healthz/")
        return response.status_code == 200 and response.json()

    body = eventually(green, "/healthz/ green", stack)
    # Through the proxy a stranger gets the bare status; the supervisor (second factor) the checks.
    assert body == {"status": "ok"}, body
    checks = sv.get("/healthz/").json()["checks"]
    assert set(checks) == {"database", "broker", "beat"} and all(c["ok"] for c in checks.values()), checks
    for browser in (health, sv, op):
        browser.close()


def _answers(browser: Browser) -> bool:
    try:
        return browser.get("/healthz/").status_code in (200, 503)
    except httpx.TransportError:
        return False


def test_the_smoke_test_runs_every_command_of_the_readme():
    """Each command kind the README has is one the smoke test runs (no command silently skipped)."""
    kinds = {c.kind for c in production_commands()}
    assert kinds == {"environment", "manage", "web", "worker", "beat"}
