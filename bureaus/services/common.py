"""What the bureau services share: the chunk size of bulk writes and which database path runs."""

from __future__ import annotations

from django.db import connection

CHUNK_SIZE = 2000


def _set_based() -> bool:
    """PostgreSQL claims and records in single statements; other databases (SQLite for a laptop)
    take the portable ORM path, which tests also run on PostgreSQL to keep both alike."""
    return connection.vendor == "postgresql"
