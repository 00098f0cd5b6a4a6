"""The duty chips (core.badges registry): a duty's status (shown when it is not
published: cancelled or done, in red) and a claim's status (neutral, as the marks
they replace)."""

from community.core.badges import register_chips
from community.duty.forms import CLAIM_STATUS_LABELS, TASK_STATUS_LABELS

register_chips("duty_task", TASK_STATUS_LABELS, {"cancelled": "warn", "done": "warn"})
register_chips("duty_claim", CLAIM_STATUS_LABELS)
