"""Accessibility as a test: axe-core (WCAG 2.1 A and AA) on every page a role can reach.

Each role logs in on the demo data set (``manage.py seed_demo``'s sections: tickets in every state,
bureau registrations with a rejected one, partner sync events with a dead one, notifications) and
crawls from ``/``, following every same-origin link by GET. Pages are told apart by their URL
route and the arguments that name a kind of page (a queue, a step, an app); each kind is visited
at most twice, and a second visit must differ from the first in its object or in the filters of
its query string, so lists, records and filters are all seen and the crawl stays short. Every
page is checked in the light theme, the first of each kind in the dark theme too; the test fails
on any critical or serious violation and names the page, the rule and the elements. A screenshot
of each kind of page is saved. The crawler knows no page by name: a page added later is checked
as soon as a link leads to it.
"""

from __future__ import annotations

import re
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urldefrag, urljoin, urlsplit

import pytest
from django.urls import Resolver404, resolve

from tests.conftest import TEST_PASSWORD
from tests.e2e.conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
ALL_RULES = {"runOnly": {"type": "tag", "values": WCAG_TAGS}}
# What a colour theme can change: the dark theme is checked for these.
THEME_RULES = {"runOnly": {"type": "rule", "values": ["color-contrast", "link-in-text-block"]}}
FAILING_IMPACTS = {"critical", "serious"}
PAGES_PER_KIND = 2
DEMO_MEMBERS = 20

# Not followed: leaving, switching the language, files (disclosure packages, reply letters, bureau
# files, CSV exports, the marketing extract), the admin's redirect to the public site, assets.
SKIPPED = re.compile(
    r"logout|^/i18n/|download|reply-letter|\.csv$|/export|^/admin/r/|^/admin/jsi18n/|^/static/|^/media/"
)
# Query parameters that sort, page, show all rows or count a list: the same page, not another one.
SAME_PAGE_PARAMS = {"o", "p", "all", "_facets", "_changelist_filters"}

# Kinds of page a role must reach (about three quarters of those reached when this was written:
# 65, 92 and 96), so that a broken login or a lost menu cannot pass by checking little.
MIN_KINDS = {"operator": 48, "supervisor": 69, "privacy_officer": 72}

# Links change colour with a transition (the admin's base.css): after switching the colour
# scheme, wait until the transitions have ended, or axe would measure colours half-way.
SETTLED_JS = """() => new Promise(done => requestAnimationFrame(done)).then(() =>
  Promise.all(document.getAnimations().map(animation => animation.finished.catch(() => null))))"""
LINKS_JS = "() => [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href'))"


@dataclass
class Crawl:
    origin: str
    kinds: Counter = field(default_factory=Counter)
    pages: int = 0
    seen: set = field(default_factory=set)
    refused: list[str] = field(default_factory=list)  # links that led to an error page
    violations: list[str] = field(default_factory=list)

    def key(self, url: str):
        """(kind, signature) of a URL to visit, or None for a link to leave alone. The kind is the
        route with its non-numeric arguments; the signature adds the object's numbers and the
        names of the query's parameters."""
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != self.origin or SKIPPED.search(parts.path):
            return None
        try:
            match = resolve(parts.path)
        except Resolver404:
            return None
        arguments = sorted((name, str(value)) for name, value in match.kwargs.items())
        kind = (match.route, tuple((name, value) for name, value in arguments if not value.isdigit()))
        numbers = tuple((name, value) for name, value in arguments if value.isdigit())
        params = frozenset(name for name, _value in parse_qsl(parts.query, keep_blank_values=True))
        return kind, (kind, numbers, params - SAME_PAGE_PARAMS)

    def visit(self, page, shot, url: str, found_on: str) -> list[str]:
        """Check the page at ``url``; returns the links on it."""
        try:
            response = page.goto(url)
        except Exception as exc:  # a file offered for download is not a page
            self.refused.append(f"{url} (from {found_on}): {str(exc).splitlines()[0]}")
            return []
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            return []
        if response.status >= 400:
            self.refused.append(f"{url} (from {found_on}): HTTP {response.status}")
            return []
        kind = self.key(url)[0]
        self.kinds[kind] += 1
        self.pages += 1
        self.violations += axe_violations(page, url, "light", ALL_RULES)
        if self.kinds[kind] == 1:
            shot(page_name(kind))
            page.emulate_media(color_scheme="dark")
            page.evaluate(SETTLED_JS)
            self.violations += axe_violations(page, url, "dark", THEME_RULES)
            page.emulate_media(color_scheme="light")
        return page.evaluate(LINKS_JS)


def page_name(kind) -> str:
    route, naming = kind
    text = route + "".join(f"-{value}" for _name, value in naming)
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_") or "home"


def axe_violations(page, url: str, theme: str, rules: dict) -> list[str]:
    results = page.evaluate("options => axe.run(document, options)", {**rules, "resultTypes": ["violations"]})
    return [
        f"{url} [{theme}] {rule['impact']} {rule['id']}: "
        + ", ".join(" ".join(node["target"]) for node in rule["nodes"][:8])
        for rule in results["violations"]
        if rule["impact"] in FAILING_IMPACTS
    ]


def crawl(page, shot, origin: str) -> Crawl:
    from axe_playwright_python.base import AXE_SCRIPT

    # In every page before its own scripts (a script injected by the browser is not bound by the CSP).
    page.context.add_init_script(AXE_SCRIPT)
    state = Crawl(origin=origin)
    queue = deque([(urljoin(origin, "/"), "-")])
    while queue:
        url, found_on = queue.popleft()
        key = state.key(url)
        if key is None or key[1] in state.seen or state.kinds[key[0]] >= PAGES_PER_KIND:
            continue
        state.seen.add(key[1])
        for href in state.visit(page, shot, url, found_on):
            queue.append((urldefrag(urljoin(page.url, href)).url, url))
    return state


@pytest.fixture
def demo_data(private_storage, settings):
    """The demo data set with its demo users (operator, supervisor, privacy_officer, …)."""
    from consentoffice.devtools import demo

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    demo.seed(member_count=DEMO_MEMBERS, password=TEST_PASSWORD)


@pytest.mark.parametrize("role", ["operator", "supervisor", "privacy_officer"])
def test_every_page_a_role_reaches_has_no_critical_or_serious_axe_violation(
    page, shot, live_server, demo_data, role
):
    started = time.monotonic()
    login(page, role)  # the demo user of the role's name
    state = crawl(page, shot, live_server.url)
    print(
        f"\n{role}: {len(state.kinds)} kinds of page, {state.pages} pages,"
        f" {time.monotonic() - started:.0f} s; links to an error page or a file:",
        *state.refused,
        sep="\n  ",
    )
    assert len(state.kinds) >= MIN_KINDS[role], sorted(page_name(kind) for kind in state.kinds)
    assert not [line for line in state.refused if re.search(r"HTTP 5\d\d$", line)]
    assert not state.violations, "\n".join(state.violations)
