"""Login sessions: Flask-Login wiring, session versions, idle and absolute timeouts."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request, session
from flask_babel import lazy_gettext as _l
from flask_login import user_loaded_from_cookie

from community.accounts.models import User
from community.extensions import db, login_manager

_SESSION_KEYS = ("_user_id", "_fresh", "_id", "login_at", "last_seen")


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The id is "<user id>:<session version>"; an older version is a dead session."""
    try:
        raw_id, raw_version = user_id.split(":", 1)
        uid, version = int(raw_id), int(raw_version)
    except (ValueError, AttributeError):
        return None
    user = db.session.get(User, uid)
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def start_session() -> None:
    now = int(time.time())
    session["login_at"] = now
    session["last_seen"] = now
    session.permanent = True


def _on_cookie_login(sender, user=None, **extra) -> None:
    start_session()


def safe_next(target: str | None) -> str | None:
    """Only a local path is accepted as a place to go after login."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return None
    return target


def init_auth(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    user_loaded_from_cookie.connect(_on_cookie_login, app)

    @app.before_request
    def _expire_sessions() -> None:
        if "_user_id" not in session:
            return
        now = int(time.time())
        idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
        absolute = current_app.config["SESSION_MAX_HOURS"] * 3600
        login_at = session.get("login_at", now)
        last_seen = session.get("last_seen", now)
        if now - last_seen > idle or now - login_at > absolute:
            for key in _SESSION_KEYS:
                session.pop(key, None)
            g.session_expired = True
            return
        if now - last_seen >= 30 or request.method == "POST":
            session["last_seen"] = now
