"""The project's URLs and two of the tests' own: a view that fails and one that queues a task."""

import os

from django.db import transaction
from django.http import HttpResponse
from django.urls import path

from consentoffice.urls import urlpatterns as project_urls


def boom(request):
    raise RuntimeError("a fault in a view")


# A queue of this test process's own: a worker of another test process (pytest -n) on the same
# Redis must not take the task.
QUEUE = f"tests-observability-{os.getpid()}"


def queue_heartbeat(request):
    from consentoffice.tasks import beat_heartbeat

    transaction.on_commit(lambda: beat_heartbeat.apply_async(queue=QUEUE))
    return HttpResponse("queued")


urlpatterns = [
    path("tests/boom/", boom, name="tests_boom"),
    path("tests/queue-heartbeat/", queue_heartbeat, name="tests_queue_heartbeat"),
    *project_urls,
]
handler500 = "consentoffice.views.server_error"
