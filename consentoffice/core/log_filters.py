"""Filters of the log configuration (``LOGGING`` in settings)."""

from __future__ import annotations

import logging


class PlainForbidden(logging.Filter):
    """A 403 is a role meeting a page it may not open, not a fault: one warning line, no traceback.

    Django's ``django.request`` logger writes "Forbidden (Permission denied): <path>" with the
    exception's traceback. The path can hold a member number (``/audit/members/<member_no>/``), so
    the line names the route pattern instead, and the user by id (no personal data in logs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) != 403:
            return True
        request = getattr(record, "request", None)
        match = getattr(request, "resolver_match", None)
        user = getattr(request, "user", None)
        record.msg = "Forbidden: route=%s user=%s"
        record.args = (
            f"/{match.route}" if match is not None else "(unresolved)",
            getattr(user, "pk", None) or "-",
        )
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True
