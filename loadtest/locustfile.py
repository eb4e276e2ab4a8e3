"""The load mix (``make load``; BENCHMARKS.md, Load): operators and supervisors over real HTTP.

Run by ``loadtest/run.py`` with locust from its own virtual environment (``.venv-load``): locust
needs the PyPI package ``requests``, which must not sit next to this project's ``requests`` app,
and this file is kept out of the repository root because locust puts its folder on ``sys.path``.

The client stands in for the TLS proxy in front of the production server: it sends
``X-Forwarded-Proto: https`` (the server trusts it from 127.0.0.1, DJANGO_TRUSTED_PROXIES) and
sends the ``Secure`` session and CSRF cookies over the loopback connection. Supervisors compute their
second-factor codes here (RFC 6238, the standard library's hmac) from keys ``load_prepare`` wrote to
the file named by ``LOAD_DATA_FILE``; nothing of that file is printed.

``LOAD_THINK`` (seconds, ``min-max``) is the think time between two pages; ``0`` for none.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import quote

import gevent.event
from locust import between, constant, events, task
from locust.contrib.fasthttp import FastHttpUser
from totp import totp  # loadtest/totp.py: this folder is on sys.path

with open(os.environ["LOAD_DATA_FILE"], encoding="utf-8") as _file:
    DATA = json.load(_file)

_think = os.environ.get("LOAD_THINK", "1-3")
if _think in ("", "0"):
    WAIT = constant(0)
else:
    _low, _, _high = _think.partition("-")
    WAIT = between(float(_low), float(_high or _low))

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_operators = itertools.cycle(DATA["operators"])
_supervisors = itertools.cycle(DATA["supervisors"])
# Logging in costs a password hash each (PBKDF2, ~0.5 s of CPU): the mix is measured from the
# moment the last user has logged in (the statistics are reset then; loadtest/run.py gives locust
# a minute more than the profile's duration for the logins), and nobody starts on the pages before.
ALL_LOGGED_IN = gevent.event.Event()
_logged_in: list[str] = []
_started = time.monotonic()


def _logged_in_one(environment, username: str) -> None:
    _logged_in.append(username)
    if len(_logged_in) >= environment.runner.target_user_count:
        environment.runner.stats.reset_all()
        print(
            f"all {len(_logged_in)} users logged in after {time.monotonic() - _started:.1f} s; measuring",
            flush=True,
        )
        ALL_LOGGED_IN.set()


@events.test_start.add_listener
def _test_start(environment, **kwargs):
    global _started
    _started = time.monotonic()


class LoopbackProxyPolicy(DefaultCookiePolicy):
    """Send ``Secure`` cookies over the plain loopback connection the client uses in the proxy's place."""

    def return_ok_secure(self, cookie, request):
        return True


class Staff(FastHttpUser):
    abstract = True
    wait_time = WAIT
    account: dict

    def on_start(self):
        self.client.cookiejar.set_policy(LoopbackProxyPolicy())
        origin = "https://" + self.host.split("://", 1)[-1].rstrip("/")
        # A new connection for every request, as the TLS proxy's pool hands each request to
        # whichever worker is free (deploy/nginx-consentoffice.conf). A user's kept-alive
        # connection would stay on one gunicorn process for the whole run: the users sharing a
        # process with the supervisors' heavy pages waited behind them, the mix served turned
        # towards the cheap pages, and the rate came out higher than the mix allows.
        self.headers = {"X-Forwarded-Proto": "https", "Connection": "close"}
        self.post_headers = {**self.headers, "Origin": origin}
        self.login()
        _logged_in_one(self.environment, self.account["username"])
        ALL_LOGGED_IN.wait()

    def _token(self, response) -> str:
        found = CSRF_INPUT.search(response.text or "")
        if not found:
            raise RuntimeError("no CSRF token on the page")
        return found.group(1)

    def login(self):
        page = self.client.get("/admin/login/", headers=self.headers, name="login (page)")
        with self.client.post(
            "/admin/login/",
            data={
                "csrfmiddlewaretoken": self._token(page),
                "username": self.account["username"],
                "password": self.account["password"],
                "next": "/",
            },
            headers=self.post_headers,
            name="login (password)",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302 or "/admin/login/" in (response.headers.get("Location") or ""):
                response.failure("password refused")
                return
        if "totp_key" in self.account:
            self.second_factor()

    def second_factor(self):
        """The code page the supervisor's next page would redirect to, and a code from the key."""
        page = self.client.get("/account/otp/?next=/", headers=self.headers, name="login (code page)")
        # One code per 30-second step and device (django-otp refuses a code used before).
        with self.client.post(
            "/account/otp/",
            data={
                "csrfmiddlewaretoken": self._token(page),
                "otp_token": totp(self.account["totp_key"]),
                "next": "/",
            },
            headers=self.post_headers,
            name="login (second factor)",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302 or "/account/otp/" in (response.headers.get("Location") or ""):
                response.failure("code refused")

    def page(self, path: str, name: str):
        """GET a page; anything but 200 (a redirect to the login page included) is an error."""
        with self.client.get(
            path, headers=self.headers, name=name, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")

    def member(self) -> dict:
        return random.choice(DATA["members"])


class Operator(Staff):
    """Operators: the home page, member searches, member workspaces, tickets and their queues."""

    fixed_count = 25

    def on_start(self):
        self.account = next(_operators)
        super().on_start()

    @task(4)
    def home(self):
        self.page("/", "/ (home)")

    @task(2)
    def search_member_no(self):
        self.page(f"/members/?q={self.member()['no']}", "/members/?q= (member no)")

    @task(2)
    def search_phone(self):
        self.page(f"/members/?q={quote(self.member()['phone'])}", "/members/?q= (phone)")

    @task(2)
    def search_name(self):
        self.page(f"/members/?q={quote(self.member()['name'])}", "/members/?q= (name)")

    @task(4)
    def workspace(self):
        self.page(f"/members/{self.member()['no']}/", "/members/[no]/ (workspace)")

    @task(3)
    def ticket(self):
        self.page(f"/admin/requests/ticket/{random.choice(DATA['tickets'])}/change/", "ticket page")

    @task(1)
    def queue_mine(self):
        self.page("/admin/requests/ticket/queue/mine/", "queue: mine")

    @task(1)
    def queue_unassigned(self):
        self.page("/admin/requests/ticket/queue/unassigned/", "queue: unassigned")

    @task(1)
    def queue_due_soon(self):
        self.page("/admin/requests/ticket/queue/due_soon/", "queue: due soon")

    @task(1)
    def queue_overdue(self):
        self.page("/admin/requests/ticket/queue/overdue/", "queue: overdue")


class Supervisor(Staff):
    """Supervisors: approvals on the home page and their queue, the audit trail, the dashboard,
    and the members and tickets they approve."""

    fixed_count = 5

    def on_start(self):
        self.account = next(_supervisors)
        super().on_start()

    @task(3)
    def home(self):
        self.page("/", "/ (home, approvals)")

    @task(2)
    def approval_queue(self):
        self.page("/admin/requests/ticket/queue/approval/", "queue: approval")

    @task(1)
    def audit(self):
        self.page("/audit/", "/audit/")

    @task(1)
    def audit_by_user(self):
        self.page(f"/audit/?user={random.choice(DATA['audit_users'])}", "/audit/?user=")

    @task(1)
    def audit_by_member(self):
        self.page(f"/audit/?member={self.member()['no']}", "/audit/?member=")

    @task(2)
    def dashboard(self):
        self.page("/dashboard/", "/dashboard/")

    @task(1)
    def ticket(self):
        self.page(f"/admin/requests/ticket/{random.choice(DATA['tickets'])}/change/", "ticket page")

    @task(1)
    def workspace(self):
        self.page(f"/members/{self.member()['no']}/", "/members/[no]/ (workspace)")

    @task(1)
    def member_page(self):
        self.page(f"/admin/members/member/{self.member()['id']}/change/", "member page (admin)")
