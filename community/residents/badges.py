"""The residence chip (core.badges registry): waiting for verification, verified
(green), sent back (red); app.css and tests find it by its class residence-status."""

from community.core.badges import register_chips
from community.residents.forms import STATUS_LABELS

register_chips(
    "residence",
    STATUS_LABELS,
    {"verified": "ok", "rejected": "warn"},
    cls="residence-status",
)
