"""Dashboard pages: the area's figures with drill-down (/dashboard/?area=<id>) and
each figure's table as CSV (/dashboard/<figure>.csv?area=<id>)."""

from __future__ import annotations

from flask import Response, abort, request
from flask_login import current_user, login_required

from community.accounts.models import Area
from community.accounts.permissions import authorize_or_403, visible_or_404
from community.core.csvout import csv_pieces
from community.core.figures import build_figure, build_figures
from community.core.htmx import render
from community.dashboard import bp, queries
from community.extensions import db


def _area_or_404() -> Area | None:
    """The ?area= of the request (404 when unknown or outside the user's scope), or
    the user's default; 403 first for a user without any dashboard."""
    authorize_or_403("dashboard.view")
    area_id = queries.parse_area_id(request.args.get("area"))
    if area_id is False:
        abort(404)
    if area_id is None:
        return queries.default_area(current_user)
    return visible_or_404(queries.get_area(db.session, area_id), "dashboard.view")


@bp.route("/")
@login_required
def index():
    area = _area_or_404()
    ctx = queries.context(db.session, current_user, area)
    return render(
        "dashboard/index.html",
        "dashboard",
        area=area,
        crumbs=queries.breadcrumb(db.session, current_user, area),
        children=queries.children(ctx),
        figures=build_figures(ctx),
    )


@bp.route("/<figure>.csv")
@login_required
def csv_figure(figure: str):
    area = _area_or_404()
    found = build_figure(queries.context(db.session, current_user, area), figure)
    if found is None:
        abort(404)
    name = f"{figure}-{area.id if area else 'all'}.csv"
    return Response(
        "".join(csv_pieces(found.columns, found.rows)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
