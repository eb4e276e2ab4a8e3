"""The chunk of COPY lines per table, each history row built next to its live row."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from consentoffice.devtools.bulk.tables import HISTORY_TABLE, NO_HISTORY, REASON


@dataclass
class Counters:
    next_id: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    ticket_seq: dict[str, int] = field(default_factory=dict)

    def take(self, table: str) -> int:
        value = self.next_id[table]
        self.next_id[table] = value + 1
        return value


class Chunk:
    """Lines of one chunk per table; history lines built next to their live row."""

    def __init__(self, counters: Counters):
        self.lines: dict[str, list[str]] = defaultdict(list)
        self.counters = counters

    def add(
        self,
        table: str,
        values: list[str],
        *,
        history: list[tuple[list[str], str, str, int]] | None = None,
        at: str = "",
        user: int = 0,
        live_only: tuple[str, ...] = (),
    ) -> None:
        """``values`` in ``TABLES`` order, ``live_only`` those of ``LIVE_ONLY_COLUMNS`` (the live row
        only). Without ``history`` the object gets one ``+`` history row dated ``at`` by ``user``;
        ``history`` holds (values, date, type, user) per history row."""
        row = "\t".join(values)
        self.lines[table].append("\t".join((row, *live_only)) + "\n")
        if table in NO_HISTORY:
            return
        htable = HISTORY_TABLE[table]
        ids = self.counters.next_id
        out = self.lines[htable]
        if history is None:
            hid = ids[htable]
            ids[htable] = hid + 1
            out.append(f"{row}\t{hid}\t{at}\t{REASON}\t+\t{user}\n")
            return
        for hvalues, hdate, htype, huser in history:
            hid = ids[htable]
            ids[htable] = hid + 1
            out.append("\t".join(hvalues) + f"\t{hid}\t{hdate}\t{REASON}\t{htype}\t{huser}\n")
