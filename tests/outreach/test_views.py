"""Outreach pages: publishing, the anonymous sign-in (window, dedup, quiz), the
organiser's live count, closing with photos, visit requests through the queue,
coverage against hand-computed figures."""

from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest
from PIL import Image
from sqlalchemy import func, select

from community.core.figures import build_figure
from community.core.timeutil import to_utc, today, utcnow
from community.dashboard import queries as dashboard_queries
from community.extensions import db
from community.outreach.models import OutreachEvent, OutreachSignin, VisitRequest
from community.residents import queries as resident_queries
from tests.conftest import PASSWORD, csrf_from, logged_in
from tests.factories.accounts import make_area_tree, make_org, make_role_user
from tests.factories.outreach import make_event, make_request
from tests.factories.places import make_building, make_room, make_site
from tests.factories.residents import make_residence


@pytest.fixture
def w(app):
    with app.app_context():
        s = db.session
        district, street, community = make_area_tree(s)
        station = make_org(s, kind="police_station", area=street)
        police = make_role_user(s, "police", org=station, password=PASSWORD)
        enterprise = make_org(s, kind="enterprise", area=community, name="创客电子科技有限公司")
        hr = make_role_user(s, "enterprise", org=enterprise, password=PASSWORD)
        volunteer = make_role_user(s, "volunteer", area=community, password=PASSWORD)
        event = make_event(s, area=community, organiser=station, starts_in=timedelta(minutes=10))
        s.commit()
        return SimpleNamespace(
            district_id=district.id,
            community_id=community.id,
            station_id=station.id,
            police=police.username,
            hr=hr.username,
            volunteer=volunteer.username,
            enterprise_id=enterprise.id,
            event_id=event.id,
            token=event.signin_token,
        )


def _signins(app, event_id):
    with app.app_context():
        return db.session.scalar(
            select(func.count())
            .select_from(OutreachSignin)
            .where(OutreachSignin.event_id == event_id)
        )


def _form(client, path):
    html = client.get(path).get_data(as_text=True)
    nonce = re.search(r'name="nonce"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="nonce"', html
    )
    return csrf_from(html), (nonce.group(1) if nonce else None), html


# --- publishing -----------------------------------------------------------------------


def test_police_publish_from_the_form_and_land_on_the_event(client, login, w, app):
    login(w.police)
    token, _n, html = _form(client, "/outreach/events/new")
    assert 'name="organiser_id"' in html
    start = datetime.now().replace(second=0, microsecond=0) + timedelta(days=3)
    data = {
        "csrf_token": token,
        "kind": "legal",
        "title": "普法进企业",
        "target": "enterprise",
        "enterprise_id": str(w.enterprise_id),
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "organiser_id": str(w.station_id),
        "planned_audience": "50",
        "staff": "0",
        "points": "10",
    }
    bad = client.post("/outreach/events/new", data=data)
    assert bad.status_code == 422
    assert "The end must come after the start." in bad.get_data(as_text=True)
    data["ends_at"] = (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    resp = client.post("/outreach/events/new", data=data)
    assert resp.status_code == 303
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "普法进企业" in page and "创客电子科技有限公司" in page and "Sign-in QR poster" in page


def test_volunteers_see_events_but_may_not_publish(client, login, w):
    login(w.volunteer)
    assert client.get("/outreach/events/new").status_code == 403
    page = client.get(f"/outreach/events/{w.event_id}")
    assert page.status_code == 200 and "signin-count" not in page.get_data(as_text=True)


def test_the_poster_carries_the_sign_in_url_as_a_qr_code(client, login, w):
    login(w.police)
    html = client.get(f"/outreach/events/{w.event_id}/poster").get_data(as_text=True)
    assert f"/outreach/s/{w.token}" in html and "<svg" in html


# --- the anonymous sign-in --------------------------------------------------------------


def test_a_phone_signs_in_once_and_a_replay_counts_nothing(client, app, w):
    path = f"/outreach/s/{w.token}"
    token, nonce, html = _form(client, path)
    assert nonce and "ID number" in html
    resp = client.post(path, data={"csrf_token": token, "nonce": nonce, "name": "张三"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"{path}/done")
    assert "outreach_device=" in resp.headers["Set-Cookie"]
    done = client.get(f"{path}/done").get_data(as_text=True)
    assert "Signed in at" in done and "96110" in done
    # The same phone again: straight to its first sign-in, nothing counted.
    again = client.post(path, data={"csrf_token": token, "nonce": "another-nonce-123456"})
    assert again.status_code == 303 and _signins(app, w.event_id) == 1
    assert client.get(path).status_code == 303
    # The same page's nonce replayed by another client: the first one, nothing counted.
    other = app.test_client()
    token2, _n, _h = _form(other, path)
    replay = other.post(path, data={"csrf_token": token2, "nonce": nonce})
    assert replay.status_code == 303 and _signins(app, w.event_id) == 1


def test_sign_in_outside_the_window_is_410_with_the_window(client, app, w, frozen_clock):
    frozen_clock(utcnow() + timedelta(hours=6), utc=True)
    resp = client.get(f"/outreach/s/{w.token}")
    assert resp.status_code == 410
    assert "Sign-in is open from" in resp.get_data(as_text=True)
    assert _signins(app, w.event_id) == 0


def test_an_id_number_as_name_is_422_and_counts_nothing(client, app, w):
    path = f"/outreach/s/{w.token}"
    token, nonce, _h = _form(client, path)
    resp = client.post(
        path, data={"csrf_token": token, "nonce": nonce, "name": "330302199001011234"}
    )
    assert resp.status_code == 422 and _signins(app, w.event_id) == 0


def _answer(client, path, answers):
    token = csrf_from(client.get(f"{path}/done").get_data(as_text=True))
    data = {"csrf_token": token, **{f"q{i}": a for i, a in enumerate(answers, 1)}}
    return client.post(f"{path}/quiz", data=data)


def test_the_quiz_is_counted_once_and_the_organiser_sees_the_share(client, app, w, login):
    path = f"/outreach/s/{w.token}"
    token, nonce, _h = _form(client, path)
    client.post(path, data={"csrf_token": token, "nonce": nonce})
    assert _answer(client, path, ["b", "a", "b"]).status_code == 422
    first = _answer(client, path, ["b", "a", "b", "a", "a"])  # 5 right
    assert first.status_code == 303
    second = _answer(client, path, ["a", "a", "a", "a", "a"])
    assert second.status_code == 409
    assert "You answered the quiz already: 5 of 5 right." in second.get_data(as_text=True)
    organiser = logged_in(app, w.police)
    live = organiser.get(f"/outreach/events/{w.event_id}/count", headers={"HX-Request": "true"})
    body = live.get_data(as_text=True)
    assert live.status_code == 200 and "<html" not in body
    assert 'data-testid="signin-count">1<' in body and "100% right answers" in body


def test_without_signing_in_there_is_no_quiz(app, w):
    other = app.test_client()
    path = f"/outreach/s/{w.token}"
    assert other.get(f"{path}/done").headers["Location"].endswith(path)
    token = csrf_from(other.get(path).get_data(as_text=True))
    answers = {f"q{i}": "a" for i in range(1, 6)}
    assert other.post(f"{path}/quiz", data={"csrf_token": token, **answers}).status_code == 403
    assert other.post(f"{path}/quiz", data={"csrf_token": token}).status_code == 422
    with app.app_context():
        answered = db.session.scalar(
            select(func.count())
            .select_from(OutreachSignin)
            .where(OutreachSignin.quiz_at.is_not(None))
        )
    assert answered == 0


def test_the_live_count_writes_nothing(client, login, w, count_queries):
    login(w.police)
    with count_queries() as q:
        resp = client.get(f"/outreach/events/{w.event_id}/count", headers={"HX-Request": "true"})
    assert resp.status_code == 200
    writes = [s for s in q.statements if s.split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
    assert writes == []


# --- closing ----------------------------------------------------------------------------


def _png(size=(20, 20)) -> io.BytesIO:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, "PNG")
    buf.seek(0)
    return buf


def test_closing_with_attendance_and_a_photo(client, login, app, w, frozen_clock):
    path = f"/outreach/s/{w.token}"
    token, nonce, _h = _form(client, path)
    client.post(path, data={"csrf_token": token, "nonce": nonce})
    frozen_clock(utcnow() + timedelta(minutes=40), utc=True)
    staff = logged_in(app, w.police)
    token = csrf_from(staff.get(f"/outreach/events/{w.event_id}").get_data(as_text=True))
    bomb = staff.post(
        f"/outreach/events/{w.event_id}/close",
        data={
            "csrf_token": token,
            "hand_count": "4",
            "materials": "30",
            "photo1": (io.BytesIO(b"not an image at all"), "x.png"),
        },
        content_type="multipart/form-data",
    )
    assert bomb.status_code == 422
    resp = staff.post(
        f"/outreach/events/{w.event_id}/close",
        data={
            "csrf_token": token,
            "hand_count": "4",
            "materials": "30",
            "notes": "顺利",
            "photo1": (_png(), "a.png"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 303
    page = staff.get(f"/outreach/events/{w.event_id}").get_data(as_text=True)
    assert "5 people (1 signed in, 4 counted by hand)" in page
    photo = staff.get(f"/outreach/events/{w.event_id}/photos/1")
    assert photo.status_code == 200 and photo.mimetype == "image/png"
    photo.close()
    assert staff.get(f"/outreach/events/{w.event_id}/photos/2").status_code == 404
    # Closed with its attendance: a late phone gets 410, the signed-in one its sign-in.
    assert app.test_client().get(path).status_code == 410
    assert client.get(path).status_code == 303


# --- visit requests through the queue -----------------------------------------------------


def test_an_enterprise_asks_and_the_police_schedule_it_from_the_queue(client, login, app, w):
    login(w.hr)
    token, _n, html = _form(client, "/outreach/requests/new")
    submission = re.search(r'name="submission_token"[^>]*value="([^"]+)"', html).group(1)
    data = {
        "csrf_token": token,
        "submission_token": submission,
        "kind": "anti_fraud",
        "organization_id": str(w.enterprise_id),
        "preferred_from": (today() - timedelta(days=1)).isoformat(),
        "preferred_to": (today() + timedelta(days=9)).isoformat(),
        "audience": "120",
    }
    past = client.post("/outreach/requests/new", data=data)
    assert past.status_code == 422 and "The date lies in the past." in past.get_data(as_text=True)
    data["preferred_from"] = (today() + timedelta(days=2)).isoformat()
    resp = client.post("/outreach/requests/new", data=data)
    assert resp.status_code == 303
    request_id = int(resp.headers["Location"].rstrip("/").split("/")[-1])
    mine = client.get("/outreach/requests/?status=waiting").get_data(as_text=True)
    assert f'id="request-row-{request_id}"' in mine
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    login(w.police)
    assert "1 visit request waiting" in client.get("/").get_data(as_text=True)
    queue = client.get("/reviews/").get_data(as_text=True)
    assert "创客电子科技有限公司" in queue and "Schedule" in queue
    form = client.get(f"/outreach/events/new?request={request_id}").get_data(as_text=True)
    assert re.search(rf'<option selected value="{w.enterprise_id}">', form)
    assert 'value="120"' in form
    token = csrf_from(form)
    start = datetime.combine(today() + timedelta(days=2), datetime.min.time()).replace(hour=9)
    resp = client.post(
        "/outreach/events/new",
        data={
            "csrf_token": token,
            "kind": "anti_fraud",
            "title": "反诈进企业",
            "target": "enterprise",
            "enterprise_id": str(w.enterprise_id),
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "organiser_id": str(w.station_id),
            "planned_audience": "120",
            "staff": "0",
            "points": "10",
            "request_id": str(request_id),
        },
    )
    assert resp.status_code == 303
    with app.app_context():
        assert db.session.get(VisitRequest, request_id).status == "scheduled"
    assert "创客电子科技有限公司" not in client.get("/reviews/").get_data(as_text=True)


def test_declining_from_the_queue_needs_a_reason(client, login, app, w):
    with app.app_context():
        org = db.session.get(
            __import__("community.accounts.models", fromlist=["Organization"]).Organization,
            w.enterprise_id,
        )
        visit_id = make_request(db.session, organization=org).id
        db.session.commit()
    login(w.police)
    token = csrf_from(client.get("/reviews/").get_data(as_text=True))
    url = f"/reviews/outreach_request/{visit_id}"
    assert client.post(url, data={"csrf_token": token, "decision": "reject"}).status_code == 422
    resp = client.post(url, data={"csrf_token": token, "decision": "reject", "reason": "日期已满"})
    assert resp.status_code == 303
    with app.app_context():
        visit = db.session.get(VisitRequest, visit_id)
        assert (visit.status, visit.reason) == ("declined", "日期已满")


# --- coverage against figures computed by hand ---------------------------------------------


@pytest.fixture
def fixed(app):
    """One community: enterprises A (5 employees registered), B (2), C (0); sites S1
    (4 rooms), S2 (1), S3 (0). Held in the last 12 months: anti-fraud at A (30
    people) and at S1 (20), legal at A (10). Not counted: fire safety at B 13 months
    ago, an anti-drug event at S2 not held (published), legal in another area."""
    with app.app_context():
        s = db.session
        district, street, community = make_area_tree(s)
        other = make_area_tree(s)[2]
        station = make_org(s, kind="police_station", area=street)
        police = make_role_user(s, "police", org=station, password=PASSWORD)
        a = make_org(s, kind="enterprise", area=community, name="A厂")
        b = make_org(s, kind="enterprise", area=community, name="B厂")
        make_org(s, kind="enterprise", area=community, name="C厂")
        sites = []
        for name, rooms in (("S1", 4), ("S2", 1), ("S3", 0)):
            site = make_site(s, area=community, name=name)
            building = make_building(s, site=site)
            for _i in range(rooms):
                make_room(s, building=building)
            sites.append(site)
        home = make_site(s, area=other, name="home")
        room = resident_queries.get_room(s, make_room(s, building=make_building(s, site=home)).id)
        for employer, n in (("A厂", 5), ("B厂", 2)):
            for _i in range(n):
                r = make_residence(s, room=room, status="verified", decider=police)
                r.employer = employer
        day = timedelta(days=1)
        make_event(
            s,
            area=community,
            organiser=station,
            target="enterprise",
            enterprise=a,
            starts_in=-60 * day,
            status="closed",
            attendance=30,
        )
        make_event(
            s,
            area=community,
            organiser=station,
            target="site",
            site=sites[0],
            starts_in=-30 * day,
            status="closed",
            attendance=20,
        )
        make_event(
            s,
            area=community,
            organiser=station,
            kind="legal",
            target="enterprise",
            enterprise=a,
            starts_in=-10 * day,
            status="closed",
            attendance=10,
        )
        make_event(
            s,
            area=community,
            organiser=station,
            kind="fire_safety",
            target="enterprise",
            enterprise=b,
            starts_in=-400 * day,
            status="closed",
            attendance=99,
        )
        make_event(
            s,
            area=community,
            organiser=station,
            kind="anti_drug",
            target="site",
            site=sites[1],
            starts_in=-5 * day,
            status="published",
        )
        make_event(s, area=other, kind="legal", starts_in=-5 * day, status="closed", attendance=7)
        s.commit()
        return SimpleNamespace(
            police=police.username,
            community_id=community.id,
            district_id=district.id,
            police_id=police.id,
        )


def _row(html, kind):
    row = re.search(rf'<tr data-kind="{kind}">(.*?)</tr>', html, re.S).group(1)
    return [
        re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    ][1:]


def test_coverage_matches_the_hand_computed_figures(client, login, fixed):
    login(fixed.police)
    html = client.get(f"/outreach/coverage?area={fixed.community_id}").get_data(as_text=True)
    assert _row(html, "anti_fraud") == ["2", "50", "1 / 3", "1 / 3"]
    assert _row(html, "legal") == ["1", "10", "1 / 3", "0 / 3"]
    assert _row(html, "fire_safety") == ["0", "0", "0 / 3", "0 / 3"]
    assert _row(html, "anti_drug") == ["0", "0", "0 / 3", "0 / 3"]
    assert _row(html, "any") == ["3", "60", "1 / 3", "1 / 3"]
    never = re.search(r'data-testid="never-enterprises">(.*?)</ul>', html, re.S).group(1)
    assert re.findall(r"<li><a [^>]+>([^<]+)</a>", never) == ["B厂", "C厂"]
    assert "2 employees registered" in never
    sites = re.search(r'data-testid="never-sites">(.*?)</ul>', html, re.S).group(1)
    assert re.findall(r"<li><a [^>]+>([^<]+)</a>", sites) == ["S2", "S3"]
    legal = client.get(f"/outreach/coverage?area={fixed.community_id}&kind=legal").get_data(
        as_text=True
    )
    sites = re.search(r'data-testid="never-sites">(.*?)</ul>', legal, re.S).group(1)
    assert re.findall(r"<li><a [^>]+>([^<]+)</a>", sites) == ["S1", "S2", "S3"]
    assert "kind=legal" in sites and "target=site" in sites


def test_coverage_figure_on_the_dashboard_with_its_csv(client, login, app, fixed):
    with app.app_context():
        from community.accounts.models import Area, User

        user = db.session.get(User, fixed.police_id)
        area = db.session.get(Area, fixed.community_id)
        figure = build_figure(
            dashboard_queries.context(db.session, user, area), "outreach-coverage"
        )
    assert figure.rows[0][1:] == [2, 50, 1, 1]
    assert figure.rows[-1][1:] == [3, 60, "1 / 3", "1 / 3"]
    login(fixed.police)
    csv = client.get(f"/dashboard/outreach-coverage.csv?area={fixed.community_id}")
    assert csv.status_code == 200 and "60" in csv.get_data(as_text=True)


def test_the_site_page_shows_the_last_visit_of_each_kind(client, login, app, fixed):
    with app.app_context():
        from community.places.models import Site

        site_id = db.session.scalar(select(Site.id).where(Site.name == "S1"))
        event = db.session.scalar(select(OutreachEvent).where(OutreachEvent.site_id == site_id))
        day = event.starts_at
    login(fixed.police)
    html = client.get(f"/sites/{site_id}").get_data(as_text=True)
    panel = re.search(r'id="panel-outreach"(.*?)</section>', html, re.S).group(1)
    assert re.sub(r"\s+", " ", panel).count("Never") == 6
    assert (
        to_utc(datetime.combine(date.today(), datetime.min.time())) and day.strftime("%Y-") in panel
    )


def test_an_overlapping_corner_visit_is_409_naming_the_booking(client, login, app, w):
    from community.outreach.models import OutreachCorner
    from tests.factories.outreach import make_corner

    with app.app_context():
        from community.accounts.models import Area

        corner = make_corner(db.session, area=db.session.get(Area, w.community_id))
        db.session.commit()
        corner_id = corner.id
    login(w.police)
    token = csrf_from(
        client.get(f"/outreach/events/new?kind=corner_visit&corner_id={corner_id}").get_data(
            as_text=True
        )
    )
    day = (today() + timedelta(days=4)).isoformat()

    def book(title, start, end):
        return client.post(
            "/outreach/events/new",
            data={
                "csrf_token": token,
                "kind": "corner_visit",
                "title": title,
                "target": "place",
                "corner_id": str(corner_id),
                "starts_at": f"{day}T{start}",
                "ends_at": f"{day}T{end}",
                "organiser_id": str(w.station_id),
                "planned_audience": "25",
                "staff": "0",
                "points": "0",
            },
        )

    assert book("第一批参观", "10:00", "11:00").status_code == 303
    resp = book("第二批参观", "10:30", "11:30")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 409
    assert "第一批参观" in page and "10:00–11:00" in page and 'name="title"' in page
    with app.app_context():
        titles = db.session.scalars(
            select(OutreachEvent.title).where(OutreachEvent.corner_id == corner_id)
        ).all()
        assert titles == ["第一批参观"] and db.session.get(OutreachCorner, corner_id)
