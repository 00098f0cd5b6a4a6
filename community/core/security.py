"""Security headers on every response, and no caching of pages behind login."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_login import current_user

CSP = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'"
)


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
            # Every cookie is Secure when the request came over HTTPS (directly or
            # through a trusted proxy, see PROXY_FIX), whatever the config says.
            cookies = h.getlist("Set-Cookie")
            if cookies:
                del h["Set-Cookie"]
                for cookie in cookies:
                    if "; secure" not in cookie.lower():
                        cookie += "; Secure"
                    h.add("Set-Cookie", cookie)
        response.vary.add("HX-Request")
        if current_user and current_user.is_authenticated:
            h["Cache-Control"] = "no-store"
        return response
