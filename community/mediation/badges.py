"""The mediation chips (core.badges registry): a case's status and its risk
(高 in red)."""

from community.core.badges import register_chips
from community.mediation.forms import RISK_LABELS, SESSION_LABELS, STATUS_LABELS

register_chips("mediation_case", STATUS_LABELS)
register_chips("mediation_risk", RISK_LABELS, {"high": "warn"})
register_chips("mediation_session", SESSION_LABELS, {"cancelled": "warn"})
