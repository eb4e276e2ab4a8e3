"""The project's URLs and two of the tests' own: a view that fails and one that queues a task."""

from django.http import HttpResponse
from django.urls import path

from consentoffice.core.queue import enqueue_on_commit
from consentoffice.urls import urlpatterns as project_urls


def boom(request):
    raise RuntimeError("a fault in a view")


def queue_heartbeat(request):
    from consentoffice.tasks import beat_heartbeat

    enqueue_on_commit(beat_heartbeat)
    return HttpResponse("queued")


urlpatterns = [
    path("tests/boom/", boom, name="tests_boom"),
    path("tests/queue-heartbeat/", queue_heartbeat, name="tests_queue_heartbeat"),
    *project_urls,
]
handler500 = "consentoffice.views.server_error"
