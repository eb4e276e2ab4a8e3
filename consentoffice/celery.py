"""The Celery application. Configuration lives in settings (``CELERY_*``)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "consentoffice.settings")

app = Celery("consentoffice")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The request id in task messages, one log line and the metrics per task (consentoffice.logs).
from consentoffice import logs  # noqa: E402, F401


def _prepare_embedded_broker() -> None:
    """The file-system broker needs its folders before a producer or worker touches them."""
    from pathlib import Path

    options = app.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


@app.on_after_configure.connect
def _on_configure(sender, **kwargs) -> None:
    if str(sender.conf.broker_url).startswith("filesystem://"):
        _prepare_embedded_broker()
