"""Duty pages three ways (page, htmx fragment, plain POST), the contract's status
codes, and query budgets."""

from __future__ import annotations

from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from community.accounts.models import User
from community.core.timeutil import utcnow
from community.duty.models import DutyClaim, DutyTask
from community.extensions import db
from tests.factories.accounts import make_area_tree, make_org
from tests.factories.duty import (
    first_checkpoint,
    make_claim,
    make_duty,
    make_volunteer,
)


@pytest.fixture
def area(app):
    with app.app_context():
        community = make_area_tree(db.session)[2]
        db.session.commit()
        return community.id


@pytest.fixture
def login_in(app, login):
    """login_in(role, area_id) logs in a new user holding `role` on that area."""
    from tests.conftest import PASSWORD
    from tests.factories.accounts import make_role_user

    def do(role, area_id):
        with app.app_context():
            user = make_role_user(
                db.session, role, password=PASSWORD, area=_area(db.session, area_id)
            )
            db.session.commit()
            info = {"id": user.id, "username": user.username}
        login(info["username"])
        return info

    return do


def _area(session, area_id):
    from community.accounts.models import Area

    return session.get(Area, area_id)


def _duty(app, area_id, **kw):
    with app.app_context():
        task = make_duty(db.session, area=_area(db.session, area_id), **kw)
        db.session.commit()
        return task.id


def _token(client, path="/duties/"):
    from tests.conftest import csrf_from

    return csrf_from(client.get(path).get_data(as_text=True))


def test_volunteer_sees_the_week_and_claims_in_place(client, htmx_client, login_in, app, area):
    login_in("volunteer", area)
    task_id = _duty(app, area, title="东门夜巡", capacity=2)
    page = client.get("/duties/")
    assert page.status_code == 200 and "东门夜巡" in page.get_data(as_text=True)
    token = _token(client)
    resp = htmx_client.post(f"/duties/{task_id}/claim", data={"csrf_token": token})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<html" not in body and f'id="duty-card-{task_id}"' in body
    assert '<span data-testid="places">1/2</span>' in body
    assert "duty-claimed" in resp.headers["HX-Trigger"]
    assert resp.headers.get("Vary") and "HX-Request" in resp.headers["Vary"]
    again = htmx_client.post(f"/duties/{task_id}/claim", data={"csrf_token": token})
    assert again.status_code == 409 and "already claimed" in again.get_data(as_text=True)


def test_plain_claim_redirects_and_full_duty_answers_409(client, login_in, app, area):
    with app.app_context():
        area_obj = _area(db.session, area)
        task = make_duty(db.session, area=area_obj, capacity=1)
        make_claim(db.session, task=task, volunteer=make_volunteer(db.session, area=area_obj))
        db.session.commit()
        full_id = task.id
    login_in("volunteer", area)
    free_id = _duty(app, area)
    token = _token(client)
    ok = client.post(f"/duties/{free_id}/claim", data={"csrf_token": token, "next": "/duties/"})
    assert ok.status_code == 303
    assert ok.headers["Location"].endswith(f"/duties/#duty-card-{free_id}")
    full = client.post(f"/duties/{full_id}/claim", data={"csrf_token": token})
    text = full.get_data(as_text=True)
    assert full.status_code == 409
    assert "已满" in text and 'data-testid="wait"' in text and "<html" in text
    wait = client.post(f"/duties/{full_id}/wait", data={"csrf_token": token})
    assert wait.status_code == 303
    with app.app_context():
        statuses = db.session.scalars(
            select(DutyClaim.status).where(DutyClaim.task_id == full_id).order_by(DutyClaim.id)
        ).all()
        assert statuses == ["claimed", "waiting"]


def test_claim_refusals_say_why(client, login_in, app, area):
    login_in("volunteer", area)
    later = _duty(app, area, starts_in=timedelta(days=30))
    past = _duty(app, area, starts_in=-timedelta(hours=4))
    token = _token(client)
    resp = client.post(f"/duties/{later}/claim", data={"csrf_token": token})
    assert resp.status_code == 409 and "open on" in resp.get_data(as_text=True)
    resp = client.post(f"/duties/{past}/claim", data={"csrf_token": token})
    assert resp.status_code == 409 and "started or is over" in resp.get_data(as_text=True)


def test_coordinator_publishes_with_weekly_repeat_and_bad_input_is_422(client, login_in, app, area):
    login_in("coordinator", area)
    token = _token(client, "/duties/new")
    start = (utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    end = (utcnow() + timedelta(days=3, hours=2)).strftime("%Y-%m-%dT%H:%M")
    bad = client.post(
        "/duties/new",
        data={
            "csrf_token": token,
            "title": "巡逻",
            "kind": "patrol",
            "area_id": area,
            "team_id": 0,
            "starts_at": end,
            "ends_at": start,
            "capacity": 0,
            "points": -1,
            "checkpoints": "",
            "repeat_weeks": 0,
        },
    )
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422
    for message in (
        "after the start",
        "At least one place",
        "cannot be negative",
        "at least one checkpoint",
    ):
        assert message in text
    good = client.post(
        "/duties/new",
        data={
            "csrf_token": token,
            "title": "周巡",
            "kind": "patrol",
            "area_id": area,
            "team_id": 0,
            "starts_at": start,
            "ends_at": end,
            "capacity": 4,
            "points": 8,
            "checkpoints": "东门\n西门",
            "repeat_weeks": 2,
        },
    )
    assert good.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).where(DutyTask.title == "周巡")) == 3


def test_on_duty_flow_check_in_tick_and_check_out(client, htmx_client, login_in, app, area):
    me = login_in("volunteer", area)
    task_id = _duty(app, area, starts_in=timedelta(hours=3))
    with app.app_context():
        task = db.session.get(DutyTask, task_id)
        claim = make_claim(db.session, task=task, volunteer=_user(me["id"]))
        cp_id = first_checkpoint(db.session, task).id
        db.session.commit()
        claim_id = claim.id
    token = _token(client)
    early = client.post(f"/duties/claims/{claim_id}/check-in", data={"csrf_token": token})
    assert early.status_code == 409 and "Check-in opens at" in early.get_data(as_text=True)
    with app.app_context():
        db.session.execute(
            update(DutyTask)
            .where(DutyTask.id == task_id)
            .values(starts_at=utcnow() + timedelta(minutes=5))
        )
        db.session.commit()
    ok = htmx_client.post(f"/duties/claims/{claim_id}/check-in", data={"csrf_token": token})
    assert ok.status_code == 200 and 'data-testid="tick"' in ok.get_data(as_text=True)
    tick = htmx_client.post(
        f"/duties/claims/{claim_id}/checkpoints/{cp_id}",
        data={"csrf_token": token, "lat": "30.2", "lon": "120.1"},
    )
    assert tick.status_code == 200 and 'data-testid="ticked"' in tick.get_data(as_text=True)
    empty = client.post(
        f"/duties/claims/{claim_id}/check-out", data={"csrf_token": token, "report": ""}
    )
    assert empty.status_code == 422
    out = client.post(
        f"/duties/claims/{claim_id}/check-out",
        data={
            "csrf_token": token,
            "report": "一切正常",
            "hazard_site_id": 0,
            "hazard_severity": "medium",
        },
    )
    assert out.status_code == 303
    with app.app_context():
        assert db.session.get(DutyClaim, claim_id).status == "reported"


def _user(user_id):
    from community.accounts.models import User

    return db.session.get(User, user_id)


def test_someone_elses_claim_is_404(client, login_in, app, area):
    with app.app_context():
        area_obj = _area(db.session, area)
        task = make_duty(db.session, area=area_obj)
        other = make_claim(
            db.session, task=task, volunteer=make_volunteer(db.session, area=area_obj)
        )
        cp_id = first_checkpoint(db.session, task).id
        db.session.commit()
        claim_id = other.id
    login_in("volunteer", area)
    token = _token(client)
    resp = client.post(f"/duties/claims/{claim_id}/checkpoints/{cp_id}", data={"csrf_token": token})
    assert resp.status_code == 404


def test_coordinator_decides_once_then_409(client, htmx_client, login_in, app, area):
    with app.app_context():
        area_obj = _area(db.session, area)
        task = make_duty(db.session, area=area_obj, points=7)
        claim = make_claim(
            db.session,
            task=task,
            volunteer=make_volunteer(db.session, area=area_obj),
            status="reported",
        )
        db.session.commit()
        claim_id = claim.id
    login_in("coordinator", area)
    page = client.get("/duties/reports")
    assert page.status_code == 200 and f'id="report-{claim_id}"' in page.get_data(as_text=True)
    token = _token(client, "/duties/reports")
    missing = htmx_client.post(f"/duties/claims/{claim_id}/reject", data={"csrf_token": token})
    assert missing.status_code == 422
    ok = htmx_client.post(f"/duties/claims/{claim_id}/approve", data={"csrf_token": token})
    assert ok.status_code == 200 and "duty-decided" in ok.headers["HX-Trigger"]
    again = client.post(
        f"/duties/claims/{claim_id}/reject", data={"csrf_token": token, "reason": "x"}
    )
    assert again.status_code == 409 and "already decided" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(DutyClaim, claim_id).points_awarded == 7


def test_list_query_budget_does_not_grow_with_duties(client, login_in, app, area, count_queries):
    login_in("volunteer", area)
    counts = []
    for n in (2, 12):
        for _i in range(n - (2 if counts else 0)):
            _duty(app, area, starts_in=timedelta(days=1, hours=_i))
        with count_queries() as q:
            assert client.get("/duties/").status_code == 200
        counts.append(q.count)
    assert counts[0] == counts[1] <= 12, counts


def test_mine_start_section_leaderboard_calendar_record(client, login_in, app, area):
    me = login_in("volunteer", area)
    task_id = _duty(app, area, title="消防巡查", kind="fire_check", starts_in=timedelta(days=2))
    with app.app_context():
        make_claim(db.session, task=db.session.get(DutyTask, task_id), volunteer=_user(me["id"]))
        db.session.commit()
    assert "消防巡查" in client.get("/duties/mine").get_data(as_text=True)
    assert "消防巡查" in client.get("/").get_data(as_text=True)
    assert "消防巡查" in client.get("/duties/calendar").get_data(as_text=True)
    assert client.get("/duties/leaderboard?by=team").status_code == 200
    assert client.get(f"/duties/volunteers/{me['id']}").status_code == 200


def test_each_fragment_comes_alone_with_its_region_id(htmx_client, client, login_in, app, area):
    login_in("coordinator", area)
    task_id = _duty(app, area, title="片段")
    with app.app_context():
        task = db.session.get(DutyTask, task_id)
        claim = make_claim(
            db.session,
            task=task,
            volunteer=make_volunteer(db.session, area=_area(db.session, area)),
            status="reported",
        )
        db.session.commit()
        claim_id, volunteer_id = claim.id, claim.volunteer_id
    expected = {
        "/duties/": 'id="duty-list"',
        f"/duties/{task_id}": f'id="duty-card-{task_id}"',
        "/duties/calendar": 'id="duty-calendar"',
        "/duties/leaderboard": 'id="leaderboard"',
        "/duties/reports": 'id="report-list"',
        f"/duties/claims/{claim_id}": f'id="on-duty-{claim_id}"',
        f"/duties/volunteers/{volunteer_id}": 'id="duty-record"',
    }
    for path, region in expected.items():
        resp = htmx_client.get(path)
        body = resp.get_data(as_text=True).lstrip()
        assert resp.status_code == 200, path
        assert "<html" not in body and body.startswith("<") and region in body.split(">", 1)[0], (
            path,
            body[:120],
        )
        assert "HX-Request" in resp.headers.get("Vary", "")


def test_volunteer_mine_fragment_and_query_budget(
    htmx_client, client, login_in, app, area, count_queries
):
    me = login_in("volunteer", area)
    budgets = []
    for n in (1, 6):
        for _i in range(n - (1 if budgets else 0)):
            task_id = _duty(app, area, starts_in=timedelta(days=1, hours=3 * len(budgets) + _i))
            with app.app_context():
                make_claim(
                    db.session, task=db.session.get(DutyTask, task_id), volunteer=_user(me["id"])
                )
                db.session.commit()
        with count_queries() as q:
            resp = htmx_client.get("/duties/mine")
        budgets.append(q.count)
        assert resp.get_data(as_text=True).lstrip().startswith('<section id="my-duties"')
    assert budgets[0] == budgets[1] <= 8, budgets


def test_check_out_reports_a_hazard_with_photo_at_a_route_site(
    client, login_in, app, area, monkeypatch, tmp_path
):
    from io import BytesIO

    from community.hazards.models import Hazard
    from tests.factories.hazards import image_bytes
    from tests.factories.places import make_site

    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path / "uploads"))
    me = login_in("volunteer", area)
    with app.app_context():
        site = make_site(db.session, area=_area(db.session, area), name="西村12号")
        db.session.commit()
        site_id = site.id
    task_id = _duty(app, area, starts_in=timedelta(minutes=5), checkpoints="西村12号\n路口")
    with app.app_context():
        claim = make_claim(
            db.session,
            task=db.session.get(DutyTask, task_id),
            volunteer=_user(me["id"]),
            status="on_duty",
            checked_in_at=utcnow(),
        )
        db.session.commit()
        claim_id = claim.id
    page = client.get(f"/duties/claims/{claim_id}").get_data(as_text=True)
    assert f'<option value="{site_id}">西村12号</option>' in page
    token = _token(client, f"/duties/claims/{claim_id}")
    resp = client.post(
        f"/duties/claims/{claim_id}/check-out",
        data={
            "csrf_token": token,
            "report": "发现隐患",
            "hazard_description": "楼道电动车充电",
            "hazard_severity": "high",
            "hazard_site_id": str(site_id),
            "hazard_photo": (BytesIO(image_bytes()), "p.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 303
    with app.app_context():
        hazard = db.session.scalar(select(Hazard).where(Hazard.site_id == site_id))
        assert hazard.description == "楼道电动车充电" and hazard.photo
        assert hazard.reported_by_id == me["id"]


def test_close_duties_command_is_safe_to_run_twice(app, area):
    with app.app_context():
        task = make_duty(db.session, area=_area(db.session, area), starts_in=-timedelta(hours=5))
        make_claim(
            db.session,
            task=task,
            volunteer=make_volunteer(db.session, area=_area(db.session, area)),
        )
        db.session.commit()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["close-duties"])
    second = runner.invoke(args=["close-duties"])
    assert "no-shows: 1; duties done: 1" in first.output
    assert "no-shows: 0; duties done: 0" in second.output


def test_report_list_writes_nothing_closing_is_the_commands_job(client, login_in, app, area):
    """GET /duties/reports only reads: an ended duty nobody checked into stays as it
    is until `flask close-duties` (scheduled) makes the claim a no-show."""
    with app.app_context():
        task = make_duty(db.session, area=_area(db.session, area), starts_in=-timedelta(hours=5))
        claim = make_claim(
            db.session,
            task=task,
            volunteer=make_volunteer(db.session, area=_area(db.session, area)),
        )
        db.session.commit()
        task_id, claim_id = task.id, claim.id
    login_in("coordinator", area)
    assert client.get("/duties/reports").status_code == 200
    with app.app_context():
        assert db.session.get(DutyClaim, claim_id).status == "claimed"
        assert db.session.get(DutyTask, task_id).status == "published"
    assert "no-shows: 1" in app.test_cli_runner().invoke(args=["close-duties"]).output
    with app.app_context():
        assert db.session.get(DutyClaim, claim_id).status == "no_show"


def test_leaderboard_sums_points_per_volunteer_and_team(client, login_in, app, area):
    login_in("coordinator", area)
    with app.app_context():
        community = _area(db.session, area)
        team = make_org(db.session, kind="volunteer_team", area=community, name="治安巡防队")
        star = make_volunteer(db.session, team=team)
        star.display_name = "巡防之星"
        task = make_duty(db.session, area=community, points=9, starts_in=timedelta(hours=1))
        task.starts_at = utcnow().replace(day=1, hour=12) if utcnow().day > 1 else utcnow()
        claim = make_claim(
            db.session,
            task=task,
            volunteer=star,
            status="approved",
            checked_in_at=utcnow() - timedelta(hours=2),
        )
        claim.points_awarded = 9
        db.session.commit()
        task_id = task.id
    from community.core.timeutil import to_local

    with app.app_context():
        month = to_local(db.session.get(DutyTask, task_id).starts_at).strftime("%Y-%m")
    people = client.get(f"/duties/leaderboard?month={month}").get_data(as_text=True)
    assert "巡防之星" in people and ">9<" in people
    teams = client.get(f"/duties/leaderboard?month={month}&by=team&area_id={area}")
    assert "治安巡防队" in teams.get_data(as_text=True)


def test_the_card_offers_cancel_only_while_cancelling_is_allowed(client, login_in, app, area):
    login_in("volunteer", area)
    soon = _duty(app, area, title="马上开始", starts_in=timedelta(hours=5))
    later = _duty(app, area, title="后天巡逻", starts_in=timedelta(days=2))
    token = _token(client)
    for task_id in (soon, later):
        assert (
            client.post(f"/duties/{task_id}/claim", data={"csrf_token": token}).status_code == 303
        )
    soon_card = client.get(f"/duties/{soon}").get_data(as_text=True)
    assert 'data-testid="cancel"' not in soon_card
    assert 'data-testid="cancel-closed"' in soon_card and "24 hours" in soon_card
    # What the card does not offer, the service refuses anyway.
    refused = client.post(f"/duties/{soon}/cancel", data={"csrf_token": token})
    assert refused.status_code == 409
    later_card = client.get(f"/duties/{later}").get_data(as_text=True)
    assert 'data-testid="cancel"' in later_card and 'data-testid="cancel-closed"' not in later_card


def _local(app, utc):
    """A stored UTC time as the community's wall-clock time."""
    zone = ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])
    return utc.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)


def _set_locale(client, locale):
    with client.session_transaction() as sess:
        sess["locale"] = locale


def _card_of(page: str, task_id: int) -> str:
    start = page.index(f'id="duty-card-{task_id}"')
    return page[start : page.index("</article>", start)]


def test_the_card_says_what_is_true_before_the_tap(client, login_in, app, area):
    me = login_in("volunteer", area)
    with app.app_context():
        area_obj = _area(db.session, area)
        later = make_duty(db.session, area=area_obj, starts_in=timedelta(days=9))
        started = make_duty(db.session, area=area_obj, starts_in=-timedelta(minutes=30))
        full = make_duty(db.session, area=area_obj, capacity=1)
        make_claim(db.session, task=full, volunteer=make_volunteer(db.session, area=area_obj))
        mine = make_duty(db.session, area=area_obj, starts_in=timedelta(days=3))
        make_claim(db.session, task=mine, volunteer=db.session.get(User, me["id"]))
        free = make_duty(db.session, area=area_obj, starts_in=timedelta(days=4))
        db.session.commit()
        opens = _local(app, later.starts_at - timedelta(days=7))
        later_day = _local(app, later.starts_at).date().isoformat()
        ids = {
            "later": later.id,
            "started": started.id,
            "full": full.id,
            "mine": mine.id,
            "free": free.id,
        }
    cards = {
        k: _card_of(client.get(f"/duties/{v}").get_data(as_text=True), v) for k, v in ids.items()
    }
    for name in ("later", "started", "full", "mine"):
        assert 'data-testid="claim"' not in cards[name], name
    assert 'data-testid="claim"' in cards["free"]
    assert f"Claims open on {opens:%b} {opens.day}, {opens:%H:%M}" in cards["later"]
    assert ">Started<" in cards["started"]
    assert "Full · waiting list open" in cards["full"] and 'data-testid="wait"' in cards["full"]
    assert 'data-testid="my-claim"><mark>Claimed</mark>' in cards["mine"]
    # The week list shows the same states as the duty page.
    week = client.get(f"/duties/?day={later_day}")
    assert "Claims open on" in _card_of(week.get_data(as_text=True), ids["later"])
    _set_locale(client, "zh_Hans_CN")
    later_zh = _card_of(client.get(f"/duties/{ids['later']}").get_data(as_text=True), ids["later"])
    assert f"将于 {opens.month}月{opens.day}日 {opens:%H:%M} 开放认领" in later_zh
    started_zh = _card_of(
        client.get(f"/duties/{ids['started']}").get_data(as_text=True), ids["started"]
    )
    assert "已开始" in started_zh and "认领</button>" not in started_zh
    full_zh = _card_of(client.get(f"/duties/{ids['full']}").get_data(as_text=True), ids["full"])
    assert "已满 · 可排队" in full_zh
    mine_zh = _card_of(client.get(f"/duties/{ids['mine']}").get_data(as_text=True), ids["mine"])
    assert "<mark>已认领</mark>" in mine_zh


def test_a_plain_claim_returns_to_its_card_in_the_list_it_came_from(client, login_in, app, area):
    login_in("volunteer", area)
    task_id = _duty(app, area, starts_in=timedelta(days=2))
    token = _token(client)
    came_from = "/duties/?kind=patrol&week=2026-12-07"
    for action in ("claim", "cancel"):
        resp = client.post(
            f"/duties/{task_id}/{action}", data={"csrf_token": token, "next": came_from}
        )
        assert resp.status_code == 303
        assert resp.headers["Location"] == f"{came_from}#duty-card-{task_id}"
    # From the duty page itself (no list to return to): its own card.
    resp = client.post(f"/duties/{task_id}/claim", data={"csrf_token": token})
    assert resp.status_code == 303
    assert resp.headers["Location"] == f"/duties/{task_id}#duty-card-{task_id}"


def test_start_page_lists_only_duties_the_volunteer_can_claim_now(
    client, login_in, app, area, monkeypatch
):
    me = login_in("volunteer", area)
    # Claims open 3 days ahead here, so the start page's week holds a duty not open yet.
    monkeypatch.setitem(app.config, "DUTY_CLAIM_OPENS_DAYS", 3)
    with app.app_context():
        area_obj = _area(db.session, area)
        volunteer = db.session.get(User, me["id"])
        tasks = {}
        for name, kw in {
            "可认领任务": {"starts_in": timedelta(days=2)},
            "未开放任务": {"starts_in": timedelta(days=4)},
            "已开始任务": {"starts_in": -timedelta(minutes=20)},
            "已满任务": {"capacity": 1},
            "已认领任务": {"starts_in": timedelta(days=1)},
            "时间冲突任务": {"starts_in": timedelta(days=1, minutes=30)},
        }.items():
            tasks[name] = make_duty(db.session, area=area_obj, title=name, **kw)
        other = make_volunteer(db.session, area=area_obj)
        make_claim(db.session, task=tasks["已满任务"], volunteer=other)
        make_claim(db.session, task=tasks["已认领任务"], volunteer=volunteer)
        db.session.commit()
    page = client.get("/").get_data(as_text=True)
    section = page[page.index('id="start-duty"') :]
    nearby = section[section.index("Open duties nearby") :]
    assert "可认领任务" in nearby
    for title in ("未开放任务", "已开始任务", "已满任务", "已认领任务", "时间冲突任务"):
        assert title not in nearby, title


def test_claim_page_leads_back_to_a_page_its_reader_may_open(client, login_in, app, area):
    """A coordinator has no 'my duties' (403): their way back is the duty itself."""
    with app.app_context():
        area_obj = _area(db.session, area)
        task = make_duty(db.session, area=area_obj, title="夜巡回看")
        claim = make_claim(
            db.session, task=task, volunteer=make_volunteer(db.session, area=area_obj)
        )
        db.session.commit()
        claim_id, task_id = claim.id, task.id
    login_in("coordinator", area)
    html = client.get(f"/duties/claims/{claim_id}").get_data(as_text=True)
    assert f'href="/duties/{task_id}">← 夜巡回看' in html
    assert client.get("/duties/mine").status_code == 403
