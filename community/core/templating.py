"""Template globals and filters with no feature knowledge: masking, the navigation
bar (entries registered by the packages, see core.nav), events, the language, the
status chips (core.badges). Translation lookups live in core.translate."""

from __future__ import annotations

from flask import Flask, g, request, session, url_for
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from community.core import badges, events
from community.core.crypto import mask_id_number, mask_phone
from community.core.nav import badge_text, nav_badges, nav_items
from community.core.translate import cache_domain_lookups, gettext_callables


def locale_code() -> str:
    """Our language code for the active locale (Babel parses zh_CN as zh_Hans_CN)."""
    locale = get_locale()
    return "zh_CN" if locale is not None and locale.language == "zh" else "en"


def static_url_builder(app: Flask):
    """`static_url(filename)`: url_for("static", filename=...) with its version, built
    once per process and script root (base.html links six files on every page; a
    build costs a route lookup and a query string). In debug mode the files change
    while the server runs, so it builds every time."""
    urls: dict[tuple[str, str], str] = {}

    def static_url(filename: str) -> str:
        if app.debug:
            return url_for("static", filename=filename)
        key = (filename, request.script_root)
        url = urls.get(key)
        if url is None:
            url = urls[key] = url_for("static", filename=filename)
        return url

    return static_url


def fixed_url_builder(app: Flask):
    """`fixed_url(endpoint)`: url_for(endpoint) of a route without arguments, built
    once per process and script root (base.html links seven on every page; no
    url_defaults hook adds values to them: only static files get a version)."""
    urls: dict[tuple[str, str], str] = {}

    def fixed_url(endpoint: str) -> str:
        key = (endpoint, request.script_root)
        url = urls.get(key)
        if url is None:
            url = urls[key] = url_for(endpoint)
        return url

    return fixed_url


def csrf_token_builder(app: Flask):
    """`csrf_token()`: Flask-WTF's generate_csrf, with the signed token kept per
    process for the session's raw token. Flask-WTF signs the raw token anew on each
    request (a key derivation and an HMAC) and looks three settings up on every call
    (a page calls it once per form). With WTF_CSRF_TIME_LIMIT unset the signature's
    date is never checked, so one signature serves the session as well as a fresh
    one; a new session (login, logout) has a new raw token and so a new signature.
    Other settings: Flask-WTF's function as is."""
    signed: dict[tuple[str, str], str] = {}

    def csrf_token() -> str:
        found = g.get("csrf_token")
        if found is not None:
            return found
        config = app.config
        raw = session.get("csrf_token")
        if (
            raw is None
            or config.get("WTF_CSRF_TIME_LIMIT") is not None
            or config.get("WTF_CSRF_FIELD_NAME", "csrf_token") != "csrf_token"
        ):
            return generate_csrf()
        key = (str(config.get("WTF_CSRF_SECRET_KEY") or app.secret_key), raw)
        token = signed.get(key)
        if token is None:
            token = generate_csrf()
            if len(signed) >= 10_000:
                signed.clear()
            signed[key] = token
        else:
            g.csrf_token = token  # where Flask-WTF's own forms find it
        return token

    return csrf_token


def init_templating(app: Flask) -> None:
    cache_domain_lookups()
    # Replaces the callables Flask-Babel installed (same behaviour, cached lookup).
    app.jinja_env.install_gettext_callables(**gettext_callables(), newstyle=True)
    app.jinja_env.filters["mask_phone"] = mask_phone
    app.jinja_env.filters["mask_id"] = mask_id_number
    app.jinja_env.filters["badge_count"] = badge_text
    app.jinja_env.globals.update(
        stars=badges.stars, chip=badges.chip, status_chip=badges.status_chip
    )
    app.jinja_env.globals["events"] = events.as_dict()
    app.jinja_env.globals["static_url"] = static_url_builder(app)
    app.jinja_env.globals["fixed_url"] = fixed_url_builder(app)
    # Flask-WTF puts its csrf_token into the globals and, again, into every template's
    # context (a context processor); this one comes after it in both.
    csrf_token = app.jinja_env.globals["csrf_token"] = csrf_token_builder(app)

    @app.context_processor
    def _globals():
        user = current_user._get_current_object()
        return {
            "nav_items": nav_items(user),
            # Called by base.html only: fragments never count.
            "nav_badges": lambda: nav_badges(user),
            "current_locale": locale_code(),
            "request_path": request.full_path.rstrip("?"),
            "csrf_token": csrf_token,
        }
