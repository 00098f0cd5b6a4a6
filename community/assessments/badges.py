"""The assessment chip (core.badges registry): draft, waiting, approved, rejected."""

from community.assessments.forms import STATUS_LABELS
from community.assessments.models import ASSESSMENT_STATES
from community.core.badges import register_chips

register_chips(
    "assessment",
    {state: STATUS_LABELS[state] for state in ASSESSMENT_STATES},
    {"approved": "ok", "rejected": "warn"},
)
