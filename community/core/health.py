"""`GET /healthz` answered in front of Flask.

A load balancer polls it every few seconds and needs one fact: the process serves
and reaches its database. It has no session, user, locale, rate limit or template
to load, so a WSGI middleware answers it before Flask builds a request. It is the
only /healthz: Flask has no route for it (every request, a test client's too,
passes through app.wsgi_app and so through this).
"""

from __future__ import annotations

import json
import logging

from sqlalchemy import text

from community.core.security import CSP

log = logging.getLogger(__name__)

_HEADERS = [
    ("Content-Type", "application/json"),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("Content-Security-Policy", CSP),
]


def ping(engine) -> None:
    """Raises when the database does not answer `SELECT 1`."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def health_body(ok: bool) -> bytes:
    state = "ok" if ok else "error"
    return json.dumps({"database": state, "status": state}).encode() + b"\n"


class HealthCheck:
    def __init__(self, wsgi_app, engine_of):
        self.wsgi_app = wsgi_app
        self._engine_of = engine_of  # called once, lazily: the engine is made on first use
        self._engine = None

    def __call__(self, environ, start_response):
        method = environ.get("REQUEST_METHOD")
        if environ.get("PATH_INFO") != "/healthz" or method not in ("GET", "HEAD"):
            return self.wsgi_app(environ, start_response)
        try:
            if self._engine is None:
                self._engine = self._engine_of()
            ping(self._engine)
            ok = True
        except Exception:  # noqa: BLE001 - any failure means the database is unreachable
            log.warning("health check: the database does not answer", exc_info=True)
            ok = False
        body = health_body(ok)
        headers = [*_HEADERS, ("Content-Length", str(len(body)))]
        start_response("200 OK" if ok else "503 Service Unavailable", headers)
        return [b""] if method == "HEAD" else [body]
