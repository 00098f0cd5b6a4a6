"""The administrator's page of the worker's jobs (/admin/jobs): each periodic job's
last run, last success, failures with the last error and next run, and what waits
in each queue (core.jobs; the features register both). It only reads."""

from __future__ import annotations

from flask import current_app
from flask_login import login_required

from community.accounts import admin_bp
from community.accounts.views import admin_only
from community.core.htmx import render
from community.core.jobs import job_statuses
from community.core.timeutil import utcnow
from community.extensions import db


@admin_bp.route("/jobs")
@login_required
@admin_only
def jobs():
    statuses = job_statuses(db.session, current_app.config)
    return render(
        "accounts/admin_jobs.html",
        None,
        periodic=[s for s in statuses if s.depth is None],
        queues=[s for s in statuses if s.depth is not None],
        now=utcnow(),
    )
