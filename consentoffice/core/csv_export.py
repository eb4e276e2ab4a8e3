"""CSV files that people open in Excel: UTF-8 with a byte-order mark, and no cell that a
spreadsheet would run as a formula (CSV injection). Used by the audit exports and the marketing
extract; imports no domain app."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

BOM = "\ufeff"  # Excel opens UTF-8 Japanese text correctly with a byte-order mark.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def cell(value):
    """A spreadsheet must not run a cell as a formula: such text gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_lines(header: list[str], rows: Iterable[Iterable]) -> Iterator[str]:
    """The BOM, the header line, then one guarded line per row."""
    writer = csv.writer(_Echo())
    yield BOM
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([cell(value) for value in row])


def csv_blocks(header: list[str], rows: Iterable[Iterable], *, rows_per_block: int = 2000) -> Iterator[str]:
    """The same text as ``csv_lines``, in blocks of ``rows_per_block`` rows (a million rows are
    then a few hundred pieces for the response and the hash, not a million)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    yield BOM + buffer.getvalue()
    block: list[list] = []
    for row in rows:
        block.append([cell(value) for value in row])
        if len(block) >= rows_per_block:
            yield _written(block)
            block.clear()
    if block:
        yield _written(block)


def _written(block: list[list]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(block)
    return buffer.getvalue()
