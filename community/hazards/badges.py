"""The hazard chips (core.badges registry): status and severity, coloured in app.css
by their classes (hazard-status-<state>, hazard-severity-<state>)."""

from community.core.badges import register_chips
from community.hazards.forms import SEVERITY_LABELS, STATUS_LABELS

register_chips("hazard", STATUS_LABELS, cls="hazard-status hazard-status-{state}")
register_chips(
    "hazard_severity",
    SEVERITY_LABELS,
    data="severity",
    cls="hazard-severity hazard-severity-{state}",
)
