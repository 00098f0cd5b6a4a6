"""Logs an operator can use: one logging setup per process, a request id on every
record of a request, and one line per request.

`configure_logging(config)` is the one setup (`logging.config.dictConfig`): create_app
calls it, and so may anything else running the app's code in a process of its own
(the worker). It acts once per process, whatever number of apps are made; the first
configuration wins. Settings (community.config): `LOG_LEVEL` (the `community`
loggers; the root stays at WARNING, so libraries speak only of problems),
`LOG_FORMAT` (`text`, one line each; `json`, one object each), `LOG_REQUESTS` (the
request line; gunicorn.conf.py turns it off in a worker when gunicorn writes its own
access log, so no request is logged twice).

What a line may carry: time, level, logger, request id, message; the request line
adds method, route rule, status, duration and the user's id. Never a name, ID number,
phone, password, token or cookie: routes are logged by their rule
(`/residents/<int:residence_id>`), never by the path and its query string (`?q=`
may hold an ID number), and the formatters blank out anything shaped like an ID
number or a mobile number that an exception message still carries.

Under TESTING no handler is installed: the test runner's own handlers (pytest's
caplog) hear every record. (A process that migrates, `flask db upgrade` or the test
session, also gets the console handler of migrations/env.py's fileConfig.)
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
import secrets
import sys
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, current_app, g, has_request_context, request
from sqlalchemy import inspect as sa_inspect

REQUEST_ID_HEADER = "X-Request-ID"
# An id taken from the proxy (or the client): short and plain, so it can neither
# forge a log line nor carry much; anything else is replaced by one of ours.
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
FORMATS = ("text", "json")

request_log = logging.getLogger("community.request")

_configured = False


# --- the setup -------------------------------------------------------------------


def configure_logging(app_or_config: Flask | Mapping[str, Any]) -> None:
    """Configure logging for this process from an app's config (or any mapping with
    the LOG_* settings); later calls do nothing. Exits with one line when a setting
    is not understood."""
    global _configured
    if _configured:
        return
    config = app_or_config.config if isinstance(app_or_config, Flask) else app_or_config
    logging.config.dictConfig(logging_config(config))
    _install_request_id_factory()
    _configured = True


def logging_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The dictConfig of `config`'s settings."""
    level = str(config.get("LOG_LEVEL") or "INFO").upper()
    if level not in LEVELS:
        sys.exit(f"LOG_LEVEL={level!r} is not one of {', '.join(LEVELS)}.")
    fmt = str(config.get("LOG_FORMAT") or "text").lower()
    if fmt not in FORMATS:
        sys.exit(f"LOG_FORMAT={fmt!r} is not one of {', '.join(FORMATS)}.")
    handlers: dict[str, Any] = {}
    if not config.get("TESTING"):
        handlers["stderr"] = {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": fmt,
        }
    setup: dict[str, Any] = {
        "version": 1,
        # gunicorn's loggers (and any library's) exist already: keep them working.
        "disable_existing_loggers": False,
        "formatters": {
            "text": {"()": TextFormatter},
            "json": {"()": JsonFormatter},
        },
        "filters": {"dev_server": {"()": DevServerFilter}},
        "handlers": handlers,
        "loggers": {
            "community": {"level": level},
            "werkzeug": {"filters": ["dev_server"]},
        },
    }
    if handlers:  # under TESTING the root keeps the test runner's handlers
        setup["root"] = {"level": "WARNING", "handlers": list(handlers)}
    return setup


def _install_request_id_factory() -> None:
    """Every record made during a request carries `request_id` ("-" outside one).

    A record factory rather than a handler's filter: every handler then sees the id,
    a test's caplog, gunicorn's and one added later alike."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "adds_request_id", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return record

    factory.adds_request_id = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


# --- formats ---------------------------------------------------------------------

# Defence in depth for what the app does not choose to log (an exception's message,
# a database's error detail): an 18-character ID number or an 11-digit mainland
# mobile number standing alone. A request id of ours (12 hex characters) never matches.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    return _MOBILE.sub(REDACTED, _ID_NUMBER.sub(REDACTED, text))


class _UtcTime:
    converter = time.gmtime
    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03dZ"


class TextFormatter(_UtcTime, logging.Formatter):
    """`2026-12-07T18:41:41.123Z INFO community.request [a1b2c3d4e5f6] GET /sites/ 200 12ms
    user=5`, a traceback on the lines below."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
            defaults={"request_id": "-"},
        )

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


# The request line's fields, as the JSON format gives them.
REQUEST_FIELDS = ("method", "route", "status", "duration_ms", "user_id")


class JsonFormatter(_UtcTime, logging.Formatter):
    """One JSON object a line: time, level, logger, request_id, message, the request
    line's fields when it is one, and `traceback` with an error."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        for field in REQUEST_FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return redact(json.dumps(entry, ensure_ascii=False, default=str))


class DevServerFilter(logging.Filter):
    """The development server (`flask run`) logs each request with its raw path and
    query string: drop those lines (the app writes its own), and cut the query string
    out of werkzeug's other messages (a malformed request's line)."""

    _REQUEST_LINE = re.compile(r'\] "(?:\x1b\[[0-9;]*m)?[A-Z]+ ')  # maybe coloured
    _QUERY = re.compile(r"\?[^\s\"']*")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._REQUEST_LINE.search(message):
            return False
        if "?" in message:
            record.msg, record.args = self._QUERY.sub("?…", message), None
        return True


# --- the request id and the request line ----------------------------------------


def request_id() -> str:
    """The current request's id (made now if the request has none yet)."""
    if "request_id" not in g:
        g.request_id = _incoming_id() or new_request_id()
    return g.request_id


def new_request_id() -> str:
    return secrets.token_hex(6)


def _incoming_id() -> str | None:
    value = request.headers.get(REQUEST_ID_HEADER, "")
    return value if _SANE_ID.fullmatch(value) else None


def route() -> str:
    """The matched route's rule (`/residents/<int:residence_id>`), "-" when none
    matched: never the path itself, which may hold anything a client typed."""
    rule = request.url_rule
    return rule.rule if rule is not None else "-"


def init_logs(app: Flask) -> None:
    """Give each request its id (first of the before_request hooks) and, on the way
    out, the `X-Request-ID` header and the request line."""
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)
    app.after_request(_finish)


def _begin() -> None:
    # Always anew: a test holding an app context shares `g` between its requests.
    g.request_id = _incoming_id() or new_request_id()
    g.request_started = time.perf_counter()


def _finish(response: Response) -> Response:
    response.headers[REQUEST_ID_HEADER] = request_id()
    if current_app.config.get("LOG_REQUESTS", True):
        started = g.get("request_started")
        duration = round((time.perf_counter() - started) * 1000) if started else 0
        method = request.method if request.method in _METHODS else "-"
        fields = {
            "method": method,
            "route": route(),
            "status": response.status_code,
            "duration_ms": duration,
            "user_id": _user_id(),
        }
        request_log.info(
            "%s %s %s %dms user=%s",
            method,
            fields["route"],
            response.status_code,
            duration,
            fields["user_id"] or "-",
            extra=fields,
        )
    return response


def _user_id() -> int | None:
    """The id of the user this request already loaded, read without SQL (the session
    may have been rolled back, the database may be what failed); None for a visitor."""
    user = g.get("_login_user")  # Flask-Login's per-request user
    state = sa_inspect(user, raiseerr=False) if user is not None else None
    if state is None or state.identity is None:
        return None
    return state.identity[0]
