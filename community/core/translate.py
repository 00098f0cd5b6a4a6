"""Translation lookups cached per request and locale: `translate` for Python that
renders markup (badges, chips), the gettext callables of the templates, and the
same cache under Flask-Babel's lazy strings. Imports no other core module, so
templating and badges both build on it."""

from __future__ import annotations

from flask import g, has_app_context
from flask_babel import Domain, get_translations


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


def cache_domain_lookups() -> None:
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


def gettext_callables() -> dict:
    """The template's gettext family (Jinja's install_gettext_callables), cached."""
    return {
        "gettext": lambda s: _translations().ugettext(s),
        "ngettext": lambda s, p, n: _translations().ungettext(s, p, n),
        "pgettext": lambda c, s: _translations().upgettext(c, s),
        "npgettext": lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    }
