"""Form data that a role's valid POST to each route sends, on the world of
tests/test_access.py (the role's user covers the world's community), shared by the
sweeps that post forms: the mass-assignment sweep proves each case's valid post
answers as written here (so it does act in scope), and the object-access sweep
posts the same data to another district's objects.

A case's values come from the world's URL values plus: owner_id (the site's
landlord), community_id, street_id, far_area_id and stranger_id/stranger_name (a
volunteer of another district); a volunteer's world also has own_claim_id (a claim
to check in to), own_task_id (a claimed duty to cancel) and on_duty_claim_id with
on_duty_checkpoint_id.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import timedelta

from community.assessments.criteria import add_months
from community.core.timeutil import to_local, today, utcnow
from tests.conftest import PASSWORD
from tests.factories.residents import id_number

Data = Callable[[dict], dict]


def _event_move(v: dict) -> dict:
    """The world's event moved to the same hours two days later, new speakers."""
    start = to_local(utcnow()).replace(second=0, microsecond=0) + timedelta(days=2)
    return {
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "speakers": "王警官",
    }


def _csv(v: dict) -> dict:
    body = (
        "site_id,building,room,name,id_number,phone,move_in,hometown,employer\n"
        f"{v['site_id']},1号楼,101,导入甲,{id_number(serial=71)},13712345671,"
        f"{today().isoformat()},湖南,\n"
    )
    return {"file": (io.BytesIO(body.encode()), "tenants.csv")}


def _duty_form(v: dict) -> dict:
    start = (today() + timedelta(days=3)).isoformat()
    return {
        "title": "mass duty",
        "kind": "patrol",
        "area_id": str(v["community_id"]),
        "team_id": "0",
        "starts_at": f"{start}T09:00",
        "ends_at": f"{start}T11:00",
        "capacity": "3",
        "points": "10",
        "checkpoints": "东门",
        "repeat_weeks": "0",
    }


def _event_form(v: dict) -> dict:
    start = (today() + timedelta(days=3)).isoformat()
    return {
        "kind": "anti_fraud",
        "title": "mass event",
        "target": "area",
        "area_id": str(v["community_id"]),
        "enterprise_id": "0",
        "corner_id": "0",
        "starts_at": f"{start}T09:00",
        "ends_at": f"{start}T10:00",
        "organiser_id": str(v["outreach_organiser_id"]),
        "planned_audience": "30",
        "staff": "0",
        "points": "10",
    }


def _mediation_case_form(v: dict) -> dict:
    data = {
        "kind": "rent",
        "source": "police",
        "area_id": str(v["community_id"]),
        "site_id": "0",
        "summary": "押金纠纷",
        "amount": "2000",
        "risk": "high",
    }
    rows = [("张三", "13800000001", "applicant"), ("李四", "13800000002", "respondent")]
    for i, (name, phone, role) in enumerate(rows):
        data.update(
            {f"parties-{i}-name": name, f"parties-{i}-phone": phone, f"parties-{i}-role": role}
        )
    return data


def _mediation_room_form(v: dict) -> dict:
    return {
        "name": "mass room",
        "area_id": str(v["community_id"]),
        "address": "东路 2 号",
        "kind": "outstation",
        "opens": "09:00",
        "closes": "17:00",
        "active": "y",
    }


def _site_form(v: dict) -> dict:
    return {
        "name": "mass site",
        "kind": "rental_house",
        "area_id": str(v["community_id"]),
        "address": "东路 1 号",
        "association_id": "",
        "company_id": "",
        "enterprise_id": "",
        "landlord_username": "",
    }


def _assessment_decision(v: dict) -> dict:
    from community.assessments import criteria

    scores = {item.field_name: str(item.max_points) for item in criteria.manual_items()}
    return {"decision": "approve", **scores}


def _person(v: dict, serial: int) -> dict:
    return {
        "name": "张三",
        "id_number": id_number(serial=serial),
        "phone": f"137123456{serial:02d}",
        "move_in": today().isoformat(),
    }


# endpoint -> (role, URL values to override, data, status the valid post gets, why
# when it is not a success). One row per form POST route (a test checks).
CASES: dict[str, tuple[str, dict, Data, int, str]] = {
    "accounts.password": (
        "volunteer",
        {},
        lambda v: {
            "current_password": PASSWORD,
            "new_password": "another-horse-battery-9",
            "confirm": "another-horse-battery-9",
        },
        303,
        "",
    ),
    "accounts.digest": ("volunteer", {}, lambda v: {"digest": "y"}, 303, ""),
    "accounts.set_locale": ("volunteer", {}, lambda v: {"locale": "en"}, 303, ""),
    "admin.areas": (
        "admin",
        {},
        lambda v: {"name": "mass area", "level": "community", "parent_id": str(v["street_id"])},
        303,
        "",
    ),
    "admin.orgs": (
        "admin",
        {},
        lambda v: {"name": "mass org", "kind": "enterprise", "area_id": str(v["community_id"])},
        303,
        "",
    ),
    "admin.users": (
        "admin",
        {},
        lambda v: {"username": "massuser", "display_name": "Mass", "password": "long-password-1"},
        303,
        "",
    ),
    "admin.user": ("admin", {}, lambda v: {"display_name": "Renamed", "active": "y"}, 303, ""),
    "admin.add_member": (
        "admin",
        {},
        lambda v: {"username": v["stranger_name"], "role": "volunteer"},
        303,
        "",
    ),
    "admin.remove_member": ("admin", {}, lambda v: {}, 303, ""),
    "admin.add_role": (
        "admin",
        {"user_id": "stranger_id"},
        lambda v: {"role": "landlord", "area_id": str(v["community_id"])},
        303,
        "",
    ),
    "admin.remove_role": ("admin", {}, lambda v: {}, 303, ""),
    "places.new": ("landlord", {}, _site_form, 303, ""),
    "places.edit": ("landlord", {}, _site_form, 303, ""),
    "places.add_building": ("landlord", {}, lambda v: {"name": "9号楼"}, 303, ""),
    "places.add_room": (
        "landlord",
        {},
        lambda v: {"number": "909", "beds": "2", "occupants": "1"},
        303,
        "",
    ),
    "places.edit_room": (
        "landlord",
        {},
        lambda v: {"number": "101", "beds": "3", "occupants": "1"},
        303,
        "",
    ),
    "places.rotate_token": ("landlord", {}, lambda v: {}, 303, ""),
    "places.apply_association": ("landlord", {}, lambda v: {"note": "please"}, 303, ""),
    "places.decide_application": ("association", {}, lambda v: {"decision": "approve"}, 303, ""),
    "assessments.new": (
        "landlord",
        {},
        lambda v: {"month": add_months(today(), -2).strftime("%Y-%m")},
        303,
        "",
    ),
    "assessments.submit": ("landlord", {}, lambda v: {}, 303, ""),
    "assessments.decide": ("police", {}, _assessment_decision, 303, ""),
    "hazards.new": (
        "volunteer",
        {},
        lambda v: {"description": "电线老化", "severity": "high"},
        303,
        "",
    ),
    "hazards.assign": ("police", {}, lambda v: {"assignee": str(v["owner_id"])}, 303, ""),
    "hazards.fix": ("landlord", {}, lambda v: {"note": "换了电线"}, 303, ""),
    "hazards.close": ("police", {"hazard_id": "record_id"}, lambda v: {}, 303, ""),
    "hazards.reopen": (
        "police",
        {"hazard_id": "record_id"},
        lambda v: {"reason": "没修好"},
        303,
        "",
    ),
    "inspections.new": ("police", {}, lambda v: {}, 303, ""),
    "inspections.record_item": ("police", {}, lambda v: {"result": "pass"}, 303, ""),
    "inspections.complete": (
        "police",
        {},
        lambda v: {},
        422,
        "the world's inspection has unanswered required items",
    ),
    "inspections.add_incident": (
        "police",
        {},
        lambda v: {"kind": "fire", "occurred_on": today().isoformat(), "note": "冒烟"},
        303,
        "",
    ),
    "duty.new": ("coordinator", {}, _duty_form, 303, ""),
    "duty.edit": ("coordinator", {}, lambda v: {**_duty_form(v), "scope": "one"}, 303, ""),
    "duty.delete": ("coordinator", {}, lambda v: {"scope": "one"}, 303, ""),
    "duty.claim": ("volunteer", {}, lambda v: {}, 303, ""),
    "duty.wait": ("volunteer", {}, lambda v: {}, 409, "the world's duty has free places"),
    "duty.cancel": ("volunteer", {"task_id": "own_task_id"}, lambda v: {}, 303, ""),
    "duty.approve": ("coordinator", {}, lambda v: {}, 303, ""),
    "duty.reject": ("coordinator", {}, lambda v: {"reason": "没写清楚"}, 303, ""),
    "duty.check_in": ("volunteer", {"claim_id": "own_claim_id"}, lambda v: {}, 303, ""),
    "duty.visit": (
        "volunteer",
        {"claim_id": "on_duty_claim_id", "checkpoint_id": "on_duty_checkpoint_id"},
        lambda v: {"lat": "30.1", "lon": "120.2"},
        303,
        "",
    ),
    "duty.check_out": (
        "volunteer",
        {"claim_id": "on_duty_claim_id"},
        lambda v: {"report": "一切正常"},
        303,
        "",
    ),
    "duty.track_consent": (
        "volunteer",
        {"claim_id": "on_duty_claim_id"},
        lambda v: {"consent": "yes"},
        303,
        "",
    ),
    "duty.track": (
        "volunteer",
        {"claim_id": "on_duty_claim_id"},
        lambda v: {
            "points": '[{"t": 1765000000000, "lat": 30.1, "lon": 120.2, "acc": 5}]',
            "idempotency_key": "sweep-track-batch",
        },
        409,
        "the world's on-duty claim was never asked to record its route (no consent)",
    ),
    "notifications.follow": ("volunteer", {}, lambda v: {}, 303, ""),
    "notifications.read": ("volunteer", {}, lambda v: {}, 303, ""),
    "notifications.read_all": ("volunteer", {}, lambda v: {}, 303, ""),
    "residents.new": (
        "landlord",
        {},
        lambda v: {**_person(v, 61), "room_id": str(v["room_id"]), "hometown": "湖南"},
        303,
        "",
    ),
    "residents.declare": (
        "volunteer",
        {},
        lambda v: {**_person(v, 62), "room_id": str(v["room_id"]), "consent": "y"},
        303,
        "",
    ),
    "residents.verify": ("police", {}, lambda v: {}, 303, ""),
    "residents.reject": ("police", {}, lambda v: {"reason": "房间不对"}, 303, ""),
    "residents.reveal": ("police", {}, lambda v: {}, 200, ""),
    "residents.move_out": (
        "police",
        {},
        lambda v: {"move_out": today().isoformat()},
        409,
        "the world's residence is pending: not living there yet, nothing to end",
    ),
    "residents.resubmit": (
        "landlord",
        {},
        lambda v: {"name": "李四", "move_in": today().isoformat()},
        409,
        "the world's residence is pending, not sent back",
    ),
    "residents.verify_many": ("police", {}, lambda v: {"ids": str(v["residence_id"])}, 303, ""),
    "residents.upload": ("landlord", {}, _csv, 303, ""),
    "residents.import_step": ("landlord", {}, lambda v: {}, 303, ""),
    "residents.issue_card": (
        "police",
        {},
        lambda v: {
            "target": f"user-{v['owner_id']}",
            "month": today().strftime("%Y-%m"),
            "reason": "迟报",
        },
        303,
        "",
    ),
    "outreach.new": ("police", {}, _event_form, 303, ""),
    "outreach.close": (
        "police",
        {},
        lambda v: {"hand_count": "3", "materials": "10"},
        409,
        "the world's event starts in ten minutes: not held yet",
    ),
    "outreach.cancel": ("police", {}, lambda v: {}, 303, ""),
    "outreach.edit": ("police", {}, _event_move, 303, ""),
    "outreach.signin": ("volunteer", {}, lambda v: {"nonce": "sweep-nonce-0123456789"}, 303, ""),
    "outreach.answer": (
        "volunteer",
        {},
        lambda v: {f"q{i}": "a" for i in range(1, 6)},
        403,
        "the sweep's client has no sign-in cookie: only a phone that signed in answers",
    ),
    "outreach.new_request": (
        "enterprise",
        {},
        lambda v: {
            "kind": "anti_fraud",
            "organization_id": str(v["enterprise_id"]),
            "site_id": "0",
            "preferred_from": (today() + timedelta(days=2)).isoformat(),
            "preferred_to": (today() + timedelta(days=9)).isoformat(),
            "audience": "50",
        },
        303,
        "",
    ),
    "outreach.decline": ("police", {}, lambda v: {"reason": "本月已排满"}, 303, ""),
    "outreach.corners": (
        "police",
        {},
        lambda v: {
            "name": "心防体验区",
            "area_id": str(v["community_id"]),
            "place": "服务中心",
            "opens": "09:00",
            "closes": "17:00",
            "capacity": "30",
        },
        303,
        "",
    ),
    "reviews.decide": ("police", {}, lambda v: {"decision": "approve"}, 303, ""),
    "reviews.bulk": ("police", {}, lambda v: {"items": f"hazard-{v['record_id']}"}, 303, ""),
}

# Mediation: the world's case (tests/access_rules/mediation.py) ended in an agreement
# whose follow-up is not recorded yet, with a session booked tomorrow; the requesting
# mediator leads the team.
MEDIATION_CONCLUDED = "the world's case is concluded already"
CASES.update(
    {
        "mediation.new": ("police", {}, _mediation_case_form, 303, ""),
        "mediation.accept": (
            "mediator",
            {},
            lambda v: {"lead_mediator_id": str(v["mediator_user_id"])},
            409,
            MEDIATION_CONCLUDED,
        ),
        "mediation.objection": (
            "police",
            {},
            lambda v: {
                "party_id": str(v["party_id"]),
                "mediator_id": str(v["mediator_user_id"]),
                "reason": "调解员是对方亲戚",
            },
            409,
            MEDIATION_CONCLUDED,
        ),
        "mediation.book": (
            "mediator",
            {},
            lambda v: {
                "room_id": str(v["mediation_room_id"]),
                "mediator_id": str(v["mediator_user_id"]),
                "starts_at": f"{(today() + timedelta(days=3)).isoformat()}T10:00",
                "ends_at": f"{(today() + timedelta(days=3)).isoformat()}T11:00",
            },
            409,
            MEDIATION_CONCLUDED,
        ),
        "mediation.cancel_session": ("mediator", {}, lambda v: {}, 303, ""),
        "mediation.record_session": (
            "mediator",
            {},
            lambda v: {"notes": "双方陈述"},
            422,
            "the world's session starts tomorrow: recorded once it started",
        ),
        "mediation.outcome": (
            "mediator",
            {},
            lambda v: {"outcome": "withdrawn", "reason": "撤回"},
            409,
            MEDIATION_CONCLUDED,
        ),
        "mediation.followup": (
            "mediator",
            {},
            lambda v: {"performed": "y", "satisfied": "y", "note": "已履行"},
            303,
            "",
        ),
        "mediation.close": (
            "mediator",
            {},
            lambda v: {},
            422,
            "the world's agreement has no follow-up yet: closed after one",
        ),
        "mediation.reveal": ("police", {}, lambda v: {}, 200, ""),
        "mediation.new_room": ("police", {}, _mediation_room_form, 303, ""),
        "mediation.edit_room": ("police", {}, _mediation_room_form, 303, ""),
        "mediation.add_member": (
            "police",
            {},
            lambda v: {
                "username": v["stranger_name"],
                "position": "mediator",
                "category": "social",
            },
            303,
            "",
        ),
    }
)

# Form POST routes with no row: nothing in them could be assigned.
NOT_FORMS = {
    "accounts.login": "answers with a session, assigns nothing (tested in tests/accounts)",
    "accounts.logout": "ends the session; no form fields",
}
