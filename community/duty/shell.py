"""The installable app (issue 22): the web app manifest, the service worker served
from the site root (its scope is the whole site), and the offline page it shows for
what it has not cached. Every answer to a logged-in user names the user by a keyed
hash (X-Community-User, HMAC of SECRET_KEY): the service worker keeps the pages it
caches under that name, serves them to that name only, and forgets them all when
an answer names nobody (logged out) or someone else, and at the logout POST."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from flask import Blueprint, Response, current_app, g, render_template, request, url_for
from flask_babel import gettext as _

shell_bp = Blueprint("duty_shell", __name__)

USER_HEADER = "X-Community-User"
THEME_COLOUR = "#1d6f42"
# Built by `make assets` (scripts/icons.mjs) from static/icons/app.svg.
ICON_SIZES = (192, 512)
# What the worker caches when it installs (their versioned URLs): the app works
# offline with these.
ASSETS = (
    "vendor/htmx.min.js",
    "vendor/pico.min.css",
    "css/app.css",
    "js/app.js",
    "js/queue.js",
    "js/offline.js",
    "icons/app.svg",
)


def user_key() -> str:
    """The logged-in user as the worker knows them ('' for nobody): a keyed hash of
    the user id and session version (a new login after a logout-everywhere is a
    new name)."""
    user = g.get("_login_user")
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    text = f"offline-user:{user.id}:{user.session_version}".encode()
    return hmac.new(secret, text, hashlib.sha256).hexdigest()[:24]


@shell_bp.app_template_global("offline_user")
def _offline_user() -> str:
    return user_key()


@shell_bp.after_app_request
def _name_the_user(response: Response) -> Response:
    if request.endpoint != "static":
        response.headers[USER_HEADER] = user_key()
    return response


def _icons() -> list[dict]:
    folder = Path(current_app.static_folder or "")
    icons = [
        {
            "src": url_for("static", filename=f"vendor/icons/icon-{size}.png"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": "any",
        }
        for size in ICON_SIZES
        if (folder / f"vendor/icons/icon-{size}.png").is_file()
    ]
    icons.append(
        {
            "src": url_for("static", filename="icons/app.svg"),
            "sizes": "any",
            "type": "image/svg+xml",
        }
    )
    return icons


@shell_bp.route("/manifest.webmanifest")
def manifest():
    body = {
        "name": _("共治 Community"),
        "short_name": _("共治"),
        "description": _("Duties, checkpoints and reports of the community's volunteers."),
        "lang": "zh-CN",
        "start_url": url_for("duty.mine"),
        "scope": "/",
        "id": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME_COLOUR,
        "icons": _icons(),
    }
    resp = current_app.json.response(body)
    resp.mimetype = "application/manifest+json"
    resp.headers["Cache-Control"] = "no-cache"
    return resp


def _assets() -> list[str]:
    folder = Path(current_app.static_folder or "")
    return [url_for("static", filename=a) for a in ASSETS if (folder / a).is_file()]


@shell_bp.route("/sw.js")
def service_worker():
    assets = _assets()
    offline = url_for("duty_shell.offline")
    version = hashlib.sha256("\n".join([*assets, offline]).encode()).hexdigest()[:12]
    body = render_template(
        "duty/sw.js",
        assets=assets,
        offline=offline,
        version=version,
        queue_js=url_for("static", filename="js/queue.js"),
        logout=url_for("accounts.logout"),
        user_header=USER_HEADER,
    )
    resp = Response(body, mimetype="text/javascript")
    # From the root, its scope is the whole site; said explicitly for proxies that
    # serve it under a prefix. Never cached: a new deploy is a new worker.
    resp.headers["Service-Worker-Allowed"] = "/"
    resp.headers["Cache-Control"] = "no-cache"
    return resp


@shell_bp.route("/offline")
def offline():
    """What the worker shows without a connection for a page it has not kept: no
    user's data (it is cached once for everybody)."""
    resp = Response(render_template("duty/offline.html"))
    resp.headers["Cache-Control"] = "no-cache"
    return resp
