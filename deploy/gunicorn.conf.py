"""Gunicorn settings of the production web server (README, Production; docs/operations.md).

Started as ``gunicorn -c deploy/gunicorn.conf.py consentoffice.wsgi``. Each value can be changed
by the environment variable read beside it; the defaults fit a 2-core machine.
"""

import os

# Behind the TLS proxy on the same machine; the proxy is the only client.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Threaded workers: a request mostly waits for PostgreSQL, so two threads per process keep both
# cores busy with 2 × cores processes (measured in BENCHMARKS.md, Load).
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1))))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle a process now and then so a slow leak cannot grow without bound.
max_requests = 5000
max_requests_jitter = 500
# The scheme comes from the application's own rule (DJANGO_TRUSTED_PROXIES and
# consentoffice.accounts.security.TrustedProxyMiddleware), never from gunicorn's defaults.
forwarded_allow_ips = ""
secure_scheme_headers = {}
# No access log: it would write each raw path and query string (member numbers, searched phone
# numbers). The application writes one JSON line per request without them (docs/operations.md, Logs).
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Worker heartbeats in memory, not on a disk that may stall.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
# No control socket (gunicorn 24+ opens one in $XDG_RUNTIME_DIR or ~/.gunicorn/ by default): the
# units reload and stop with signals, the service user's home is read-only under the units'
# hardening, and two servers of one user would fight over the one path.
control_socket_disable = True
