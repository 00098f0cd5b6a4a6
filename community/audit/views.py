"""/audit/: the filtered, paged audit log and its CSV export (police, admins), each
within the reader's scope (audit.permissions.visible_events)."""

from __future__ import annotations

from flask import Response, request, stream_with_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from community.accounts.permissions import authorize_or_403
from community.audit import bp, queries
from community.audit.forms import AuditFilterForm
from community.core import audit
from community.core.csvout import csv_pieces
from community.core.htmx import render
from community.core.once import commit
from community.core.timeutil import local_zone, utcnow
from community.extensions import db

EXPORTED = "audit.exported"
audit.register_actions({EXPORTED: _l("Audit log exported")})


def _filters(form: AuditFilterForm) -> queries.Filters:
    """The valid filters of the query string; an invalid field is dropped (a shared or
    edited URL always answers), and shown as an error on the form."""
    form.validate()

    def ok(f):
        return f.data if not f.errors and f.data not in ("", None) else None

    return queries.Filters(
        username=ok(form.user),
        object_type=ok(form.object_type),
        object_id=ok(form.object_id),
        action=ok(form.action),
        date_from=ok(form.date_from),
        date_to=ok(form.date_to),
    )


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and len(value) <= 10 else None


def _form(formdata) -> AuditFilterForm:
    form = AuditFilterForm(formdata)
    form.action.choices = [("", _("All actions")), *audit.action_choices()]
    return form


def _zone_label() -> str:
    """The local zone as an offset from UTC ("UTC+8"), for the time column."""
    offset = local_zone().utcoffset(utcnow())
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


@bp.route("/")
@login_required
def index():
    authorize_or_403("audit.view")
    form = _form(request.args)
    filters = _filters(form)
    page = queries.list_events(
        db.session, current_user, filters, before=_int_arg("before"), after=_int_arg("after")
    )
    return render(
        "audit/index.html",
        "event_list",
        form=form,
        page=page,
        args=filters.query_args(),
        actors=queries.actor_names(db.session, page.items),
        detail=queries.format_detail,
        action_label=audit.action_label,
        zone=_zone_label(),
    )


def _header() -> list[str]:
    return [
        _("Id"),
        _("Time (UTC)"),
        _("User"),
        _("Address"),
        _("Action"),
        _("Object type"),
        _("Object id"),
        _("Detail"),
    ]


@bp.route("/export.csv")
@login_required
def export():
    """Every event matching the filters, streamed in batches; the export is itself
    an audit event (who took which slice of the log)."""
    authorize_or_403("audit.view")
    filters = _filters(_form(request.args))
    audit.record(
        db.session,
        current_user,
        EXPORTED,
        None,
        filters.query_args() or None,
        object_type="audit_event",
    )
    rows = queries.export_rows(db.session, current_user, filters)
    return commit(
        Response(
            stream_with_context(csv_pieces(_header(), rows)),
            mimetype="text/csv",
            headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
        )
    )
