"""Template globals and filters with no feature knowledge: masking, the navigation
bar (entries registered by the packages, see core.nav), events, the language."""

from __future__ import annotations

from flask import Flask, g, has_app_context, request
from flask_babel import Domain, get_locale, get_translations
from flask_login import current_user

from community.core import badges, events
from community.core.crypto import mask_id_number, mask_phone
from community.core.nav import badge_text, nav_badges, nav_items


def locale_code() -> str:
    """Our language code for the active locale (Babel parses zh_CN as zh_Hans_CN)."""
    locale = get_locale()
    return "zh_CN" if locale is not None and locale.language == "zh" else "en"


def _translations():
    """The request's translations, looked up once per locale instead of on every
    `_()` of a template (Flask-Babel's own lookup costs about 12 µs: a page with a
    hundred strings spent more than a millisecond on it). Kept on Flask-Babel's
    per-request namespace next to the locale it belongs to, so `refresh()` and
    `force_locale()` (which replace that locale object) are honoured."""
    ns = g.get("_flask_babel")
    if ns is not None:
        cached = getattr(ns, "community_translations", None)
        if cached is not None and cached[0] is getattr(ns, "babel_locale", None):
            return cached[1]
    translations = get_translations()
    ns = g.get("_flask_babel")
    if ns is not None:
        ns.community_translations = (getattr(ns, "babel_locale", None), translations)
    return translations


def _cache_domain_lookups() -> None:
    """Python's `_()` and lazy strings (form labels, navigation) go through
    Flask-Babel's Domain.get_translations, which looks the locale and catalogue up on
    every call (about 70 times per list page). Serve those from the same per-locale
    cache as the templates; a miss (first call, or after refresh/force_locale)
    asks Flask-Babel as before."""
    original = Domain.get_translations
    if getattr(original, "community_cached", False):
        return

    def get_translations(self):
        ns = g.get("_flask_babel") if has_app_context() else None
        if ns is not None:
            cached = getattr(ns, "community_translations", None)
            if cached is not None and cached[0] is getattr(ns, "babel_locale", None):
                return cached[1]
        translations = original(self)
        ns = g.get("_flask_babel") if has_app_context() else None
        if ns is not None:
            ns.community_translations = (getattr(ns, "babel_locale", None), translations)
        return translations

    get_translations.community_cached = True
    Domain.get_translations = get_translations


def translate(text: str, **variables) -> str:
    """gettext with the cached per-request lookup (for Python that renders markup)."""
    result = _translations().ugettext(text)
    return result % variables if variables else result


def init_templating(app: Flask) -> None:
    _cache_domain_lookups()
    # Replaces the callables Flask-Babel installed (same behaviour, cached lookup).
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.filters["mask_phone"] = mask_phone
    app.jinja_env.filters["mask_id"] = mask_id_number
    app.jinja_env.filters["badge_count"] = badge_text
    app.jinja_env.globals.update(stars=badges.stars, chip=badges.chip)
    app.jinja_env.globals["events"] = events.as_dict()

    @app.context_processor
    def _globals():
        user = current_user._get_current_object()
        return {
            "nav_items": nav_items(user),
            # Called by base.html only: fragments never count.
            "nav_badges": lambda: nav_badges(user),
            "current_locale": locale_code(),
            "request_path": request.full_path.rstrip("?"),
        }
