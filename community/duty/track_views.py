"""Routes walked (issue 22 item 3): the volunteer's consent, the phone's batches of
positions (JSON answers: they come from the queue in static/js/offline.js), and the
coordinator's "on patrol now" list, refreshed in place."""

from __future__ import annotations

from datetime import timedelta

from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from community.accounts.permissions import authorize_or_403, visible_or_404
from community.core.htmx import render, submit
from community.duty import bp, offline_views, queries, services, track_queries
from community.duty.forms import LABELS, TrackConsentForm
from community.duty.services import offline, tracks
from community.extensions import db


def _claim_or_404(claim_id: int):
    return visible_or_404(queries.get_claim(db.session, claim_id), "claim.view")


@bp.route("/claims/<int:claim_id>/track/consent", methods=["POST"])
@login_required
def track_consent(claim_id: int):
    """Record my route on this duty: yes or no, once (it may be changed while on)."""
    claim = _claim_or_404(claim_id)
    authorize_or_403("claim.act", claim)
    form = TrackConsentForm()
    consent = form.consent.data == "yes"
    step = lambda: tracks.set_consent(db.session, current_user, claim, consent)  # noqa: E731
    if request.headers.get(offline_views.QUEUE_HEADER):
        # Setting the answer twice gives the same state: no key needed.
        return offline_views.queue_answer(lambda _c=None: step(), form)
    return submit(
        form,
        step,
        page=lambda status, conflict=None: _claim_page(claim_id, status, conflict),
        message=_("Your route is recorded on this duty.")
        if consent
        else _("Your route is not recorded on this duty."),
        location=url_for("duty.claim_page", claim_id=claim_id),
    )


def _claim_page(claim_id: int, status: int, conflict):
    from community.duty.views import on_duty_page

    return on_duty_page(_claim_or_404(claim_id), status=status, conflict=conflict)


@bp.route("/claims/<int:claim_id>/track", methods=["POST"])
@login_required
def track(claim_id: int):
    """A batch of positions from the phone's queue: JSON {ok, stored, duplicates,
    dropped}; 422 for a batch that cannot be read or is too large, 409 without
    consent or when the duty was never on; a replayed batch (same key) changes
    nothing. The phone's clock error, when caught, moves the points' times too."""
    claim = _claim_or_404(claim_id)
    authorize_or_403("claim.act", claim)
    text = request.form.get("points", "")
    keyed = offline_views.keyed_request(claim, "track", [("points", text)])
    if keyed is None:
        return offline_views.json_answer(
            422, ok=False, reason="invalid", message=_("This batch carries no key.")
        )

    def step(timing: offline.Timing):
        batch = tracks.parse_batch(text)
        if "clock_off" in timing.flags and timing.skew_s is not None:
            shift = timedelta(seconds=timing.skew_s)
            batch = [{**p, "at": p["at"] + shift} for p in batch]
        return tracks.add_points(db.session, current_user, claim, batch)

    earliest = claim.checked_in_at or services.check_in_opens(claim.task)

    def run(_c=None):
        applied = services.apply_once(
            db.session,
            current_user,
            claim,
            key=keyed.key,
            print_=keyed.print_,
            action="track",
            clock=keyed.clock,
            earliest=earliest,
            step=step,
        )
        if not applied.replay:
            applied.action.result = {**(applied.action.result or {}), **applied.result.as_dict()}
        return applied

    return offline_views.queue_answer(run)


@bp.route("/patrols")
@login_required
def patrols():
    """On patrol now: every claim on duty in the coordinator's areas with its last
    position and time; the list refreshes itself every 30 s (a GET, no writes)."""
    authorize_or_403("duty.patrols")
    return render(
        "duty/patrols.html",
        "patrols",
        patrols=track_queries.on_patrol(db.session, current_user),
        **LABELS,
    )
