"""Settings for consentoffice, read only from the environment (twelve-factor).

Development defaults work on a laptop with nothing but Python: SQLite in the project folder and
an embedded file-system Celery broker. ``DJANGO_ENV=production`` refuses to start without a
secret key, allowed hosts and field-encryption keys.
"""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE as CSP_NONE
from csp.constants import SELF as CSP_SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CONSENTOFFICE_VAR_DIR", BASE_DIR / "var"))

DJANGO_ENV = os.environ.get("DJANGO_ENV", "development")
if DJANGO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("DJANGO_ENV must be 'development' or 'production'.")
PRODUCTION = DJANGO_ENV == "production"


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Development-only values: production refuses to start with any of them.
_DEV_SECRET_KEY = "dev-only-insecure-consentoffice-secret-key-never-use-in-production"
_DEV_ENCRYPTION_KEY = "ZGV2LW9ubHkta2V5LWNvbnNlbnRvZmZpY2UtMzItYnk="

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "" if PRODUCTION else _DEV_SECRET_KEY)
ALLOWED_HOSTS = _env_list("DJANGO_ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
FIELD_ENCRYPTION_KEYS = _env_list("FIELD_ENCRYPTION_KEYS", "" if PRODUCTION else _DEV_ENCRYPTION_KEY)
# The HMAC key of the audit trail's seal chain (consentoffice.audit.seal). Production needs its own,
# kept apart from the secret key: rotating or leaking the secret key must neither break the
# verification of past seals nor let whoever holds it forge new ones.
AUDIT_SEAL_KEY = os.environ.get("AUDIT_SEAL_KEY", "" if PRODUCTION else f"audit-seal:{SECRET_KEY}")

if PRODUCTION:
    missing = [
        name
        for name, value in (
            ("DJANGO_SECRET_KEY", SECRET_KEY),
            ("DJANGO_ALLOWED_HOSTS", ALLOWED_HOSTS),
            ("FIELD_ENCRYPTION_KEYS", FIELD_ENCRYPTION_KEYS),
            ("AUDIT_SEAL_KEY", AUDIT_SEAL_KEY),
        )
        if not value
    ]
    if missing:
        raise ImproperlyConfigured(f"DJANGO_ENV=production needs: {', '.join(missing)}")
    if SECRET_KEY == _DEV_SECRET_KEY or _DEV_ENCRYPTION_KEY in FIELD_ENCRYPTION_KEYS:
        raise ImproperlyConfigured("DJANGO_ENV=production refuses the development secret or key.")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be at least 50 characters long.")
    if len(AUDIT_SEAL_KEY) < 32 or AUDIT_SEAL_KEY in (SECRET_KEY, *FIELD_ENCRYPTION_KEYS):
        raise ImproperlyConfigured(
            "AUDIT_SEAL_KEY must be at least 32 characters and differ from the secret and encryption keys."
        )

DEBUG = not PRODUCTION and os.environ.get("DJANGO_DEBUG", "1") == "1"

INSTALLED_APPS = [
    "consentoffice.core.admin_site.CenterAdminConfig",  # django.contrib.admin with CenterAdminSite
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_filters",
    "simple_history",
    "axes",
    "django_otp",
    "csp",
    "consentoffice",
    "members",
    "requests",
    "bureaus",
]

MIDDLEWARE = [
    # Outermost: the request id, one log line and the metrics of every request, refused ones too.
    "consentoffice.logs.RequestLogMiddleware",
    # X-Forwarded-Proto is dropped unless a trusted proxy sent it.
    "consentoffice.accounts.security.TrustedProxyMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "consentoffice.accounts.security.SecurityHeadersMiddleware",
    # Before sessions and the database: a throttled request costs one cache hit (429 pages still
    # get the headers above).
    "consentoffice.accounts.ratelimit.RateLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Slides the 30-minute idle expiry at most once a minute (instead of SESSION_SAVE_EVERY_REQUEST).
    "consentoffice.accounts.security.SessionRenewalMiddleware",
    # LocaleMiddleware that ignores Accept-Language: Japanese until the operator chooses English.
    "consentoffice.core.i18n.ChosenLanguageMiddleware",
    "consentoffice.accounts.security.RefuseNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "consentoffice.accounts.twofactor.RequireOTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "consentoffice.urls"
WSGI_APPLICATION = "consentoffice.wsgi.application"
ASGI_APPLICATION = "consentoffice.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
PREPARED_STATEMENTS = os.environ.get("DATABASE_PREPARED_STATEMENTS", "on")
if PREPARED_STATEMENTS not in ("on", "off"):
    raise ImproperlyConfigured("DATABASE_PREPARED_STATEMENTS must be 'on' or 'off'.")
if DATABASES["default"]["ENGINE"].endswith("postgresql") and PREPARED_STATEMENTS == "on":
    # Only the cursors that bind on the server prepare (core.queries.Statement: the audit lists'
    # unions, planned once per connection); Django's own cursors bind on the client and never do.
    # Turn off behind a pooler that shares a connection between transactions (docs/operations.md).
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = 0
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the web server, the worker and beat share the embedded database.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;"
    )
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-axes checks every login attempt first; ModelBackend then checks the password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "consentoffice.accounts.backends.ModelBackendOneQuery",
]
# Lockout: 5 wrong passwords for one username from one address lock that pair for 30 minutes
# (an attacker cannot lock a colleague out from elsewhere); a success resets the count.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "30")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "consentoffice.accounts.security.axes_username"
AXES_LOCKOUT_CALLABLE = "consentoffice.accounts.views.lockout"
AXES_HTTP_RESPONSE_CODE = 429
# The client address is REMOTE_ADDR only: a client-sent X-Forwarded-For must not choose it
# (behind a trusted proxy, TrustedProxyMiddleware puts the proxy's X-Real-IP there). Same rule as
# consentoffice.accounts.ratelimit.
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
AXES_COOLOFF_MESSAGE = _(
    "ログインの失敗が続いたため、一時的にログインできません。30分ほど待ってからもう一度お試しください。"
)

# Second factor (TOTP) for supervisors and the privacy officer: consentoffice.accounts.twofactor.
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "consentoffice")
OTP_TOTP_THROTTLE_FACTOR = 1  # 1, 2, 4, 8 … seconds of wait after each wrong code
# How long a one-time enrolment code (issued by another supervisor) stays usable.
OTP_ENROLMENT_CODE_HOURS = int(os.environ.get("OTP_ENROLMENT_CODE_HOURS", "24"))


# Fixed-window limits per client address (consentoffice.accounts.ratelimit): (requests, seconds).
def _rate(name: str, default: str) -> tuple[int, int]:
    count, _sep, seconds = os.environ.get(name, default).partition("/")
    return int(count), int(seconds)


RATE_LIMITS = {
    "login": _rate("RATE_LIMIT_LOGIN", "20/300"),
    "otp": _rate("RATE_LIMIT_OTP", "20/300"),
    "partner_inbound": _rate("RATE_LIMIT_PARTNER_INBOUND", "120/60"),
}

# The rate limiter's counters. CACHE_URL=redis://… shares them between all web processes (use it
# in production with several workers); without it each process keeps its own in memory.
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHE_SHARED = CACHE_URL.startswith(("redis://", "rediss://", "unix://"))
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_SHARED
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "consentoffice"}
    )
}
# Likewise for the cache's keys (installations sharing one Redis database).
CACHES["default"]["KEY_PREFIX"] = os.environ.get("CACHE_KEY_PREFIX", "")

LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "home"  # the operator home (業務ホーム, /), not the admin index

# Selects written out directly instead of a template per option (consentoffice.core.widgets).
FORM_RENDERER = "consentoffice.core.widgets.DirectRenderer"

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", _("日本語")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where `manage.py collectstatic` puts the static files WhiteNoise serves in production.
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
# In development static files come from the apps through the finders; production serves the
# collected STATIC_ROOT (collectstatic) through WhiteNoise.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
# Files browsers ask for at the site's root (/favicon.ico), served by WhiteNoise as they are.
WHITENOISE_ROOT = BASE_DIR / "public"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# Disclosure packages and bureau files hold personal data: never served as public media.
PRIVATE_STORAGE_ROOT = Path(os.environ.get("PRIVATE_STORAGE_ROOT", VAR_DIR / "private"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # Readable by the application's own user only (disclosure packages, bureau files).
        "OPTIONS": {
            "location": str(PRIVATE_STORAGE_ROOT),
            "base_url": None,
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Sessions and cookies.
# With a shared cache (Redis), each request reads its session from the cache and only a change
# writes the database as well: the session query was 3 % of the web server's work under load. A
# per-process cache must not hold them: a session ended in one process would live on in another.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db" if CACHE_SHARED else "django.contrib.sessions.backends.db"
)
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = False  # consentoffice.accounts.security.SessionRenewalMiddleware renews it
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"


# Content-Security-Policy (django-csp 4): only our own origin; no inline or eval'd script
# anywhere (the Django admin needs none). Inline <style> is allowed: templates and the admin
# use a few style blocks, and CSS cannot run script.
def _admin_inline_style_hashes() -> list[str]:
    """Our pages carry no inline style (static CSS only); Django's admin change list writes one
    small <style> block when a list has no actions. It is allowed by its hash, not by
    'unsafe-inline' (tests/security/test_headers.py renders such a list under this policy)."""
    import base64
    import hashlib
    import re

    import django

    template = Path(django.__file__).parent / "contrib" / "admin" / "templates" / "admin" / "change_list.html"
    blocks = re.findall(r"<style>(.*?)</style>", template.read_text(encoding="utf-8"), re.S)
    return [f"'sha256-{base64.b64encode(hashlib.sha256(b.encode()).digest()).decode()}'" for b in blocks]


CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [CSP_SELF],
        "script-src": [CSP_SELF],
        "style-src": [CSP_SELF, *_admin_inline_style_hashes()],
        "img-src": [CSP_SELF],
        "font-src": [CSP_SELF],
        "connect-src": [CSP_SELF],
        "object-src": [CSP_NONE],
        "base-uri": [CSP_NONE],
        "form-action": [CSP_SELF],
        "frame-ancestors": [CSP_NONE],
    }
}
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = os.environ.get("DJANGO_SECURE_SSL_REDIRECT", "1") == "1"
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    CSRF_TRUSTED_ORIGINS = _env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# Metrics (consentoffice.metrics, /metrics/): the scraper sends ``Authorization: Bearer <token>``.
# Without a token only a caller on this machine, not through a proxy, may scrape, and never in
# production. Each service's processes write their counters under METRICS_DIR (prometheus_client's
# multiprocess mode reads PROMETHEUS_MULTIPROC_DIR, so it is set before the library is imported).
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
METRICS_DIR = Path(os.environ.get("METRICS_DIR", VAR_DIR / "prometheus"))
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(METRICS_DIR))


# Reverse proxies (addresses or networks) whose X-Forwarded-Proto is believed; nobody else's is
# (consentoffice.accounts.security.TrustedProxyMiddleware removes it). Empty: the header is never believed.
def _env_networks(name: str) -> list[str]:
    """A comma-separated list of addresses or networks, each checked."""
    values = _env_list(name)
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ImproperlyConfigured(f"{name}: {value!r} is not an address or network") from None
    return values


TRUSTED_PROXIES = _env_networks("DJANGO_TRUSTED_PROXIES")
if TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Where partner-sync events may go (members.endpoints): production only https:// to public
# addresses; development also allows http:// and local addresses (the demo's stubs) unless unset.
PARTNER_ENDPOINT_ALLOW_HTTP = not PRODUCTION and os.environ.get("PARTNER_ENDPOINT_ALLOW_HTTP", "1") == "1"
PARTNER_ENDPOINT_ALLOW_PRIVATE = (
    not PRODUCTION and os.environ.get("PARTNER_ENDPOINT_ALLOW_PRIVATE", "1") == "1"
)
# Production: the networks of the private lines to affiliates (comma-separated addresses or
# networks, e.g. "10.20.0.0/16"). An endpoint whose every address is public or inside one of them
# is accepted; https:// stays mandatory. Empty: public addresses only.
PARTNER_ENDPOINT_PRIVATE_NETWORKS = _env_networks("PARTNER_ENDPOINT_PRIVATE_NETWORKS")
# A PEM file of the certificate authorities that sign affiliates' certificates (a private line's
# own CA); unset: the public CAs of certifi.
PARTNER_ENDPOINT_CA_BUNDLE = os.environ.get("PARTNER_ENDPOINT_CA_BUNDLE", "")
if PARTNER_ENDPOINT_CA_BUNDLE and not Path(PARTNER_ENDPOINT_CA_BUNDLE).is_file():
    raise ImproperlyConfigured("PARTNER_ENDPOINT_CA_BUNDLE: no such file")

EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "info-center@consentoffice.invalid")

# Celery: JSON only, late acknowledgement, ids as arguments. Without CELERY_BROKER_URL an
# embedded file-system broker lets `make run` work with no Redis.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": 3600}
# A prefix for every key the broker writes in Redis, so that two installations (staging beside
# production, the smoke test beside anything) can share one Redis database without taking each
# other's tasks.
if os.environ.get("CELERY_BROKER_KEY_PREFIX"):
    CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = os.environ["CELERY_BROKER_KEY_PREFIX"]
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery-broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        # Broadcast exchanges (worker control): kombu's default is ``control/`` in whatever
        # directory a command runs from; everything the broker writes stays under var/.
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 10 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 9 * 60
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The worker logs through LOGGING above (JSON in production) instead of Celery's own format.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULER = "consentoffice.celery:PersistentScheduler"
CELERY_BEAT_SCHEDULE = {
    "deliver-partner-sync": {"task": "members.tasks.deliver_partner_sync", "schedule": timedelta(seconds=30)},
    "send-deadline-reminders": {
        "task": "requests.tasks.send_deadline_reminders",
        "schedule": crontab(minute=0, hour="8-19"),
    },
    "apply-retention": {"task": "members.tasks.apply_retention", "schedule": crontab(minute=30, hour=2)},
    "purge-delivered-packages": {
        "task": "requests.tasks.purge_delivered_packages",
        "schedule": crontab(minute=45, hour=2),
    },
    "expire-registrations": {
        "task": "bureaus.tasks.expire_registrations",
        "schedule": crontab(minute=0, hour=3),
    },
    "build-batches": {"task": "bureaus.tasks.build_batches", "schedule": crontab(minute=0, hour=22)},
    "beat-heartbeat": {"task": "consentoffice.tasks.beat_heartbeat", "schedule": timedelta(minutes=1)},
    "seal-audit-trail": {"task": "consentoffice.tasks.seal_audit_trail", "schedule": timedelta(minutes=5)},
    "roll-history-partitions": {
        "task": "consentoffice.tasks.roll_history_partitions",
        "schedule": crontab(minute=15, hour=1),
    },
}

# Every history row carries the actor and a reason (ticket numbers, clause references).
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
SIMPLE_HISTORY_REVERT_DISABLED = True
# Tamper evidence of the audit trail (consentoffice.audit.seal; its key, AUDIT_SEAL_KEY, is above):
# how old a row must be before it is sealed (so a transaction still running cannot commit a row
# behind the seal) and how many rows one run seals.
AUDIT_SEAL_DELAY_SECONDS = int(os.environ.get("AUDIT_SEAL_DELAY_SECONDS", "120"))
AUDIT_SEAL_BATCH_SIZE = int(os.environ.get("AUDIT_SEAL_BATCH_SIZE", "50000"))
# Each seal run appends the chain's head (length and last link) to this file, and logs it: kept
# apart from the database, so deleting the newest rows with their seals no longer verifies clean.
# In production put it where the database owner cannot write (another volume, shipped logs).
AUDIT_ANCHOR_FILE = Path(os.environ.get("AUDIT_ANCHOR_FILE", VAR_DIR / "audit" / "anchors.log"))

# Business settings.
# Days a delivered disclosure package's file is kept; then deleted (its manifest and SHA-256 stay).
DISCLOSURE_PACKAGE_KEEP_DAYS = int(os.environ.get("DISCLOSURE_PACKAGE_KEEP_DAYS", "30"))
# How many members one CSV export from the member list may hold; more needs the privacy officer.
MEMBER_EXPORT_LIMIT = int(os.environ.get("MEMBER_EXPORT_LIMIT", "100"))
DISCLOSURE_FEE_YEN = int(os.environ.get("DISCLOSURE_FEE_YEN", "1000"))
REQUEST_DUE_DAYS = 14  # APPI Art. 39: the person may sue two weeks after the request arrived.
REQUEST_DUE_SOON_DAYS = 3
ADULT_AGE = 18  # Civil Code Art. 4 (since 2022-04-01).
PARTNER_SYNC_MAX_ATTEMPTS = int(os.environ.get("PARTNER_SYNC_MAX_ATTEMPTS", "8"))
PARTNER_SYNC_TIMEOUT_SECONDS = float(os.environ.get("PARTNER_SYNC_TIMEOUT_SECONDS", "5"))
# While a worker delivers an event it holds a lease; a killed worker's events come back after it.
PARTNER_SYNC_LEASE_SECONDS = float(os.environ.get("PARTNER_SYNC_LEASE_SECONDS", "60"))
PARTNER_SYNC_BACKOFF_BASE_SECONDS = float(os.environ.get("PARTNER_SYNC_BACKOFF_BASE_SECONDS", "30"))
PARTNER_SYNC_BACKOFF_MAX_SECONDS = float(os.environ.get("PARTNER_SYNC_BACKOFF_MAX_SECONDS", "3600"))
# Memory for the sorts and hashes of the bureau batch's transaction on PostgreSQL (SET LOCAL; one
# backend, once a night): at the server's default 4 MB each claimed chunk and the provision
# records' grouping of a million rows spill to temporary files (docs/operations.md).
BUREAU_BATCH_WORK_MEM = os.environ.get("BUREAU_BATCH_WORK_MEM", "256MB")
INFORMATION_CENTER = {
    "name": os.environ.get("INFO_CENTER_NAME", "インフォメーションセンター"),
    "company": os.environ.get("INFO_CENTER_COMPANY", "コンセントオフィス・カード株式会社"),
    "postal_code": os.environ.get("INFO_CENTER_POSTAL_CODE", "1000001"),
    "address": os.environ.get("INFO_CENTER_ADDRESS", "東京都千代田区千代田1-1 サンプルビル"),
    "phone": os.environ.get("INFO_CENTER_PHONE", "0300000000"),
}

LOG_LEVEL = os.environ.get("DJANGO_LOG_LEVEL", "INFO")
# json: one JSON object per line (production's default, docs/operations.md, Logs); plain: one
# readable line (development's default).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json" if PRODUCTION else "plain")
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured("LOG_FORMAT must be 'json' or 'plain'.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "consentoffice.logs.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": True,
            "json_ensure_ascii": False,
        },
    },
    "filters": {
        "plain_forbidden": {"()": "consentoffice.core.log_filters.PlainForbidden"},
        "route_not_path": {"()": "consentoffice.logs.RouteNotPath"},
        "context": {"()": "consentoffice.logs.ContextFilter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["context"]},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # A 403 is one warning line without a traceback (consentoffice.core.log_filters); other
        # 4xx/5xx lines name the URL pattern, not the path (consentoffice.logs.RouteNotPath).
        "django.request": {"filters": ["route_not_path", "plain_forbidden"]},
        "django.security": {"filters": ["route_not_path"]},
        # runserver's access line holds the raw path and query string; the request line replaces it.
        "django.server": {"level": "WARNING"},
        # Celery's own "Task … succeeded" lines repeat the task line (consentoffice.logs) with the
        # task's return value; failures (ERROR, with the traceback) stay.
        "celery.app.trace": {"level": "WARNING"},
        # At DEBUG the template engine logs each failed variable lookup with the whole context
        # (members' names and addresses on a page): never below INFO, whatever DJANGO_LOG_LEVEL says.
        "django.template": {"level": "INFO"},
        # Every attempt is a row in axes' tables already; the log keeps only lockouts (WARNING).
        "axes": {"level": "WARNING"},
    },
}
