"""Template globals and filters: masking, navigation per role, language switch."""

from __future__ import annotations

from flask import Flask, current_app, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from community.core.crypto import mask_id_number, mask_phone

# (endpoint, label, roles that see it; empty = every logged-in user). A page
# added for a role also needs its row in tests/test_access.py.
NAV = (
    ("accounts.home", _l("Home"), ()),
    ("places.index", _l("Sites"), ()),
    ("hazards.index", _l("Hazards"), ()),
    ("inspections.due", _l("Inspections due"), ("admin", "police", "coordinator", "association")),
    (
        "assessments.index",
        _l("Star ratings"),
        ("admin", "police", "coordinator", "association", "landlord", "property_manager"),
    ),
    ("places.associations", _l("Association"), ("landlord", "association")),
    ("admin.areas", _l("Areas"), ("admin",)),
    ("admin.orgs", _l("Organizations"), ("admin",)),
    ("admin.users", _l("Users"), ("admin",)),
)


def nav_items(my_roles: set[str]) -> list[tuple[str, str]]:
    if not current_user.is_authenticated:
        return []
    views = current_app.view_functions
    return [
        (url_for(endpoint), label)
        for endpoint, label, wanted in NAV
        if endpoint in views and (not wanted or my_roles & set(wanted))
    ]


def locale_code() -> str:
    """Our language code for the active locale (Babel parses zh_CN as zh_Hans_CN)."""
    locale = get_locale()
    return "zh_CN" if locale is not None and locale.language == "zh" else "en"


def init_templating(app: Flask) -> None:
    app.jinja_env.filters["mask_phone"] = mask_phone
    app.jinja_env.filters["mask_id"] = mask_id_number

    @app.context_processor
    def _globals():
        from community.accounts.forms import (
            KIND_LABELS,
            LANGUAGE_LABELS,
            LEVEL_LABELS,
            ROLE_LABELS,
            LocaleForm,
        )
        from community.accounts.permissions import roles
        from community.core.forms import EmptyForm

        my_roles = roles(current_user) if current_user.is_authenticated else set()
        return {
            "nav_items": nav_items(my_roles),
            "role_labels": ROLE_LABELS,
            "kind_labels": KIND_LABELS,
            "level_labels": LEVEL_LABELS,
            "current_locale": locale_code(),
            "languages": LANGUAGE_LABELS,
            "locale_form": LocaleForm(formdata=None, locale=locale_code()),
            "logout_form": EmptyForm(formdata=None),
            "request_path": request.full_path.rstrip("?"),
        }
