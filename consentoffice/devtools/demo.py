"""The whole demo data set of ``manage.py seed_demo``: each app's demo sections, in order.

The members app seeds users, partners and members (``members.demo``); bureau records
(``bureaus.demo``) and tickets (``requests.demo``) build on them. The orchestration lives here,
in the project package, because ``members`` may not import the apps that depend on it.
Every section is idempotent on its own; together they add nothing on a second run.
"""

from __future__ import annotations

from collections.abc import Callable

from bureaus.demo import seed_bureau_records
from members import demo as members_demo
from members.demo import DEFAULT_DEMO_PASSWORD, DEFAULT_MEMBER_COUNT, DemoContext
from requests.demo import seed_tickets

# Bureau records come before the tickets, so an approved correction of a member registered at a
# bureau also sends a correction record there (clause Art. 4).
SECTIONS: list[tuple[str, Callable[[DemoContext], int]]] = [
    *members_demo.SECTIONS,
    ("bureau records", seed_bureau_records),
    ("tickets", seed_tickets),
]


def seed(*, member_count: int = DEFAULT_MEMBER_COUNT, password: str = DEFAULT_DEMO_PASSWORD):
    """Run every section; returns the context and {section: rows created}."""
    return members_demo.seed(member_count=member_count, password=password, sections=SECTIONS)
