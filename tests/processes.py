"""Processes a test starts on its own test database: a Celery worker, gunicorn."""

from __future__ import annotations

import os
import sys

from django.db import connection


def subprocess_env(**extra: str) -> dict[str, str]:
    """This process's environment, pointed at the test database (and ``extra`` on top)."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "consentoffice.settings",
        "DATABASE_URL": "postgres://{USER}@{HOST}:{PORT}/{NAME}".format(**connection.settings_dict),
        **extra,
    }


def celery_worker_command(*options: str) -> list[str]:
    """``celery worker`` with one process and none of the cluster chatter a test does not need."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "consentoffice",
        "worker",
        "--concurrency=1",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        *options,
    ]
