"""Access rows for the accounts routes and the static files."""

from __future__ import annotations

from sqlalchemy import select

from community.accounts.models import Membership
from tests.access_rules import ANON, LOGIN
from tests.factories.accounts import make_role_user

EXPECTED = {
    "static": ("GET", {ANON: 200, "*": 200}),
    "accounts.login": ("GET", {ANON: 200, "*": 302}),
    "accounts.logout": ("POST", {ANON: LOGIN, "*": 303}),
    "accounts.home": ("GET", {ANON: LOGIN, "*": 200}),
    "accounts.password": ("GET", {ANON: LOGIN, "*": 200}),
    "accounts.digest": ("POST", {ANON: LOGIN, "*": 303}),
    "accounts.set_locale": ("POST", {ANON: 422, "*": 422}),
    "admin.index": ("GET", {ANON: LOGIN, "admin": 302, "*": 403}),
    "admin.areas": ("GET", {ANON: LOGIN, "admin": 200, "*": 403}),
    "admin.orgs": ("GET", {ANON: LOGIN, "admin": 200, "*": 403}),
    "admin.org": ("GET", {ANON: LOGIN, "admin": 200, "*": 403}),
    "admin.add_member": ("POST", {ANON: LOGIN, "admin": 422, "*": 403}),
    "admin.remove_member": ("POST", {ANON: LOGIN, "admin": 303, "*": 403}),
    "admin.users": ("GET", {ANON: LOGIN, "admin": 200, "*": 403}),
    "admin.user": ("GET", {ANON: LOGIN, "admin": 200, "*": 403}),
    "admin.add_role": ("POST", {ANON: LOGIN, "admin": 422, "*": 403}),
    "admin.remove_role": ("POST", {ANON: LOGIN, "admin": 303, "*": 403}),
    "admin.jobs": ("GET", {ANON: LOGIN, "admin": 200, "*": 403}),
}


def world(session, ctx):
    team = ctx["orgs"]["volunteer_team"]
    member = make_role_user(session, "volunteer", org=team)
    membership_id = session.scalar(select(Membership.id).where(Membership.user_id == member.id))
    loner = make_role_user(session, "volunteer", area=ctx["community"])
    role_id = session.scalar(select(Membership.id).where(Membership.user_id == loner.id))
    return {
        "org_id": team.id,
        "role_id": role_id,
        "membership_id": membership_id,
        "user_id": loner.id,
        "filename": "css/app.css",
    }
