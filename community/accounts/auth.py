"""Login sessions: Flask-Login wiring, session versions, idle and absolute timeouts,
the throttle on failed logins and the device cookies that let known browsers past
its per-address limit."""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import secrets
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import user_loaded_from_cookie
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import delete, func, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from community.accounts.models import LoginFailure, User
from community.core.writes import first_with_data_token
from community.extensions import db, login_manager

log = logging.getLogger("community")

_SESSION_KEYS = ("_user_id", "_fresh", "_id", "login_at", "last_seen")
# What survives login and logout; everything else in the session (the CSRF
# token above all) is issued anew, so nothing planted before login carries over.
_SURVIVING_KEYS = ("locale",)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The id is "<user id>:<session version>"; an older version is a dead session."""
    try:
        raw_id, raw_version = user_id.split(":", 1)
        uid, version = int(raw_id), int(raw_version)
    except (ValueError, AttributeError):
        return None
    user = _get_user(uid)
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def _get_user(uid: int) -> User | None:
    """db.session.get(User, uid), reading the data token in the same statement
    (core.writes: the navigation of the page is kept under it)."""
    found = db.session.identity_map.get(identity_key(User, uid))
    if found is not None and not inspect(found).expired_attributes:
        return found  # as session.get: no statement for a loaded user
    return first_with_data_token(db.session, select(User).where(User.id == uid))


def fresh_session() -> None:
    """Forget the session's state except the chosen language (before login, at logout)."""
    kept = {key: session[key] for key in _SURVIVING_KEYS if key in session}
    session.clear()
    session.update(kept)
    g.pop("csrf_token", None)  # Flask-WTF caches the token per request


def start_session() -> None:
    now = int(time.time())
    session["login_at"] = now
    session["last_seen"] = now
    session.permanent = True


def _on_cookie_login(sender, user=None, **extra) -> None:
    # A remember cookie logged the user in: the anonymous session's CSRF token goes.
    session.pop("csrf_token", None)
    g.pop("csrf_token", None)
    start_session()


def safe_next(target: str | None) -> str | None:
    """Only a local path is accepted as a place to go after login."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return None
    return target


# Endpoints polled by the page on its own (the notification bell): they end an
# expired session but do not count as activity, or an open tab would never idle out.
PASSIVE_ENDPOINTS: set[str] = set()


def init_auth(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    user_loaded_from_cookie.connect(_on_cookie_login, app)

    @app.before_request
    def _expire_sessions() -> None:
        # Static files neither use nor refresh the session (refreshing it would send a
        # new cookie with every stylesheet); /healthz never reaches Flask (core.health).
        if request.endpoint == "static" or "_user_id" not in session:
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
        if request.endpoint in PASSIVE_ENDPOINTS:
            return
        if now - last_seen >= 30 or request.method == "POST":
            session["last_seen"] = now


# --- failed logins ---------------------------------------------------------
#
# Counted where every worker and host sees them: in Redis when REDIS_URL is set,
# otherwise in the database (table login_failure). Two sliding one-minute limits:
# LOGIN_FAILURES_PER_MINUTE per address and username (one account guessed at),
# LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE per address across usernames (one
# password tried against many accounts). A successful login clears nothing, so
# it cannot reset the count of an address that also knows one valid password.
# A browser holding a device cookie for the account it logs in to (see below) is
# counted apart: its failures under its own key and LOGIN_FAILURES_PER_MINUTE,
# so a password spray from the address it shares (a police station's NAT) does
# not lock it out, and a stolen cookie still guesses no faster than one address.
# The check runs before the password is compared and the failure is written
# after it, so requests in flight at the same moment (at most one per worker)
# can pass the limit by that many.

LOGIN_WINDOW_SECONDS = 60


def username_key(username: str) -> str:
    """The typed username as a keyed hash (HMAC-SHA256, case-insensitive).

    Keyed with SECRET_KEY, which every running app has, rather than with
    COMMUNITY_DATA_KEY, so logging in never needs the personal-data key; a new
    SECRET_KEY merely restarts the one-minute counts.
    """
    secret = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    key = hashlib.sha256(b"login-failure|" + secret).digest()
    normalized = username.strip().lower().encode("utf-8", "replace")
    return hmac.new(key, normalized, hashlib.sha256).hexdigest()


def _retry_after(recent: list[float], limit: int, now: float) -> int | None:
    """Seconds until fewer than `limit` of the `recent` failure times (newest first)
    are inside the window, or None when there are fewer already."""
    if limit <= 0 or len(recent) < limit:
        return None
    return max(1, math.ceil(recent[limit - 1] + LOGIN_WINDOW_SECONDS - now))


class _DatabaseFailures:
    def __init__(self, session: Session):
        self.session = session

    @staticmethod
    def _when(epoch: float) -> datetime:
        return datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)

    @staticmethod
    def _epoch(at: datetime) -> float:
        return at.replace(tzinfo=UTC).timestamp()

    def recent(self, address: str, user: str, now: float, limits: tuple[int, int]):
        since = self._when(now - LOGIN_WINDOW_SECONDS)
        recent = select(LoginFailure.at).where(
            LoginFailure.address == address, LoginFailure.at > since
        )
        pair = self.session.scalars(
            recent.where(LoginFailure.username_hash == user)
            .order_by(LoginFailure.at.desc())
            .limit(max(limits[0], 1))
        )
        by_address = self.session.scalars(
            recent.order_by(LoginFailure.at.desc()).limit(max(limits[1], 1))
        )
        return [self._epoch(t) for t in pair], [self._epoch(t) for t in by_address]

    def add(self, address: str, user: str, now: float) -> None:
        # Rows older than the window count for nothing: each write sweeps them away.
        self.session.execute(
            delete(LoginFailure).where(LoginFailure.at < self._when(now - LOGIN_WINDOW_SECONDS))
        )
        self.session.add(LoginFailure(at=self._when(now), address=address, username_hash=user))
        self.session.flush()


class _RedisFailures:
    """Sorted sets of failure times, one per address+username and one per address."""

    def __init__(self, client, prefix: str):
        self.client = client
        self.prefix = prefix

    def _keys(self, address: str, user: str) -> tuple[str, str]:
        return f"{self.prefix}pair:{address}:{user}", f"{self.prefix}addr:{address}"

    def recent(self, address: str, user: str, now: float, limits: tuple[int, int]):
        pipe = self.client.pipeline()
        for key, limit in zip(self._keys(address, user), limits, strict=True):
            pipe.zremrangebyscore(key, "-inf", now - LOGIN_WINDOW_SECONDS)
            pipe.zrevrange(key, 0, max(limit, 1) - 1, withscores=True)
        _, pair, _, by_address = pipe.execute()
        return [score for _, score in pair], [score for _, score in by_address]

    def add(self, address: str, user: str, now: float) -> None:
        member = f"{now:.6f}:{secrets.token_hex(4)}"
        pipe = self.client.pipeline()
        for key in self._keys(address, user):
            pipe.zremrangebyscore(key, "-inf", now - LOGIN_WINDOW_SECONDS)
            pipe.zadd(key, {member: now})
            pipe.expire(key, LOGIN_WINDOW_SECONDS + 1)
        pipe.execute()


def _redis_client(app: Flask):
    client = app.extensions.get("community_login_redis")
    if client is None:
        import redis

        client = redis.Redis.from_url(app.config["REDIS_URL"], socket_timeout=2)
        app.extensions["community_login_redis"] = client
    return client


class LoginThrottle:
    """The two failed-login limits of this app (see above); `session` is the request's."""

    def __init__(self, session: Session):
        app = current_app._get_current_object()
        self.limits = (
            app.config["LOGIN_FAILURES_PER_MINUTE"],
            app.config["LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE"],
        )
        self.database = _DatabaseFailures(session)
        self.redis = (
            _RedisFailures(_redis_client(app), app.config["LOGIN_THROTTLE_REDIS_PREFIX"])
            if app.config.get("REDIS_URL")
            else None
        )

    def _call(self, method: str, *args):
        if self.redis is not None:
            import redis

            try:
                return getattr(self.redis, method)(*args)
            except redis.RedisError as exc:
                log.warning("login throttle: Redis failed (%s), counting in the database", exc)
        return getattr(self.database, method)(*args)

    def retry_after(self, address: str, username: str, device: str | None = None) -> int | None:
        """Seconds this address (or, with `device` from known_device, this device)
        must wait before trying `username` again, or None. A known device is held to
        its own per-user limit only, not to its address's limits."""
        now = time.time()
        if device is not None:
            by_device, _ = self._call("recent", device, username_key(username), now, self.limits)
            return _retry_after(by_device, self.limits[0], now)
        pair, by_address = self._call(
            "recent", address[:64], username_key(username), now, self.limits
        )
        waits = [
            w
            for w in (
                _retry_after(pair, self.limits[0], now),
                _retry_after(by_address, self.limits[1], now),
            )
            if w
        ]
        return max(waits) if waits else None

    def record_failure(self, address: str, username: str, device: str | None = None) -> None:
        """Count a failure against the address, or against the known device."""
        self._call("add", device or address[:64], username_key(username), time.time())


# --- device cookies (OWASP "Slow Down Online Guessing Attacks with Device Cookies")
#
# A successful login leaves a device cookie in the browser: the account's id and a
# random nonce, signed with SECRET_KEY (itsdangerous, with its own salt) and dated,
# so it cannot be forged or stretched past LOGIN_DEVICE_COOKIE_DAYS. Sent back to
# /login for that same account it replaces the address limits with the device's
# own (see LoginThrottle): after LOGIN_FAILURES_PER_MINUTE failures that device is
# locked out for the window like an address. Each success issues a new nonce.

DEVICE_COOKIE = "community_device"
_DEVICE_SALT = "community.login-device"


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_DEVICE_SALT)


def _device_max_age() -> int:
    return current_app.config["LOGIN_DEVICE_COOKIE_DAYS"] * 24 * 3600


def remember_device(response: Response, user: User) -> Response:
    """Set the device cookie for `user` on the login's response (HttpOnly, SameSite
    Lax, sent to /login only, Secure like the session cookie or on HTTPS)."""
    if _device_max_age() <= 0:
        return response
    value = _device_serializer().dumps({"u": user.id, "n": secrets.token_urlsafe(16)})
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=_device_max_age(),
        path=url_for("accounts.login"),
        secure=bool(current_app.config["SESSION_COOKIE_SECURE"] or request.is_secure),
        httponly=True,
        samesite="Lax",
    )
    return response


def known_device(session: Session, username: str) -> str | None:
    """The throttle key of this browser's device cookie when the cookie is genuine,
    within its lifetime and issued to the account `username` names; None otherwise
    (no cookie, tampered, expired, another account's)."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw or _device_max_age() <= 0:
        return None
    try:
        data = _device_serializer().loads(raw, max_age=_device_max_age())
    except BadData:
        return None
    if not isinstance(data, dict):
        return None
    user_id, nonce = data.get("u"), data.get("n")
    if not isinstance(user_id, int) or not isinstance(nonce, str) or not nonce:
        return None
    named = session.scalar(
        select(User.id).where(func.lower(User.username) == username.strip().lower())
    )
    if named != user_id:
        return None
    # Stored in login_failure.address (64 characters): "device:" and 57 hex digits.
    return "device:" + hashlib.sha256(nonce.encode("utf-8")).hexdigest()[:57]
