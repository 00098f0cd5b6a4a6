"""Star assessment pages: the list, start a month, the assessment card (submit,
decide in place), and the site-page panel with the star history chart."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from community.accounts.permissions import can
from community.core.errors import Conflict, NotPermitted, RuleViolation
from community.core.forms import EmptyForm, apply_violation
from community.core.htmx import redirect_after_post, render, saved
from community.core.once import once
from community.core.pagination import parse_page
from community.extensions import db
from community.places.models import Site
from community.places.panels import Panel, register_site_panel
from community.ratings import assessments_bp as bp
from community.ratings.forms.assessments import (
    STATUS_LABELS,
    StartAssessmentForm,
    decision_form,
)
from community.ratings.models import Assessment
from community.ratings.services import assessments as services

# HX-Trigger events (listen with hx-trigger="assessment-decided from:body").
ASSESSMENT_SUBMITTED = "assessment-submitted"
ASSESSMENT_DECIDED = "assessment-decided"

SHOW = "ratings/assessments_show.html"
# Ids in URLs: larger numbers cannot be rows (PostgreSQL integer) and answer 404, not 500.


def _visible_site(site_id: int) -> Site:
    site = db.get_or_404(Site, site_id)
    if not can(current_user, "site.view", site):
        abort(404)
    return site


def _visible_assessment(assessment_id: int) -> Assessment:
    assessment = services.get_assessment(db.session, assessment_id)
    if assessment is None or not can(current_user, "site.view", assessment.site):
        abort(404)
    return assessment


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
        breakdown=services.breakdown(assessment),
        people=services.people(db.session, assessment),
        can_submit=can(current_user, "assessment.submit", assessment.site),
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
    state = request.args.get("status") or services.default_status(current_user)
    if state not in STATUS_LABELS:
        state = "all"
    page = services.list_assessments(
        db.session, current_user, status=state, page=parse_page(request.args.get("page"))
    )
    return render(
        "ratings/assessments_index.html",
        "assessment_list",
        page=page,
        state=state,
        status_labels=STATUS_LABELS,
    )


@bp.route("/sites/<int:site_id>/assessments", methods=["GET", "POST"])
@login_required
@once
def new(site_id: int):
    site = _visible_site(site_id)
    if not can(current_user, "assessment.submit", site):
        abort(403)
    form = StartAssessmentForm(month=services.default_month())
    if form.validate_on_submit():
        try:
            assessment, created = services.start_assessment(
                db.session, current_user, site, form.month.data
            )
        except RuleViolation as exc:
            apply_violation(form, exc)
        except Conflict as exc:
            return render(
                "errors/error.html", "error", code=409, description=exc.message, status=409
            )
        else:
            db.session.commit()
            month = assessment.month.strftime("%Y-%m")
            if created:
                flash(_("The assessment of %(month)s was started.", month=month), "success")
            else:
                flash(_("The assessment of %(month)s already exists.", month=month), "info")
            return redirect_after_post(url_for("assessments.show", assessment_id=assessment.id))
    return render(
        "ratings/assessments_new.html",
        "start_form",
        form=form,
        site=site,
        status=422 if form.errors else 200,
    )


@bp.route("/assessments/<int:assessment_id>")
@login_required
def show(assessment_id: int):
    return _card(_visible_assessment(assessment_id))


@bp.route("/assessments/<int:assessment_id>/submit", methods=["POST"])
@login_required
def submit(assessment_id: int):
    assessment = _visible_assessment(assessment_id)
    if not can(current_user, "assessment.submit", assessment.site):
        abort(403)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.submit_assessment(db.session, current_user, assessment)
    except Conflict as exc:
        return _card(assessment, status=409, conflict=exc.message)
    db.session.commit()
    return saved(
        _("The assessment was submitted to the police liaison."),
        url_for("assessments.show", assessment_id=assessment_id),
        lambda: _card(_visible_assessment(assessment_id), trigger=ASSESSMENT_SUBMITTED),
    )


@bp.route("/assessments/<int:assessment_id>/decide", methods=["POST"])
@login_required
def decide(assessment_id: int):
    assessment = _visible_assessment(assessment_id)
    if not can(current_user, "assessment.decide", assessment):
        abort(403)
    form = decision_form()
    try:
        services.check_decidable(assessment)
        if not form.validate_on_submit():
            return _card(assessment, form=form, status=422)
        services.decide_assessment(
            db.session,
            current_user,
            assessment,
            form.decision.data,
            form.reason.data,
            form.manual_scores(),
        )
    except Conflict as exc:
        return _card(assessment, status=409, conflict=exc.message)
    except RuleViolation as exc:
        apply_violation(form, exc)
        return _card(assessment, form=form, status=422)
    except NotPermitted:
        abort(403)
    db.session.commit()
    return saved(
        _("Your decision was saved."),
        url_for("assessments.show", assessment_id=assessment_id),
        lambda: _card(_visible_assessment(assessment_id), trigger=ASSESSMENT_DECIDED),
    )


@register_site_panel
def assessments_panel(session, user, site) -> Panel | None:
    """Assessments of the last 12 months, the star chart, and the start form."""
    if not can(user, "site.view", site):
        return None
    history = services.site_history(session, site)
    can_start = can(user, "assessment.submit", site)
    return Panel(
        template="ratings/_panel_assessments.html",
        order=40,
        context={
            "history": history,
            "chart": services.star_chart(
                history, title=_("Stars of %(site)s by month", site=site.name)
            ),
            "can_start": can_start,
            "start_form": (
                StartAssessmentForm(formdata=None, month=services.default_month())
                if can_start
                else None
            ),
        },
    )
