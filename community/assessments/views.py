"""Star assessment pages: the list, start a month, the assessment card (submit and
decide in place)."""

from __future__ import annotations

from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from community.accounts.permissions import authorize_or_403, can, visible_or_404
from community.assessments import bp, queries, services, start
from community.assessments.forms import STATUS_LABELS, StartAssessmentForm, decision_form
from community.assessments.models import Assessment
from community.assessments.permissions import default_status
from community.assessments.services import last_complete_month
from community.core import events
from community.core.forms import EmptyForm
from community.core.htmx import render, submit
from community.core.once import once
from community.core.pagination import PER_PAGE, Page, parse_page
from community.extensions import db
from community.places import queries as places
from community.places.models import Site
from community.places.permissions import run_sites

SHOW = "assessments/show.html"


def _assessment_or_404(assessment_id: int) -> Assessment:
    return visible_or_404(queries.get_assessment(db.session, assessment_id), "assessment.view")


def _card(assessment: Assessment, *, form=None, status=200, trigger=None, conflict=None):
    """The assessment page, or its card alone for an htmx request."""
    can_decide = can(current_user, "assessment.decide", assessment)
    if form is None and can_decide and assessment.status == "submitted":
        form = decision_form(formdata=None)
    return render(
        SHOW,
        "assessment_card",
        assessment=assessment,
        site=assessment.site,
        breakdown=queries.breakdown(assessment),
        people=queries.people(db.session, assessment),
        can_submit=can(current_user, "assessment.submit", assessment.site)
        and assessment.status in services.SUBMITTABLE_STATES,
        can_decide=can_decide,
        submit_form=EmptyForm(formdata=None),
        decision_form=form,
        conflict=conflict,
        status=status,
        trigger=trigger,
    )


@bp.route("/assessments/")
@login_required
def index():
    state = request.args.get("status") or default_status(current_user)
    if state not in STATUS_LABELS:
        state = "all"
    page = queries.list_assessments(
        db.session, current_user, status=state, page=parse_page(request.args.get("page"))
    )
    return render(
        "assessments/index.html",
        "assessment_list",
        page=page,
        state=state,
        status_labels=STATUS_LABELS,
    )


@bp.route("/assessments/due")
@login_required
def due():
    """Every site the user runs whose assessment of last month is still to submit, a
    page at a time (the start page shows the first few)."""
    authorize_or_403("assessment.due_list")
    month = last_complete_month()
    page = parse_page(request.args.get("page"))
    sites = run_sites(current_user)
    total, rows = start.sites_due(db.session, sites, month, PER_PAGE, (page - 1) * PER_PAGE)
    if total and not rows:  # past the end: the last page
        page = -(-total // PER_PAGE)
        total, rows = start.sites_due(db.session, sites, month, PER_PAGE, (page - 1) * PER_PAGE)
    listing = Page(items=rows, page=page, per_page=PER_PAGE, total=total)
    return render("assessments/due.html", "sites_due", page=listing, month=month)


def _start_page(site: Site, form: StartAssessmentForm, default, status: int = 200, conflict=None):
    return render(
        "assessments/new.html",
        "start_form",
        form=form,
        site=site,
        default_month=default,
        status=status,
    )


@bp.route("/sites/<int:site_id>/assessments", methods=["GET", "POST"])
@login_required
@once
def new(site_id: int):
    site = places.get_site_or_404(site_id)
    authorize_or_403("assessment.submit", site)
    default = services.default_month(db.session, site)
    form = StartAssessmentForm(month=default)
    if request.method == "GET":
        return _start_page(site, form, default)

    def message(started) -> str:
        assessment, created = started
        month = assessment.month.strftime("%Y-%m")
        if created:
            return _("The assessment of %(month)s was started.", month=month)
        return _("The assessment of %(month)s already exists.", month=month)

    return submit(
        form,
        lambda: services.start_assessment(db.session, current_user, site, form.month.data),
        page=lambda **kw: _start_page(site, form, default, **kw),
        message=message,
        location=lambda started: url_for("assessments.show", assessment_id=started[0].id),
    )


@bp.route("/assessments/<int:assessment_id>")
@login_required
def show(assessment_id: int):
    return _card(_assessment_or_404(assessment_id))


@bp.route("/assessments/<int:assessment_id>/submit", methods=["POST"], endpoint="submit")
@login_required
def submit_assessment(assessment_id: int):
    assessment = _assessment_or_404(assessment_id)
    authorize_or_403("assessment.submit", assessment.site)
    return submit(
        EmptyForm(),
        lambda: services.submit_assessment(db.session, current_user, assessment),
        page=lambda status, conflict=None: _card(assessment, status=status, conflict=conflict),
        message=_("The assessment was submitted to the police liaison."),
        location=url_for("assessments.show", assessment_id=assessment_id),
        fragment=lambda _r: _card(assessment, trigger=events.ASSESSMENT_SUBMITTED),
    )


@bp.route("/assessments/<int:assessment_id>/decide", methods=["POST"])
@login_required
def decide(assessment_id: int):
    assessment = _assessment_or_404(assessment_id)
    authorize_or_403("assessment.decide", assessment)
    form = decision_form()

    def step():
        return services.decide_assessment(
            db.session,
            current_user,
            assessment,
            form.decision.data,
            form.reason.data,
            form.manual_scores(),
        )

    def page(status: int, conflict=None):
        return _card(
            assessment, form=form if status == 422 else None, status=status, conflict=conflict
        )

    if assessment.status != "submitted":  # a decided one is a 409, whatever the input
        return page(409, services.not_decidable_message())
    return submit(
        form,
        step,
        page=page,
        message=_("Your decision was saved."),
        location=url_for("assessments.show", assessment_id=assessment_id),
        fragment=lambda _a: _card(assessment, trigger=events.ASSESSMENT_DECIDED),
    )
