"""Logs and metrics (issue 17): what an operations team reads, captured from the real handlers."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from contextlib import contextmanager

from django.conf import settings


@contextmanager
def json_lines():
    """The console handler as configured in ``LOGGING`` (its filters), writing JSON lines to a
    buffer instead of stderr; yields a function that returns the lines written so far, parsed."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    config = dict(settings.LOGGING["formatters"]["json"])
    factory = logging.config.DictConfigurator({}).resolve(config.pop("()"))
    buffer = io.StringIO()
    root = logging.getLogger()
    previous_formatter, previous_stream, previous_level = handler.formatter, handler.stream, root.level
    handler.setFormatter(factory(**config))
    handler.setStream(buffer)
    # The root level as LOGGING sets it: a Celery test worker started earlier in this process
    # (``start_worker(loglevel="WARNING")``) may have lowered it, which production never does.
    root.setLevel(settings.LOGGING["root"]["level"])
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()], buffer
    finally:
        handler.setFormatter(previous_formatter)
        handler.setStream(previous_stream)
        root.setLevel(previous_level)


def request_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line.get("logger") == "consentoffice.request"]
