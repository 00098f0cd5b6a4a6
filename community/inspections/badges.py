"""The inspection chips (core.badges registry): an inspection's result (in progress,
passed, failed) and one checklist answer (pass, fail, not applicable, unanswered)."""

from flask_babel import lazy_gettext as _l

from community.core.badges import register_chips
from community.inspections.forms import RESULT_LABELS

register_chips(
    "inspection",
    {"open": _l("In progress"), "passed": _l("Passed"), "failed": _l("Failed")},
    {"passed": "ok", "failed": "warn"},
)
# "none": the item has no answer yet.
register_chips(
    "inspection_answer",
    {**RESULT_LABELS, "none": _l("unanswered")},
    {"pass": "ok", "fail": "warn"},
    data="result",
)
