"""The user account chip (core.badges registry): active or disabled."""

from flask_babel import lazy_gettext as _l

from community.core.badges import register_chips

register_chips(
    "user",
    {"active": _l("active"), "disabled": _l("disabled")},
    {"active": "ok", "disabled": "warn"},
)
