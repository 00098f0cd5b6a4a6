"""The outreach chips (core.badges registry): an event's and a request's status."""

from community.core.badges import register_chips
from community.outreach.forms import EVENT_STATUS_LABELS, REQUEST_STATUS_LABELS

register_chips("outreach_event", EVENT_STATUS_LABELS, {"cancelled": "warn"})
register_chips("outreach_request", REQUEST_STATUS_LABELS, {"declined": "warn"})
