"""Settings read from the environment, with safe defaults."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
BASE_DIR = PACKAGE_DIR.parent
# A wheel carries templates/, static/ and migrations/ inside the package (setup.py
# copies them there); a checkout keeps them at its root, beside the package.
INSTALLED = (PACKAGE_DIR / "templates").is_dir()


def site_dir(name: str) -> Path:
    """templates, static or migrations: inside the installed package, else the
    checkout's own."""
    return (PACKAGE_DIR if INSTALLED else BASE_DIR) / name


def _instance_dir() -> Path:
    """COMMUNITY_INSTANCE_DIR, else instance/ in the checkout, else (installed) the
    place Flask gives an installed package's instance folder: <prefix>/var/community-instance,
    inside the virtualenv."""
    chosen = os.environ.get("COMMUNITY_INSTANCE_DIR", "").strip()
    if chosen:
        return Path(chosen).resolve()
    if INSTALLED:
        return Path(sys.prefix) / "var" / "community-instance"
    return BASE_DIR / "instance"


INSTANCE_DIR = _instance_dir()


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be an integer, got {value!r}") from exc


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = (os.environ.get(name) or "").strip().lower() or default
    if value not in choices:
        raise RuntimeError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _sms_templates() -> dict[str, str]:
    """The SMS template code of each message kind: the SMS_TEMPLATES JSON object
    ({"hazard-assigned": "SMS_123456789", ...}), then SMS_TEMPLATE_<KIND> variables
    (SMS_TEMPLATE_HAZARD_ASSIGNED=SMS_123456789), which win. Keys as the kinds are
    spelled (lower case, hyphens)."""
    templates: dict[str, str] = {}
    raw = (os.environ.get("SMS_TEMPLATES") or "").strip()
    if raw:
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise RuntimeError("SMS_TEMPLATES must be a JSON object of kind: code") from exc
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise RuntimeError("SMS_TEMPLATES must be a JSON object of kind: code")
        templates.update({str(k).strip().lower().replace("_", "-"): v for k, v in data.items()})
    for name, value in os.environ.items():
        if name.startswith("SMS_TEMPLATE_") and value.strip():
            kind = name.removeprefix("SMS_TEMPLATE_").lower().replace("_", "-")
            templates[kind] = value.strip()
    return templates


class Config:
    DEBUG = _bool("FLASK_DEBUG")
    TESTING = False
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'community.db'}"
    )
    # hide_parameters: SQL errors in the log never carry the values (personal data).
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True, "hide_parameters": True}
    # SQLite only: seconds a writer waits for another writer's lock before the
    # request gives up with 503 and Retry-After.
    SQLITE_BUSY_TIMEOUT = float(os.environ.get("SQLITE_BUSY_TIMEOUT", "5"))
    # 32 random bytes, url-safe base64; required to read or write personal data.
    COMMUNITY_DATA_KEY = os.environ.get("COMMUNITY_DATA_KEY")
    REDIS_URL = os.environ.get("REDIS_URL")
    REPORT_DEADLINE_DAYS = _int("REPORT_DEADLINE_DAYS", 3)
    # The compliance ledger: points per timely / late residence report, and the late
    # reports in a month from which the compliance page proposes a yellow card.
    POINTS_TIMELY = _int("POINTS_TIMELY", 1)
    POINTS_LATE = _int("POINTS_LATE", -2)
    COMPLIANCE_YELLOW_CARD_LATE = _int("COMPLIANCE_YELLOW_CARD_LATE", 5)
    DUTY_CANCEL_HOURS = _int("DUTY_CANCEL_HOURS", 24)
    # Mediation (金牌调解): a case is accepted within MEDIATION_ACCEPT_DAYS of its
    # opening and concluded within MEDIATION_CONCLUDE_DAYS of its acceptance (local
    # days); an agreement's follow-up visit is due MEDIATION_FOLLOWUP_DAYS after it.
    MEDIATION_ACCEPT_DAYS = _int("MEDIATION_ACCEPT_DAYS", 3)
    MEDIATION_CONCLUDE_DAYS = _int("MEDIATION_CONCLUDE_DAYS", 30)
    MEDIATION_FOLLOWUP_DAYS = _int("MEDIATION_FOLLOWUP_DAYS", 30)
    # Days after a mediation case is closed when `flask purge-expired` erases its
    # parties' names, phones and documents (the case and its figures stay). Three
    # years: the general limitation period of civil claims (Civil Code art. 188),
    # within which a party may go to court over the agreement or the mediation.
    MEDIATION_PARTY_RETENTION_DAYS = _int("MEDIATION_PARTY_RETENTION_DAYS", 1095)
    # The outbox (notifications.outbox): NOTIFY_SENDER, a dotted path to fn(delivery),
    # replaces the SMS provider's sender when set.
    NOTIFY_SENDER = os.environ.get("NOTIFY_SENDER") or None
    # SMS (notifications.outbox.load_sender): `log` (the default) only logs ids and
    # lengths, no personal data; `aliyun` sends each message kind's registered
    # template (SMS_TEMPLATE_<KIND> / SMS_TEMPLATES) with the kind's params through
    # Aliyun SMS (notifications.aliyun), signed with this AccessKey pair, under the
    # registered signature name SMS_SIGN_NAME. SMS_ENDPOINT: tests point it elsewhere.
    SMS_PROVIDER = os.environ.get("SMS_PROVIDER", "log")
    SMS_ACCESS_KEY_ID = os.environ.get("SMS_ACCESS_KEY_ID")
    SMS_ACCESS_KEY_SECRET = os.environ.get("SMS_ACCESS_KEY_SECRET")
    SMS_SIGN_NAME = os.environ.get("SMS_SIGN_NAME")
    SMS_TEMPLATES = _sms_templates()
    SMS_ENDPOINT = os.environ.get("SMS_ENDPOINT", "https://dysmsapi.aliyuncs.com/")
    SMS_REGION = os.environ.get("SMS_REGION", "cn-hangzhou")
    SMS_TIMEOUT = _int("SMS_TIMEOUT", 10)
    # Hour (UTC) from which the day's digests go out; 0 is 08:00 China time.
    NOTIFY_DIGEST_HOUR = _int("NOTIFY_DIGEST_HOUR", 0)
    OUTBOX_MAX_ATTEMPTS = _int("OUTBOX_MAX_ATTEMPTS", 8)
    # Duties (乐巡): claims open this many days before the start; a volunteer holds at
    # most this many duties a day; 3 no-shows within 30 days bar claiming this long.
    DUTY_CLAIM_OPENS_DAYS = _int("DUTY_CLAIM_OPENS_DAYS", 7)
    DUTY_DAILY_CAP = _int("DUTY_DAILY_CAP", 2)
    DUTY_NO_SHOW_LIMIT = _int("DUTY_NO_SHOW_LIMIT", 3)
    DUTY_NO_SHOW_WINDOW_DAYS = _int("DUTY_NO_SHOW_WINDOW_DAYS", 30)
    DUTY_NO_SHOW_BAR_DAYS = _int("DUTY_NO_SHOW_BAR_DAYS", 14)
    # Check-in opens this many minutes before a duty starts.
    DUTY_CHECK_IN_MINUTES = _int("DUTY_CHECK_IN_MINUTES", 15)
    # Positions of the routes walked on duty (personal data) are deleted this many
    # days after they arrived (flask purge-expired, the worker's purge job).
    TRACK_RETENTION_DAYS = _int("TRACK_RETENTION_DAYS", 30)
    # The free-text names attendees gave when signing in to an outreach event are
    # erased this many days after the event ended (flask purge-expired, the
    # worker's purge job); the sign-ins stay counted.
    OUTREACH_NAME_RETENTION_DAYS = _int("OUTREACH_NAME_RETENTION_DAYS", 90)
    # Self-declarations (/declare/<token>, public) per client address.
    DECLARE_RATE_LIMIT = os.environ.get("DECLARE_RATE_LIMIT", "10/hour;30/day")
    # Status look-ups by reference number (/declare/status, public) per client address.
    DECLARE_STATUS_RATE_LIMIT = os.environ.get("DECLARE_STATUS_RATE_LIMIT", "60/hour")
    # Outreach sign-in and quiz posts per address: attendees of one event often share
    # one (a factory's Wi-Fi, a carrier's NAT), so this stops floods, not a full hall.
    OUTREACH_SIGNIN_RATE_LIMIT = os.environ.get("OUTREACH_SIGNIN_RATE_LIMIT", "120/hour;600/day")

    # Logs (core/logs.py): the level of the app's loggers, `text` or `json` lines on
    # stderr, and the app's one line per request (gunicorn.conf.py turns it off in a
    # worker when gunicorn writes its own access log).
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
    LOG_REQUESTS = _bool("LOG_REQUESTS", True)

    SESSION_IDLE_MINUTES = _int("SESSION_IDLE_MINUTES", 30)
    SESSION_MAX_HOURS = _int("SESSION_MAX_HOURS", 12)
    # Failed logins per minute from one address for one username, and from one
    # address across all usernames; counted in Redis (REDIS_URL) or the database,
    # so every worker sees them (accounts.auth.LoginThrottle).
    LOGIN_FAILURES_PER_MINUTE = _int("LOGIN_FAILURES_PER_MINUTE", 10)
    LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE = _int("LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE", 30)
    LOGIN_THROTTLE_REDIS_PREFIX = os.environ.get(
        "LOGIN_THROTTLE_REDIS_PREFIX", "community:login-failures:"
    )
    # Days a browser that logged in stays known to the login throttle (its device
    # cookie): it passes the per-address limit for that account; 0 turns it off.
    LOGIN_DEVICE_COOKIE_DAYS = _int("LOGIN_DEVICE_COOKIE_DAYS", 180)

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Secure cookies are switched on per request when served over HTTPS
    # (see core.security); PREFERRED_URL_SCHEME follows the proxy.
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE")
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE")
    PERMANENT_SESSION_LIFETIME = timedelta(hours=SESSION_MAX_HOURS)
    # The cookie is written when the session changes (login, last_seen every 30 s),
    # not re-signed on every request: the absolute lifetime counts from login.
    SESSION_REFRESH_EACH_REQUEST = False
    # The address residents reach the app at, printed in QR codes (core.urls). Without
    # it only debug and test runs print codes (from the request's host).
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL")
    # Host names the app answers to (comma-separated); others get 400. Unset: any.
    TRUSTED_HOSTS = [
        h.strip() for h in os.environ.get("TRUSTED_HOSTS", "").split(",") if h.strip()
    ] or None
    # Number of proxies in front of the app setting X-Forwarded-* (0 = none).
    PROXY_FIX = _int("PROXY_FIX", 0)

    # Resident spreadsheets (import-residents, /residents/import); the request limit
    # leaves room for the form around the largest file.
    IMPORT_MAX_BYTES = _int("IMPORT_MAX_BYTES", 20 * 1024 * 1024)
    IMPORT_DIR = os.environ.get("IMPORT_DIR", str(INSTANCE_DIR / "imports"))
    # An import reads at most this many rows below its header; an xlsx may unpack to at
    # most this much (0: 8 × IMPORT_MAX_BYTES), checked from its zip directory before it
    # is read; a step's claim older than this many minutes is taken over (its runner is
    # gone).
    IMPORT_MAX_ROWS = _int("IMPORT_MAX_ROWS", 100_000)
    IMPORT_MAX_INFLATED_BYTES = _int("IMPORT_MAX_INFLATED_BYTES", 0)
    IMPORT_STEP_STALE_MINUTES = _int("IMPORT_STEP_STALE_MINUTES", 5)
    # Hours an import's files (upload, rows, refused rows) are kept: `flask
    # purge-expired` deletes older ones.
    IMPORT_RETENTION_HOURS = _int("IMPORT_RETENTION_HOURS", 24)
    # The worker (`flask worker`, core/jobs.py): seconds an idle worker waits before it
    # looks for work again; rows an import step writes in one transaction (with the
    # job's cursor); JOB_PERIODS="send-outbox=60,purge-expired=3600" changes periodic
    # jobs' periods (seconds; the others keep their own).
    WORKER_POLL_SECONDS = _int("WORKER_POLL_SECONDS", 2)
    IMPORT_CHUNK_ROWS = _int("IMPORT_CHUNK_ROWS", 2000)
    JOB_PERIODS = {
        kind.strip(): int(seconds)
        for kind, _, seconds in (
            p.partition("=") for p in os.environ.get("JOB_PERIODS", "").split(",") if "=" in p
        )
    }
    # Days after a move-out when `flask purge-expired` erases the person's data.
    RESIDENT_RETENTION_DAYS = _int("RESIDENT_RETENTION_DAYS", 365)
    MAX_CONTENT_LENGTH = max(16 * 1024 * 1024, IMPORT_MAX_BYTES + 1024 * 1024)
    UPLOAD_MAX_BYTES = _int("UPLOAD_MAX_BYTES", 5 * 1024 * 1024)
    # The photo's other limits: 0 keeps core/uploads.py's default (named there).
    UPLOAD_MAX_DECODED_BYTES = _int("UPLOAD_MAX_DECODED_BYTES", 0)
    UPLOAD_MAX_ASPECT_RATIO = _int("UPLOAD_MAX_ASPECT_RATIO", 0)
    UPLOAD_MAX_BIT_DEPTH = _int("UPLOAD_MAX_BIT_DEPTH", 0)
    UPLOAD_MAX_SIDE = _int("UPLOAD_MAX_SIDE", 0)
    UPLOAD_MAX_SIDE_PNG = _int("UPLOAD_MAX_SIDE_PNG", 0)
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR", str(INSTANCE_DIR / "uploads"))
    # Where photos and import files are kept (core.storage): "local", the directories
    # UPLOAD_DIR and IMPORT_DIR of this machine; or "database", tables of the database
    # every app server and worker shares (nothing more to run).
    STORAGE_BACKEND = _choice("STORAGE_BACKEND", ("local", "database"), "local")

    WTF_CSRF_TIME_LIMIT = None  # the session lifetime bounds the token
    BABEL_DEFAULT_LOCALE = "zh_CN"
    # COMMUNITY_TIMEZONE: every "today" and month boundary is the local date there;
    # timestamps stay UTC in the database and are shown in it (core.timeutil).
    BABEL_DEFAULT_TIMEZONE = os.environ.get("COMMUNITY_TIMEZONE") or "Asia/Shanghai"
    LANGUAGES = ("zh_CN", "en")
    # Compression and static caching: community/core/compress.py decides which
    # responses Flask-Compress may touch (never one carrying the CSRF token).
    COMPRESS_REGISTER = False
    COMPRESS_MIMETYPES = [
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "image/svg+xml",
    ]
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_STREAMS = False  # static files are read whole first (core.compress)
    COMPRESS_BR_LEVEL = 6  # pico.min.css: 1 ms, smaller than gzip -9 (level 4 is not)
    COMPRESS_MIN_SIZE = 500
    # Versioned static URLs (?v=<content hash>) are cached this long, immutable.
    STATIC_MAX_AGE = _int("STATIC_MAX_AGE", 365 * 24 * 3600)
    RATELIMIT_HEADERS_ENABLED = True
    # Several gunicorn workers or hosts must share counters: Redis when configured.
    RATELIMIT_STORAGE_URI = os.environ.get("REDIS_URL") or "memory://"


def shared_storage_warning(workers: int, config) -> str | None:
    """The start-up warning for `workers` processes serving one app with `config`
    (a mapping), or None when they share what they must share.

    Login failures are always shared (database or Redis). Flask-Limiter's limits
    are not without Redis: with memory:// every worker counts alone, so a limit
    of N lets N x workers through.
    """
    if workers <= 1:
        return None
    storage = config.get("RATELIMIT_STORAGE_URI") or "memory://"
    if config.get("REDIS_URL") or not storage.startswith("memory://"):
        return None
    return (
        f"{workers} workers without REDIS_URL: rate limits kept by Flask-Limiter "
        f"(RATELIMIT_STORAGE_URI={storage}) count per worker; failed logins are "
        "counted in the database. Set REDIS_URL to share every limit."
    )


# Set once the embedded database has been announced: gunicorn's workers inherit it
# from a master that announced it (gunicorn.conf.py's when_ready, or --preload).
ANNOUNCED_ENV = "COMMUNITY_DATABASE_ANNOUNCED"


def embedded_database_notice(config: Mapping) -> str | None:
    """The start-up line of a production app (not debug, not testing) on SQLite: that
    it runs on the embedded database file, and where; None otherwise."""
    uri = config.get("SQLALCHEMY_DATABASE_URI") or ""
    if config.get("TESTING") or config.get("DEBUG") or not uri.startswith("sqlite"):
        return None
    from sqlalchemy.engine import make_url

    database = make_url(uri).database
    where = str(Path(database).resolve()) if database and database != ":memory:" else "memory"
    return (
        f"Using the embedded SQLite database file {where} (DATABASE_URL is not set): "
        "one machine only; set DATABASE_URL to a PostgreSQL database to serve from "
        "several hosts."
        if "DATABASE_URL" not in os.environ
        else f"Using the SQLite database file {where} (DATABASE_URL)."
    )


def announce_database(config: Mapping, logger) -> None:
    """Logs embedded_database_notice once for a server: not again in a process whose
    parent already did (ANNOUNCED_ENV)."""
    message = embedded_database_notice(config)
    if message and os.environ.get(ANNOUNCED_ENV) != "1":
        logger.warning(message)
        os.environ[ANNOUNCED_ENV] = "1"


class TestConfig(Config):
    TESTING = True
    DEBUG = False
    SECRET_KEY = "test-secret-key-not-for-production"  # nosec B105 # tests only
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    COMMUNITY_DATA_KEY = "dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktdGVzdCE="
    REDIS_URL = None
    RATELIMIT_STORAGE_URI = "memory://"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"  # tests freeze local times (frozen_clock)
