"""The rows of one bulk member and everything held on them, by concern (``member_rows``,
``contract_rows``, ``ticket_rows``)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from django.utils import timezone

from consentoffice.core.dates import add_months
from consentoffice.devtools.bulk.contract_rows import ContractRows
from consentoffice.devtools.bulk.history import Counters
from consentoffice.devtools.bulk.member_rows import CONTRACT_STATUS_WEIGHTS, MemberRows
from consentoffice.devtools.bulk.reference import Reference
from consentoffice.devtools.bulk.ticket_rows import TICKET_KIND_WEIGHTS, TicketRows
from consentoffice.devtools.bulk.values import Pools, iso, month_starts_before
from members.demo import OCCUPATIONS


class RowBuilder(MemberRows, ContractRows, TicketRows):
    def __init__(self, *, ref: Reference, pools: Pools, rng: random.Random, counters: Counters, today: date):
        self.ref = ref
        self.pools = pools
        self.rng = rng
        self.counters = counters
        self.today = today
        self.now = timezone.now()
        self.months = month_starts_before(today, 12)
        self.month_text = [m.isoformat() for m in self.months]
        # A history row of a monthly record is dated a few days after its month ends.
        self.month_history = [iso(self._at(add_months(m, 1) + timedelta(days=4), 3)) for m in self.months]
        self.cic = ref.bureaus.get("CIC")
        self.statuses = [s for s, _w in CONTRACT_STATUS_WEIGHTS]
        self.status_weights = [w for _s, w in CONTRACT_STATUS_WEIGHTS]
        self.ticket_kinds = [k for k, _w in TICKET_KIND_WEIGHTS]
        self.ticket_weights = [w for _k, w in TICKET_KIND_WEIGHTS]
        self.occupations = [o for o, _w, _k in OCCUPATIONS]
        self.occupation_weights = [w for _o, w, _k in OCCUPATIONS]
        self.employer_kind = {o: k for o, _w, k in OCCUPATIONS}
        self._iso_cache: dict[tuple[date, int], str] = {}

    @staticmethod
    def _at(day: date, hour: int) -> datetime:
        return datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)

    def _at_iso(self, day: date, hour: int) -> str:
        key = (day, hour)
        found = self._iso_cache.get(key)
        if found is None:
            found = self._iso_cache[key] = iso(self._at(day, hour))
        return found

    def _pick(self, items):
        return items[int(self.rng.random() * len(items))]
