"""The Celery application. Configuration lives in settings (``CELERY_*``)."""

import os
from pathlib import Path

from celery import Celery, beat
from celery.signals import beat_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "consentoffice.settings")

app = Celery("consentoffice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The request id in task messages, one log line and the metrics per task (consentoffice.logs).
from consentoffice import logs  # noqa: E402, F401


def _prepare_embedded_broker() -> None:
    """The file-system broker needs its folders before a producer or worker touches them."""
    options = app.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


@app.on_after_configure.connect
def _on_configure(sender, **kwargs) -> None:
    if str(sender.conf.broker_url).startswith("filesystem://"):
        _prepare_embedded_broker()


class PersistentScheduler(beat.PersistentScheduler):
    """Celery's scheduler (``CELERY_BEAT_SCHEDULER``), creating the folder of its schedule file
    (var/) first: on a fresh installation beat would otherwise stop at once, and with it every
    scheduled task and /healthz/."""

    def setup_schedule(self):
        if self.schedule_filename:
            Path(self.schedule_filename).parent.mkdir(parents=True, exist_ok=True)
        super().setup_schedule()


@beat_init.connect
def _first_heartbeat(sender, **kwargs) -> None:
    """Beat's heartbeat as soon as it starts, not a minute later: a fresh installation's
    /healthz/ turns green once beat and a worker run."""
    sender.app.send_task("consentoffice.tasks.beat_heartbeat")
