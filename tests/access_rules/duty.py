"""Access rows for the duty routes. The world's duty is published in the world's
community (starting in two days, places free), with a claim by another volunteer
that is `reported` (so approve answers 303 and reject without a reason 422); the
requesting volunteer holds no claim (wait and cancel are 409: places are free,
nothing to cancel)."""

from __future__ import annotations

from datetime import timedelta

from tests.access_rules import ANON, LOGIN
from tests.factories.duty import first_checkpoint, make_claim, make_duty, make_volunteer

VIEWERS = {"admin": 200, "police": 200, "coordinator": 200, "volunteer": 200}
MANAGERS = {"admin": 200, "coordinator": 200}

EXPECTED = {
    "duty.index": ("GET", {ANON: LOGIN, **VIEWERS, "*": 403}),
    "duty.calendar": ("GET", {ANON: LOGIN, **VIEWERS, "*": 403}),
    "duty.leaderboard": ("GET", {ANON: LOGIN, **VIEWERS, "*": 403}),
    "duty.mine": ("GET", {ANON: LOGIN, "volunteer": 200, "*": 403}),
    "duty.reports": ("GET", {ANON: LOGIN, **MANAGERS, "*": 403}),
    "duty.new": ("GET", {ANON: LOGIN, **MANAGERS, "*": 403}),
    "duty.show": ("GET", {ANON: LOGIN, **VIEWERS, "*": 404}),
    "duty.edit": ("GET", {ANON: LOGIN, **MANAGERS, "police": 403, "volunteer": 403, "*": 404}),
    "duty.delete": (
        "POST",
        {ANON: LOGIN, "admin": 303, "coordinator": 303, "police": 403, "volunteer": 403, "*": 404},
    ),
    "duty.claim": (
        "POST",
        {ANON: LOGIN, "volunteer": 303, "admin": 403, "police": 403, "coordinator": 403, "*": 404},
    ),
    "duty.wait": (
        "POST",
        {ANON: LOGIN, "volunteer": 409, "admin": 403, "police": 403, "coordinator": 403, "*": 404},
    ),
    "duty.cancel": (
        "POST",
        {ANON: LOGIN, "volunteer": 409, "admin": 403, "police": 403, "coordinator": 403, "*": 404},
    ),
    "duty.claim_page": ("GET", {ANON: LOGIN, **MANAGERS, "*": 404}),
    "duty.check_in": ("POST", {ANON: LOGIN, "admin": 403, "coordinator": 403, "*": 404}),
    "duty.visit": ("POST", {ANON: LOGIN, "admin": 403, "coordinator": 403, "*": 404}),
    "duty.check_out": ("POST", {ANON: LOGIN, "admin": 403, "coordinator": 403, "*": 404}),
    "duty.approve": ("POST", {ANON: LOGIN, "admin": 303, "coordinator": 303, "*": 404}),
    "duty.reject": ("POST", {ANON: LOGIN, "admin": 422, "coordinator": 422, "*": 404}),
    "duty.record": ("GET", {ANON: LOGIN, **MANAGERS, "*": 404}),
    "duty.track_consent": ("POST", {ANON: LOGIN, "admin": 403, "coordinator": 403, "*": 404}),
    "duty.track": ("POST", {ANON: LOGIN, "admin": 403, "coordinator": 403, "*": 404}),
    "duty.patrols": ("GET", {ANON: LOGIN, **MANAGERS, "*": 403}),
    # The installable app's shell: public, no user's data in them.
    "duty_shell.manifest": ("GET", {ANON: 200, "*": 200}),
    "duty_shell.service_worker": ("GET", {ANON: 200, "*": 200}),
    "duty_shell.offline": ("GET", {ANON: 200, "*": 200}),
}


def world(session, ctx):
    task = make_duty(
        session, area=ctx["community"], title="access duty", starts_in=timedelta(days=2)
    )
    other = make_volunteer(session, area=ctx["community"])
    claim = make_claim(session, task=task, volunteer=other, status="reported")
    return {
        "task_id": task.id,
        "claim_id": claim.id,
        "checkpoint_id": first_checkpoint(session, task).id,
        "volunteer_id": other.id,
    }
