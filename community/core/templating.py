"""Template globals and filters with no feature knowledge: masking, the navigation
bar (entries registered by the packages, see core.nav), events, the language."""

from __future__ import annotations

from flask import Flask, request
from flask_babel import get_locale
from flask_login import current_user

from community.core import events
from community.core.crypto import mask_id_number, mask_phone
from community.core.nav import nav_items


def locale_code() -> str:
    """Our language code for the active locale (Babel parses zh_CN as zh_Hans_CN)."""
    locale = get_locale()
    return "zh_CN" if locale is not None and locale.language == "zh" else "en"


def init_templating(app: Flask) -> None:
    app.jinja_env.filters["mask_phone"] = mask_phone
    app.jinja_env.filters["mask_id"] = mask_id_number
    app.jinja_env.globals["events"] = events.as_dict()

    @app.context_processor
    def _globals():
        return {
            "nav_items": nav_items(current_user),
            "current_locale": locale_code(),
            "request_path": request.full_path.rstrip("?"),
        }
