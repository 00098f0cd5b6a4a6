"""The one place that talks to htmx-flask, and the one way a view answers.

`render()` gives a real partial request (HX-Request, not boosted, not a history
restore) the named block of the page template and anything else the whole page,
so the same URL serves both (core.security sets `Vary: HX-Request` on every
answer). A POST view answers through `submit()` (validate -> one service call
-> commit -> answer) or, for its own shapes, `saved()` and the page function:

- success: `saved()` — a plain form gets a flash and a 303; htmx gets the fragment
  (with its HX-Trigger event) plus the same message in the toast region
  (out-of-band), or an HX-Location when the user must land elsewhere;
- invalid: 422 with the form re-rendered, a RuleViolation shown on its field;
- conflict: 409 with the message inline in the same page or fragment (never a
  dead-end error page).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, abort, current_app, flash, redirect, render_template
from htmx_flask import Htmx
from htmx_flask import make_response as hx_make_response

from community.core.errors import Conflict, NotPermitted, RuleViolation
from community.core.forms import apply_violation
from community.core.once import commit
from community.core.partial import is_partial
from community.core.writes import RowChanges

# Initialised by create_app (community/__init__.py); extensions.py does not import
# this module, so the app's plumbing does not depend on the answering layer.
htmx = Htmx()


def render_block(template: str, block: str, **context: Any) -> str:
    env = current_app.jinja_env
    tmpl = env.get_or_select_template(template)
    current_app.update_template_context(context)
    ctx = tmpl.new_context(context)
    return "".join(tmpl.blocks[block](ctx))


def render(
    template: str,
    block: str | None = None,
    *,
    status: int = 200,
    trigger: str | dict | None = None,
    push_url: str | None = None,
    **context: Any,
) -> Response:
    """Render the page, or only `block` when htmx asked for a fragment."""
    if block and is_partial():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    return hx_make_response(body, status, trigger=trigger, push_url=push_url)


def _toast(message: str) -> str:
    return render_template("_macros/toast.html", message=message)


def saved(
    message: str | None,
    location: str,
    fragment: Callable[[], Response] | None = None,
    *,
    trigger: str | None = None,
) -> Response:
    """The answer to a successful POST, committed: a plain form gets `message` as a
    flash and a 303 to `location`; htmx gets `fragment()` (which carries its
    HX-Trigger event) with the message in the toast region, or, without a
    fragment, an HX-Location to `location` (the flash shows there). A `message` of
    None says nothing (the language switch, following a notice: the page the user
    lands on is the answer)."""
    if is_partial() and fragment is not None:
        resp = fragment()
        if message:
            resp.set_data(resp.get_data(as_text=True) + _toast(message))
    else:
        if message:
            flash(message, "success")
        if is_partial():
            resp = hx_make_response("", 200, location=location, trigger=trigger)
        else:
            resp = redirect(location, code=303)
    return commit(resp)


def answered(resp: Response) -> Response:
    """An answer that is neither a saved form (`saved`) nor a plain read, committed:
    a value shown once in the answer itself (a revealed ID number), a download
    that is an audit event of its own. The request's one commit point is
    core.once.commit, here as in `saved()`."""
    return commit(resp)


def submit(
    form: Any,
    step: Callable[[], Any],
    *,
    page: Callable[..., Response],
    message: str | Callable[[Any], str],
    location: str | Callable[[Any], str],
    fragment: Callable[[Any], Response] | None = None,
    trigger: str | None = None,
    conflict_page: Callable[[Conflict], Response] | None = None,
) -> Response:
    """The one shape of a form POST: validate `form`; run `step()` (the one service
    call); commit and answer with `saved()`. `page(status=..., conflict=...)`
    renders the page (or its block) with the bound form for a 422 (invalid input
    or a RuleViolation, shown on its field) and a 409 (a Conflict, its message
    inline; when the step changed rows before it refused, the transaction is rolled
    back first, so the page shows the state as it is, not the step's half-done
    writes, and must re-read what it shows). `conflict_page(exc)` renders that 409
    instead when the answer depends on the kind of Conflict. `message` (or
    `message(result)`) is the success message; `location` (or `location(result)`)
    is where a plain form lands; `fragment(result)` is the htmx answer (default:
    HX-Location there, with the `trigger` event)."""
    if form is not None and not form.validate_on_submit():
        return page(status=422)
    session = current_app.extensions["sqlalchemy"].session
    changes = RowChanges(session)
    try:
        with changes:
            result = step()
    except RuleViolation as exc:
        on_fields = [(n, m) for n, m in exc.errors if n and form is not None and n in form]
        general = [m for n, m in exc.errors if (n, m) not in on_fields]
        if on_fields:
            apply_violation(form, RuleViolation.several(on_fields))
        # A rule about the whole action (no field to blame) shows like a conflict.
        return page(status=422, conflict=" ".join(general) or None)
    except Conflict as exc:
        # The step may have written before it refused (a conditional UPDATE).
        if changes.needs_rollback:
            session.rollback()
        if conflict_page is not None:
            return conflict_page(exc)
        return page(status=409, conflict=exc.message)
    except NotPermitted:
        abort(403)
    target = location(result) if callable(location) else location
    text = message(result) if callable(message) else message
    answer = (lambda: fragment(result)) if fragment is not None else None
    return saved(text, target, answer, trigger=trigger)


__all__ = ["answered", "htmx", "is_partial", "render", "render_block", "saved", "submit"]
