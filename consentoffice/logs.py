"""Logs an operations team can use (docs/operations.md, Logs): one line per request and per task.

- ``RequestLogMiddleware`` (first in ``MIDDLEWARE``) gives each request an id, returns it as the
  ``X-Request-ID`` header, writes one line when the response leaves (``consentoffice.request``) and
  records the request's metrics (``consentoffice.metrics``).
- The Celery signals at the bottom carry that id in the message headers of every task the request
  queues and write one line when a task ends (``consentoffice.task``).
- ``ContextFilter`` (on the console handler) stamps every line written inside a request or a task
  with ``request_id`` (and ``task_id``), whichever logger wrote it.

No personal data: the line names the URL pattern and the view, never the path (``/members/<no>/``
carries a member number) nor the query string (searches carry names and phone numbers), and the
user by id only.
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from contextvars import ContextVar

from celery import signals
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
# The message header that carries the id of the web request that queued a task.
TASK_HEADER = "request_id"
# A request id accepted from a trusted proxy: letters, digits, '-' and '_', 16 to 64 characters
# (a UUID in hex or with dashes fits); anything else is replaced by our own.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
UNRESOLVED = "(unresolved)"

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
task_id_var: ContextVar[str | None] = ContextVar("task_id", default=None)

request_logger = logging.getLogger("consentoffice.request")
task_logger = logging.getLogger("consentoffice.task")


def current_request_id() -> str | None:
    return request_id_var.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


# --- Log records ------------------------------------------------------------------------------


class ContextFilter(logging.Filter):
    """Every record gets ``request_id`` and ``task_id`` (``None`` outside a request or task).

    Django writes its "Not Found" and "Internal Server Error" lines after the middleware returned
    (the context is gone by then); they carry the request itself, and so its id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get() or getattr(
                getattr(record, "request", None), "request_id", None
            )
        if getattr(record, "task_id", None) is None:
            record.task_id = task_id_var.get()
        return True


class RouteNotPath(logging.Filter):
    """Django writes the raw path into its request warnings ("Not Found: /members/00012345/"); the
    path gives way to the URL pattern, which names no member."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        path = getattr(request, "path", None)
        if path and isinstance(record.args, tuple):
            escaped = path.encode("unicode_escape").decode("ascii")
            record.args = tuple(
                f"route={route_of(request)}" if arg in (path, escaped) else arg for arg in record.args
            )
        return True


class JsonFormatter(_JsonFormatter):
    """python-json-logger's formatter without the attributes Django attaches to its records: the
    ``request`` object would be written as its repr, raw path and query string included."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request", "server_time"])
        super().__init__(*args, **kwargs)


# --- Requests ---------------------------------------------------------------------------------


def route_of(request) -> str:
    """The URL pattern that answered (``/members/<member_no:member_no>/``), never the path."""
    match = getattr(request, "resolver_match", None)
    return f"/{match.route}" if match is not None else UNRESOLVED


def view_of(request) -> str:
    """The view's URL name (``member_workspace``, ``admin:requests_ticket_change``): the label of
    the request metrics, a short list however many members and tickets there are."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNRESOLVED
    return match.view_name or match._func_path


def _user_id(request) -> int | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    return user.pk


def incoming_request_id(request) -> str | None:
    """``X-Request-ID`` as sent by a trusted proxy (``DJANGO_TRUSTED_PROXIES``), when well-formed."""
    from consentoffice.accounts.security import from_trusted_proxy

    value = request.META.get("HTTP_X_REQUEST_ID", "")
    if value and REQUEST_ID_PATTERN.fullmatch(value) and from_trusted_proxy(request):
        return value
    return None


class RequestLogMiddleware:
    """First in ``MIDDLEWARE``: the duration covers every other middleware, and rate-limited or
    refused requests get their line too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from consentoffice import metrics

        request_id = incoming_request_id(request) or new_request_id()
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            response.headers[REQUEST_ID_HEADER] = request_id
            view, route = view_of(request), route_of(request)
            metrics.observe_request(
                view=view, method=request.method, status=response.status_code, seconds=seconds
            )
            request_logger.info(
                "%s %s %s %.1fms",
                request.method,
                route,
                response.status_code,
                seconds * 1000,
                extra={
                    "user_id": _user_id(request),
                    "method": request.method,
                    "route": route,
                    "view": view,
                    "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 1),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


# --- Tasks ------------------------------------------------------------------------------------

_OUTCOMES = {"SUCCESS": "success", "FAILURE": "failure", "RETRY": "retry"}
_started: dict[str, float] = {}


@signals.worker_init.connect
def _worker_metrics(**kwargs) -> None:
    """A Celery worker's main process: its metrics (and its pool children's) get a directory of
    their own before any task runs."""
    from consentoffice import metrics

    metrics.start_service(metrics.WORKER, os.getpid())


@signals.before_task_publish.connect
def _carry_request_id(sender=None, headers=None, **kwargs) -> None:
    request_id = request_id_var.get()
    if request_id and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


def _queued_by(task) -> str | None:
    value = getattr(task.request, TASK_HEADER, None) or (task.request.headers or {}).get(TASK_HEADER)
    return value if isinstance(value, str) and REQUEST_ID_PATTERN.fullmatch(value) else None


@signals.task_prerun.connect
def _task_started(sender=None, task_id=None, task=None, **kwargs) -> None:
    request_id_var.set(_queued_by(task) if task is not None else None)
    task_id_var.set(task_id)
    _started[task_id] = time.perf_counter()


@signals.task_postrun.connect
def _task_finished(sender=None, task_id=None, task=None, state=None, **kwargs) -> None:
    from consentoffice import metrics

    started = _started.pop(task_id, None)
    seconds = time.perf_counter() - started if started is not None else 0.0
    outcome = _OUTCOMES.get(state or "", (state or "unknown").lower())
    name = getattr(task, "name", None) or str(sender)
    try:
        metrics.observe_task(name=name, outcome=outcome, seconds=seconds)
        task_logger.info(
            "task %s %s %.1fms",
            name,
            outcome,
            seconds * 1000,
            extra={"task": name, "outcome": outcome, "duration_ms": round(seconds * 1000, 1)},
        )
    finally:
        request_id_var.set(None)
        task_id_var.set(None)
