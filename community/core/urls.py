"""Absolute links printed where the Host header must not decide them (QR posters).

PUBLIC_BASE_URL (e.g. https://gongzhi.example.cn) is the address residents reach
the app at. Without it, debug and test runs use the request's host; a production
start without it prints no QR code (the poster says what to configure), so a
forged Host header can never end up on a printed poster.
"""

from __future__ import annotations

from flask import current_app, request


def public_base_url() -> str | None:
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/")
    if current_app.debug or current_app.testing:
        return request.host_url.rstrip("/")
    return None


def public_url(path: str) -> str | None:
    """PUBLIC_BASE_URL + path (a path from url_for, starting with "/"), or None when
    no public address is configured."""
    base = public_base_url()
    return f"{base}{path}" if base else None
