"""The spreadsheet import pages: the upload (which stores the file and queues its
job: `flask worker` imports it, imports.jobs), the job's page with its progress
(read only: htmx polls it while the job runs; without JavaScript a refresh link),
the refused rows' download, and a site's xlsx template (imports.template). Routes of
the residents blueprint (their endpoints are residents.upload, residents.import_job,
residents.import_errors, residents.import_template)."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response, abort, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from community.accounts.permissions import authorize_or_403, can
from community.core.csvout import csv_pieces
from community.core.htmx import is_partial, render, submit
from community.core.once import once
from community.core.validators import is_id
from community.extensions import db
from community.residents import bp
from community.residents.imports import columns, files, queries, services, template
from community.residents.imports.forms import ImportForm
from community.residents.imports.models import ImportJob


def _job_or_404(job_id: int) -> ImportJob:
    """A job is seen only by the user who uploaded it (the file is theirs)."""
    job = db.session.get(ImportJob, job_id) if is_id(job_id) else None
    if job is None or job.user_id != current_user.id:
        abort(404)
    return job


def _import_page(form: ImportForm, status: int = 200, conflict=None):
    return render(
        "residents/imports/new.html",
        "import_form",
        form=form,
        header=",".join(files.HEADER),
        chinese_header=",".join(columns.BY_FIELD[f].header for f in files.HEADER),
        document_header="、".join(
            columns.BY_FIELD[f].header for f in columns.FIELDS[len(files.HEADER) :]
        ),
        max_mb=files.max_bytes() // (1024 * 1024),
        template_sites=queries.template_sites(db.session, current_user),
        conflict=conflict,
        status=status,
    )


@bp.route("/residents/import", methods=["GET", "POST"])
@login_required
@once
def upload():
    authorize_or_403("residence.import_any")
    form = ImportForm()
    if request.method == "GET":
        return _import_page(form)

    def step():
        data = form.file.data
        job = services.start_import(db.session, current_user, data.filename, data.read())
        job.locale = str(get_locale())  # the worker writes the job's messages in it
        return job

    return submit(
        form,
        step,
        page=lambda **kw: _import_page(form, **kw),
        message=_("File received; the import runs now."),
        location=lambda job: url_for("residents.import_job", job_id=job.id),
    )


def _job_page(job: ImportJob):
    """The job's page (or its progress block): once finished, the first refused
    rows (masked values) with the download of them all."""
    has_report = not job.is_running and files.has_error_report(job)
    problems = list(files.problems(job, files.SHOWN_PROBLEMS + 1)) if has_report else []
    return render(
        "residents/imports/show.html",
        "import_progress",
        job=job,
        has_report=has_report,
        problems=problems[: files.SHOWN_PROBLEMS],
        more_problems=len(problems) > files.SHOWN_PROBLEMS,
        column_labels=files.COLUMN_LABELS,
        # The upload's "running" flash stays above the block: the block that
        # says the import is over takes it away (htmx only; a page load has none).
        clear_flashes=is_partial() and not job.is_running,
    )


@bp.route("/residents/import/template.xlsx")
@login_required
def import_template():
    """The xlsx template of one site the user imports into (?site_id=): built in the
    request (a site's lists are small), nothing written; 404 for a site outside the
    user's import scope."""
    authorize_or_403("residence.import_any")
    site_id = request.args.get("site_id", type=int)
    site = queries.site_with_rooms(db.session, site_id) if is_id(site_id) else None
    if site is None or not can(current_user, "residence.import", site):
        abort(404)
    # RFC 6266/5987: the Chinese name in filename*, an ASCII one for old clients.
    disposition = (
        f'attachment; filename="residents-template-{site.id}.xlsx"; '
        f"filename*=UTF-8''{quote(template.file_name(site), safe='')}"
    )
    return Response(
        template.build(site),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": disposition, "Cache-Control": "no-cache"},
    )


@bp.route("/residents/import/<int:job_id>")
@login_required
def import_job(job_id: int):
    """The job's page, as it stands (a GET writes nothing): a worker runs the job,
    whether or not anyone watches; while it runs the progress block asks for itself
    again every 2 s (htmx), and offers a refresh link without JavaScript."""
    authorize_or_403("residence.import_any")
    return _job_page(_job_or_404(job_id))


@bp.route("/residents/import/<int:job_id>/errors.csv")
@login_required
def import_errors(job_id: int):
    """The refused rows (line, column, value masked where personal, reason): only
    what the user uploaded, never more."""
    authorize_or_403("residence.import_any")
    job = _job_or_404(job_id)

    return Response(
        csv_pieces([_("line"), _("column"), _("value"), _("reason")], files.error_rows(job)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="import-{job.id}-errors.csv"'},
    )
