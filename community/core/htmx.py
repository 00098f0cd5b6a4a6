"""The one place that talks to htmx-flask: page-or-fragment rendering and HX-* headers.

A real partial request (HX-Request, not boosted, not a history restore) gets
the named block of the page template; anything else gets the whole page. The
same URL therefore serves both, and every answer varies on HX-Request.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, flash, redirect
from htmx_flask import Htmx, request
from htmx_flask import make_response as hx_make_response

htmx = Htmx()


def is_partial() -> bool:
    """True for an htmx request that wants a fragment (not boosted navigation)."""
    hx = getattr(request, "htmx", None)
    if not hx:
        return False
    return not hx.boosted and not hx.history_restore_request


def is_htmx() -> bool:
    return bool(getattr(request, "htmx", None))


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
    from flask import render_template

    if block and is_partial():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    resp = hx_make_response(body, status, trigger=trigger, push_url=push_url)
    return resp


def redirect_after_post(endpoint_url: str, *, trigger: str | dict | None = None) -> Response:
    """PRG for plain forms; for htmx an HX-Location so the client lands there without 30x."""
    if is_partial():
        return hx_make_response("", 200, location=endpoint_url, trigger=trigger)
    return redirect(endpoint_url, code=303)


def saved(message: str, location: str, fragment) -> Response:
    """The answer to a successful POST: a plain form gets `message` as a flash and a
    303 to `location`; htmx gets `fragment()` (which carries its HX-Trigger event)."""
    if is_partial():
        return fragment()
    flash(message, "success")
    return redirect(location, code=303)


def hx_response(body: str, status: int = 200, **headers: Any) -> Response:
    return hx_make_response(body, status, **headers)


def add_vary(response: Response) -> Response:
    response.vary.add("HX-Request")
    return response


__all__ = ["add_vary", "htmx", "is_htmx", "is_partial", "redirect_after_post", "render", "saved"]
