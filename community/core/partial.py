"""Which answer a request wants: a fragment (a real htmx partial request) or the page.

The one decision, below both core.htmx (which re-exports it and renders by it) and
core.once (which replays a stored answer by it), so neither imports the other's
way back. It reads `request.htmx`, which htmx-flask's request class (installed by
core.htmx's `htmx.init_app`) provides; htmx-flask itself is imported in core.htmx
only.
"""

from __future__ import annotations

from flask import request


def is_partial() -> bool:
    """True for an htmx request that wants a fragment (not boosted navigation)."""
    hx = getattr(request, "htmx", None)
    if not hx:
        return False
    return not hx.boosted and not hx.history_restore_request
