"""Security headers on every response, and no caching of pages behind login."""

from __future__ import annotations

from flask import Flask, Response, request, session

CSP = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'"
)


class SecureCookiesOverHttps:
    """WSGI middleware: every cookie is Secure when the request came over HTTPS
    (directly, or through a trusted proxy when PROXY_FIX is set), whatever the
    config says. Middleware, because the session and remember cookies are set
    after every after_request hook has run."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("wsgi.url_scheme") != "https":
            return self.wsgi_app(environ, start_response)

        def secure_start_response(status, headers, exc_info=None):
            fixed = []
            for name, value in headers:
                if name.lower() == "set-cookie" and "; secure" not in value.lower():
                    value += "; Secure"
                fixed.append((name, value))
            return start_response(status, fixed, exc_info)

        return self.wsgi_app(environ, secure_start_response)


def init_security(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        h = response.headers
        h.setdefault("Content-Security-Policy", CSP)
        h["X-Content-Type-Options"] = "nosniff"
        h["Referrer-Policy"] = "same-origin"
        h.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:
            h["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        response.vary.add("HX-Request")
        # Anything answered to a session that carries a login is kept out of caches.
        # The session, not current_user: this runs for every response (static files,
        # /healthz), and loading the user would cost a query each time.
        if request.endpoint != "static" and "_user_id" in session:
            h["Cache-Control"] = "no-store"
        return response
