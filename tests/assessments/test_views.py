"""Star assessment pages: start, show, submit and decide (full page, htmx fragment,
plain POST), scope and permissions, the list with its query budget, the site panel."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from flask import render_template
from sqlalchemy import func, select

from community.accounts.models import User
from community.assessments import queries as assessments_queries
from community.assessments import services as svc
from community.assessments.criteria import add_months
from community.assessments.forms import STATUS_LABELS, StartAssessmentForm, decision_form
from community.assessments.models import Assessment
from community.core.forms import EmptyForm
from community.core.htmx import render_block
from community.core.models import AuditEvent
from community.core.timeutil import today
from community.extensions import db
from community.places.models import Site
from tests.conftest import PASSWORD, csrf_from
from tests.factories.accounts import make_area_tree, make_org, make_role_user
from tests.factories.assessments import make_assessment
from tests.factories.places import make_site

LAST_MONTH = add_months(today(), -1)
APPROVE = {
    "decision": "approve",
    "manual_fire_safety": "10",
    "manual_order_hygiene": "5",
    "manual_cooperation": "10",
}


@pytest.fixture
def area(app):
    with app.app_context():
        district, street, community = make_area_tree(db.session)
        db.session.commit()
        return {"community": community.id, "street": street.id}


def _community(session, area):
    from community.accounts.models import Area

    return session.get(Area, area["community"])


def _site(session, area, **kw) -> Site:
    site = make_site(session, area=_community(session, area), **kw)
    session.commit()
    return site


def _log_in(login, session, role, **kw) -> User:
    """A user made in the test's session (not login_as's own), logged in by the form."""
    user = make_role_user(session, role, password=PASSWORD, **kw)
    session.commit()
    login(user.username)
    return user


def _token(client, path="/"):
    return csrf_from(client.get(path).get_data(as_text=True))


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def landlord_site(client, login, session, area):
    """Logged in as the site's landlord."""
    me = _log_in(login, session, "landlord", area=_community(session, area))
    site = _site(session, area, landlord=me, name="幸福公寓")
    return site


def _submitted(session, site, month=LAST_MONTH):
    a = make_assessment(session, site=site, month=month, status="submitted")
    session.commit()
    return a


def _as_police(login, session, area):
    return _log_in(login, session, "police", area=_community(session, area))


# --- start ------------------------------------------------------------------------


def test_start_page_offers_the_previous_month(client, landlord_site):
    resp = client.get(f"/sites/{landlord_site.id}/assessments")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'type="month"' in html
    assert f'value="{LAST_MONTH.strftime("%Y-%m")}"' in html


def test_landlord_starts_an_assessment_and_lands_on_its_breakdown(client, landlord_site, session):
    landlord_site.admitted_on = date(2000, 1, 1)
    session.commit()
    resp = client.post(
        f"/sites/{landlord_site.id}/assessments",
        data={"month": LAST_MONTH.strftime("%Y-%m"), "csrf_token": _token(client)},
    )
    assert resp.status_code == 303
    a = session.scalar(select(Assessment).where(Assessment.site_id == landlord_site.id))
    assert resp.headers["Location"].endswith(f"/assessments/{a.id}")
    assert a.status == "draft" and a.month == LAST_MONTH
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "幸福公寓" in page
    assert 'data-criterion="admission"' in page and "25 / 25" in page
    assert 'data-manual="fire_safety"' in page
    assert "/submit" in page


def test_start_without_a_month_takes_the_previous_one(client, landlord_site, session):
    resp = client.post(
        f"/sites/{landlord_site.id}/assessments", data={"csrf_token": _token(client)}
    )
    assert resp.status_code == 303
    assert session.scalar(select(Assessment.month)) == LAST_MONTH


@pytest.mark.parametrize("month", ["2999-01", "not-a-month", "2025-13", "0001-01", "1999-12"])
def test_start_with_a_future_or_invalid_month_is_422(client, landlord_site, month):
    resp = client.post(
        f"/sites/{landlord_site.id}/assessments",
        data={"month": month, "csrf_token": _token(client)},
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'aria-invalid="true"' in html
    assert _count(Assessment) == 0


def test_starting_the_same_month_twice_opens_the_existing_one(client, landlord_site):
    data = {"month": LAST_MONTH.strftime("%Y-%m"), "csrf_token": _token(client)}
    first = client.post(f"/sites/{landlord_site.id}/assessments", data=data)
    second = client.post(f"/sites/{landlord_site.id}/assessments", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert "already exists" in client.get(second.headers["Location"]).get_data(as_text=True)
    assert _count(Assessment) == 1


def test_double_submitted_start_form_creates_one_assessment(client, landlord_site):
    html = client.get(f"/sites/{landlord_site.id}/assessments").get_data(as_text=True)
    token = re.search(r'name="submission_token" type="hidden" value="([^"]+)"', html).group(1)
    data = {"month": "", "csrf_token": csrf_from(html), "submission_token": token}
    first = client.post(f"/sites/{landlord_site.id}/assessments", data=data)
    second = client.post(f"/sites/{landlord_site.id}/assessments", data=data)
    assert first.status_code == second.status_code == 303
    assert _count(Assessment) == 1


def test_starting_an_approved_month_is_422_on_the_month_field(client, landlord_site, session):
    make_assessment(
        session, site=landlord_site, month=LAST_MONTH, status="approved", score=90, stars=5
    )
    session.commit()
    url = f"/sites/{landlord_site.id}/assessments"
    month = LAST_MONTH.strftime("%Y-%m")
    resp = client.post(url, data={"csrf_token": _token(client), "month": month})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    assert "already approved" in body
    assert re.search(r'id="month"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="month"', body)
    # Without a month: every month up to the last one is assessed, said on the field.
    resp = client.post(url, data={"csrf_token": _token(client)})
    assert resp.status_code == 422
    assert "assessed already" in resp.get_data(as_text=True)


def test_start_form_defaults_to_the_first_month_without_an_assessment(
    client, landlord_site, session
):
    """Never a month already approved, never the current unfinished month; the hint
    says the same month as the field."""
    url = f"/sites/{landlord_site.id}/assessments"
    body = client.get(url).get_data(as_text=True)
    assert f'value="{LAST_MONTH.strftime("%Y-%m")}"' in body  # none yet: the last month
    three_back = add_months(LAST_MONTH, -3)
    make_assessment(session, site=landlord_site, month=three_back, status="approved", stars=4)
    session.commit()
    body = client.get(url).get_data(as_text=True)
    expected = add_months(three_back, 1).strftime("%Y-%m")
    assert f'value="{expected}"' in body
    assert f'data-default-month="{expected}"' in body
    make_assessment(session, site=landlord_site, month=LAST_MONTH, status="approved", stars=4)
    session.commit()
    body = client.get(url).get_data(as_text=True)
    this_month = today().strftime("%Y-%m")
    assert f'value="{this_month}"' not in body
    assert "Every month up to" in body


def test_property_manager_of_the_company_may_start(client, login, session, area):
    company = make_org(session, kind="property_company", area=_community(session, area))
    session.commit()
    _log_in(login, session, "property_manager", org=company)
    site = _site(session, area, company=company)
    resp = client.post(f"/sites/{site.id}/assessments", data={"csrf_token": _token(client)})
    assert resp.status_code == 303


# --- scope and permissions --------------------------------------------------------------


def test_landlord_of_another_site_gets_404(client, login, session, area):
    other_owner = make_role_user(session, "landlord", area=_community(session, area))
    site = _site(session, area, landlord=other_owner)
    a = _submitted(session, site)
    _log_in(login, session, "landlord", area=_community(session, area))
    token = _token(client)
    assert client.get(f"/assessments/{a.id}").status_code == 404
    assert client.get(f"/sites/{site.id}/assessments").status_code == 404
    assert client.post(f"/assessments/{a.id}/submit", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/assessments/{a.id}/decide", data={"csrf_token": token}).status_code == 404
    assert "幸福" not in client.get("/assessments/").get_data(as_text=True)


def test_volunteer_of_the_area_sees_but_may_not_act(client, login, session, area):
    site = _site(session, area, name="志愿者看到的房子")
    a = _submitted(session, site)
    _log_in(login, session, "volunteer", area=_community(session, area))
    token = _token(client)
    assert client.get(f"/assessments/{a.id}").status_code == 200
    assert (
        client.post(f"/sites/{site.id}/assessments", data={"csrf_token": token}).status_code == 403
    )
    assert client.post(f"/assessments/{a.id}/submit", data={"csrf_token": token}).status_code == 403
    resp = client.post(f"/assessments/{a.id}/decide", data={**APPROVE, "csrf_token": token})
    assert resp.status_code == 403
    assert session.get(Assessment, a.id).status == "submitted"


def test_ids_beyond_the_integer_range_answer_404(client, landlord_site):
    big = 2**31
    token = _token(client)
    assert client.get(f"/assessments/{big}").status_code == 404
    assert client.post(f"/assessments/{big}/submit", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/assessments/{big}/decide", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/sites/{big}/assessments", data={"csrf_token": token}).status_code == 404


def test_volunteer_of_another_area_gets_404(client, login, session, area):
    a = _submitted(session, _site(session, area))
    _log_in(login, session, "volunteer")  # on a new area tree
    assert client.get(f"/assessments/{a.id}").status_code == 404


def test_association_officer_may_see_but_not_decide(client, login, session, area):
    association = make_org(session, kind="landlord_association", area=_community(session, area))
    session.commit()
    site = _site(session, area, association=association)
    a = _submitted(session, site)
    _log_in(login, session, "association", org=association)
    page = client.get(f"/assessments/{a.id}")
    assert page.status_code == 200
    assert "/decide" not in page.get_data(as_text=True)
    resp = client.post(
        f"/assessments/{a.id}/decide", data={**APPROVE, "csrf_token": _token(client)}
    )
    assert resp.status_code == 403


def test_police_of_another_area_gets_404(client, login, session, area):
    a = _submitted(session, _site(session, area))
    _log_in(login, session, "police")
    resp = client.post(
        f"/assessments/{a.id}/decide", data={**APPROVE, "csrf_token": _token(client)}
    )
    assert resp.status_code == 404


# --- submit -----------------------------------------------------------------------------


def test_submit_in_place_with_htmx(client, htmx_client, landlord_site, session):
    a = make_assessment(session, site=landlord_site, month=LAST_MONTH, status="draft")
    session.commit()
    resp = htmx_client.post(f"/assessments/{a.id}/submit", data={"csrf_token": _token(client)})
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert "<html" not in body
    assert body.lstrip().startswith(f'<article id="assessment-{a.id}"')
    assert 'data-status="submitted"' in body
    assert resp.headers["HX-Trigger"] == "assessment-submitted"
    assert "HX-Request" in resp.headers["Vary"]
    db.session.expire_all()
    assert session.get(Assessment, a.id).status == "submitted"


def test_submit_without_javascript_redirects(client, landlord_site, session):
    a = make_assessment(session, site=landlord_site, month=LAST_MONTH, status="rejected")
    session.commit()
    resp = client.post(f"/assessments/{a.id}/submit", data={"csrf_token": _token(client)})
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/assessments/{a.id}")
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "submitted to the police liaison" in page


def test_submitting_twice_keeps_one_submission(client, landlord_site, session):
    a = make_assessment(session, site=landlord_site, month=LAST_MONTH, status="draft")
    session.commit()
    token = _token(client)
    assert client.post(f"/assessments/{a.id}/submit", data={"csrf_token": token}).status_code == 303
    assert client.post(f"/assessments/{a.id}/submit", data={"csrf_token": token}).status_code == 303
    assert _count(AuditEvent, AuditEvent.action == "assessment_submitted") == 1


def test_submitting_an_approved_assessment_is_409(client, htmx_client, landlord_site, session):
    a = make_assessment(
        session, site=landlord_site, month=LAST_MONTH, status="approved", score=80, stars=4
    )
    session.commit()
    resp = htmx_client.post(f"/assessments/{a.id}/submit", data={"csrf_token": _token(client)})
    assert resp.status_code == 409
    assert "already approved" in resp.get_data(as_text=True)


# --- decide -------------------------------------------------------------------------------


@pytest.fixture
def police_and_submitted(client, login, session, area):
    site = _site(session, area, name="警务室房屋", admitted_on=date(2000, 1, 1))
    a = _submitted(
        session,
        site,
    )
    a.computed = svc.compute(session, site, a.month)
    session.commit()
    _as_police(login, session, area)
    return site, a


def test_police_sees_the_decision_form(client, police_and_submitted):
    site, a = police_and_submitted
    html = client.get(f"/assessments/{a.id}").get_data(as_text=True)
    for name in ("manual_fire_safety", "manual_order_hygiene", "manual_cooperation", "reason"):
        assert f'name="{name}"' in html
    assert 'name="decision" value="approve"' in html
    assert 'name="decision" value="reject"' in html


def test_approve_in_place_with_htmx(client, htmx_client, police_and_submitted, session):
    site, a = police_and_submitted
    resp = htmx_client.post(
        f"/assessments/{a.id}/decide", data={**APPROVE, "csrf_token": _token(client)}
    )
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert "<html" not in body
    assert body.lstrip().startswith(f'<article id="assessment-{a.id}"')
    assert resp.headers["HX-Trigger"] == "assessment-decided"
    assert "HX-Request" in resp.headers["Vary"]
    assert "100 / 100" in body and "★★★★★" in body
    assert "/decide" not in body
    db.session.expire_all()
    stored = session.get(Assessment, a.id)
    assert (stored.status, stored.score, stored.stars) == ("approved", 100, 5)
    site = session.get(Site, site.id)
    assert site.stars == 5 and site.last_assessed_month == LAST_MONTH


def test_approve_without_javascript_redirects(client, police_and_submitted, session):
    site, a = police_and_submitted
    data = {**APPROVE, "manual_fire_safety": "0", "csrf_token": _token(client)}
    resp = client.post(f"/assessments/{a.id}/decide", data=data)
    assert resp.status_code == 303
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "90 / 100" in page
    assert "decision was saved" in page


def test_reject_without_reason_is_422_in_place(client, htmx_client, police_and_submitted, session):
    site, a = police_and_submitted
    resp = htmx_client.post(
        f"/assessments/{a.id}/decide",
        data={"decision": "reject", "reason": " ", "csrf_token": _token(client)},
    )
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert "<html" not in body
    assert re.search(
        r'name="reason"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*name="reason"', body
    )
    assert "Give a reason" in body
    db.session.expire_all()
    assert session.get(Assessment, a.id).status == "submitted"


def test_reject_without_reason_plain_post_is_422_page(client, police_and_submitted):
    site, a = police_and_submitted
    resp = client.post(
        f"/assessments/{a.id}/decide", data={"decision": "reject", "csrf_token": _token(client)}
    )
    assert resp.status_code == 422
    assert "<html" in resp.get_data(as_text=True)


def test_reject_with_reason_lets_the_landlord_submit_again(
    client, htmx_client, police_and_submitted, session
):
    site, a = police_and_submitted
    resp = htmx_client.post(
        f"/assessments/{a.id}/decide",
        data={"decision": "reject", "reason": "灭火器过期", "csrf_token": _token(client)},
    )
    assert resp.status_code == 200
    assert "灭火器过期" in resp.get_data(as_text=True)
    db.session.expire_all()
    stored = session.get(Assessment, a.id)
    assert stored.status == "rejected" and stored.reason == "灭火器过期"
    assert session.get(Site, site.id).stars is None
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "assessment_rejected"))
    assert "灭火器过期" not in str(event.detail)


@pytest.mark.parametrize(
    "field,value",
    [("manual_fire_safety", "16"), ("manual_cooperation", "-1"), ("manual_order_hygiene", "")],
)
def test_manual_score_out_of_range_or_missing_is_422(
    client, htmx_client, police_and_submitted, field, value
):
    site, a = police_and_submitted
    resp = htmx_client.post(
        f"/assessments/{a.id}/decide",
        data={**APPROVE, field: value, "csrf_token": _token(client)},
    )
    assert resp.status_code == 422
    assert re.search(
        rf'aria-invalid="true"[^>]*name="{field}"|name="{field}"[^>]*aria-invalid',
        resp.get_data(as_text=True),
    )


def test_missing_decision_is_422(client, police_and_submitted):
    site, a = police_and_submitted
    data = {k: v for k, v in APPROVE.items() if k != "decision"}
    resp = client.post(f"/assessments/{a.id}/decide", data={**data, "csrf_token": _token(client)})
    assert resp.status_code == 422


def test_deciding_a_draft_is_409(client, htmx_client, login, session, area):
    a = make_assessment(session, site=_site(session, area), month=LAST_MONTH, status="draft")
    session.commit()
    _as_police(login, session, area)
    resp = htmx_client.post(
        f"/assessments/{a.id}/decide", data={**APPROVE, "csrf_token": _token(client)}
    )
    assert resp.status_code == 409
    body = resp.get_data(as_text=True)
    assert "<html" not in body and "not waiting for a decision" in body
    plain = client.post(
        f"/assessments/{a.id}/decide", data={**APPROVE, "csrf_token": _token(client)}
    )
    assert plain.status_code == 409


def test_deciding_twice_records_one_decision(client, police_and_submitted, session):
    site, a = police_and_submitted
    token = _token(client)
    first = client.post(f"/assessments/{a.id}/decide", data={**APPROVE, "csrf_token": token})
    second = client.post(
        f"/assessments/{a.id}/decide",
        data={"decision": "reject", "reason": "x", "csrf_token": token},
    )
    assert (first.status_code, second.status_code) == (303, 409)
    assert (
        _count(AuditEvent, AuditEvent.action.in_(("assessment_approved", "assessment_rejected")))
        == 1
    )


def test_site_stars_stay_with_the_latest_approved_month(client, login, session, area):
    site = _site(session, area)
    make_assessment(session, site=site, month=LAST_MONTH, status="approved", score=95, stars=5)
    older = _submitted(session, site, add_months(today(), -3))
    svc.refresh_site_stars(session, site)
    session.commit()
    _as_police(login, session, area)
    data = {
        "decision": "approve",
        "manual_fire_safety": "0",
        "manual_order_hygiene": "0",
        "manual_cooperation": "0",
        "csrf_token": _token(client),
    }
    assert client.post(f"/assessments/{older.id}/decide", data=data).status_code == 303
    db.session.expire_all()
    assert session.get(Assessment, older.id).stars == 2  # the factory computes 60, manual 0
    site = session.get(Site, site.id)
    assert site.stars == 5 and site.last_assessed_month == LAST_MONTH


# --- list ----------------------------------------------------------------------------------


def test_police_list_shows_what_waits_in_their_area(client, login, session, area):
    mine = _site(session, area, name="辖区内房屋")
    other = make_site(session, area=make_area_tree(session)[2], name="辖区外房屋")
    _submitted(session, mine)
    make_assessment(
        session, site=mine, month=add_months(today(), -2), status="approved", score=90, stars=5
    )
    _submitted(session, other)
    _as_police(login, session, area)
    html = client.get("/assessments/").get_data(as_text=True)
    assert "辖区内房屋" in html and "辖区外房屋" not in html
    assert html.count('data-status="submitted"') == 1
    assert 'data-status="approved"' not in html
    every = client.get("/assessments/?status=all").get_data(as_text=True)
    assert 'data-status="approved"' in every


def test_landlord_list_shows_their_sites_in_every_state(client, landlord_site, session, area):
    make_assessment(session, site=landlord_site, month=LAST_MONTH, status="draft")
    make_assessment(
        session, site=landlord_site, month=add_months(today(), -2), status="rejected", reason="r"
    )
    _submitted(session, _site(session, area, name="别人的房子"))
    html = client.get("/assessments/").get_data(as_text=True)
    assert html.count("幸福公寓") == 2
    assert "别人的房子" not in html


def test_list_fragment_for_htmx(client, htmx_client, landlord_site):
    resp = htmx_client.get("/assessments/?status=all")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "<html" not in body and body.lstrip().startswith('<section id="assessment-list"')
    assert "HX-Request" in resp.headers["Vary"]


def test_list_paginates(client, login, session, area):
    site = _site(session, area)
    for back in range(1, 28):
        make_assessment(session, site=site, month=add_months(today(), -back), status="submitted")
    session.commit()
    _as_police(login, session, area)
    first = client.get("/assessments/").get_data(as_text=True)
    assert first.count('data-status="submitted"') == 25
    assert 'rel="next"' in first
    second = client.get("/assessments/?status=submitted&page=2").get_data(as_text=True)
    assert second.count('data-status="submitted"') == 2


def test_list_query_count_does_not_grow_with_rows(client, login, session, area, count_queries):
    _as_police(login, session, area)

    def add(n):
        for _ in range(n):
            site = _site(session, area)
            _submitted(session, site)
            make_assessment(
                session,
                site=site,
                month=add_months(today(), -2),
                status="approved",
                score=70,
                stars=3,
            )
        session.commit()

    def measure():
        with count_queries() as q:
            resp = client.get("/assessments/?status=all")
        assert resp.status_code == 200
        return q.count

    add(2)
    small = measure()
    add(10)
    large = measure()
    assert large == small
    assert small <= 8


# --- panel and fragments rendered alone ---------------------------------------------------


def test_site_page_shows_the_panel_with_chart_and_start_button(client, landlord_site, session):
    for back, stars in ((1, 4), (2, 5), (4, 3)):
        make_assessment(
            session,
            site=landlord_site,
            month=add_months(today(), -back),
            status="approved",
            score=60 + stars * 7,
            stars=stars,
        )
    make_assessment(session, site=landlord_site, month=today(), status="draft")
    svc.refresh_site_stars(session, landlord_site)
    session.commit()
    html = client.get(f"/sites/{landlord_site.id}").get_data(as_text=True)
    match = re.search(r'<section id="panel-assessments".*?</section>', html, re.S)
    assert match
    panel = match.group(0)
    svg = re.search(r"<svg.*?</svg>", panel, re.S).group(0)
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.find(f"{ns}title").text
    assert len(root.findall(f".//{ns}circle")) == 3
    assert "style=" not in panel
    assert panel.count("/assessments/") >= 4  # one link per listed month
    assert "Start this month" in panel


def test_panel_has_no_start_button_for_the_police(client, login, session, area):
    site = _site(session, area)
    _as_police(login, session, area)
    html = client.get(f"/sites/{site.id}").get_data(as_text=True)
    assert 'id="panel-assessments"' in html
    assert "Start this month" not in html
    assert "No assessment in the last 12 months" in html


def test_panel_escapes_the_site_name_in_the_chart(app, session, area):
    site = _site(session, area, name='<b>"Evil" & co</b>')
    with app.test_request_context():
        from community.assessments.panels import assessments_panel

        user = make_role_user(session, "police", area=_community(session, area))
        panel = assessments_panel(session, user, site)
        html = render_template(panel.template, panel=panel, site=site)
    assert "<b>" not in html
    assert "&lt;b&gt;" in html


def test_card_block_renders_alone(app, session, area):
    site = _site(session, area)
    a = _submitted(session, site)
    with app.test_request_context():
        html = render_block(
            "assessments/show.html",
            "assessment_card",
            assessment=a,
            site=site,
            breakdown=assessments_queries.breakdown(a),
            people={"submitted_by": None, "decided_by": None},
            can_submit=False,
            can_decide=True,
            submit_form=EmptyForm(formdata=None),
            decision_form=decision_form(formdata=None),
            conflict=None,
        )
    assert html.lstrip().startswith(f'<article id="assessment-{a.id}"')
    assert 'name="manual_fire_safety"' in html


def test_start_and_list_blocks_render_alone(app, session, area):
    site = _site(session, area)
    with app.test_request_context():
        start = render_block(
            "assessments/new.html",
            "start_form",
            form=StartAssessmentForm(formdata=None),
            site=site,
        )
        listing = render_block(
            "assessments/index.html",
            "assessment_list",
            page=assessments_queries.list_assessments(session, make_role_user(session, "admin")),
            state="all",
            status_labels=STATUS_LABELS,
        )
    assert start.lstrip().startswith('<section id="assessment-start"')
    assert listing.lstrip().startswith('<section id="assessment-list"')


def test_approving_with_every_score_empty_flags_every_empty_field(
    client, police_and_submitted, session
):
    site, a = police_and_submitted
    resp = client.post(
        f"/assessments/{a.id}/decide", data={"decision": "approve", "csrf_token": _token(client)}
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422
    for name in ("manual_fire_safety", "manual_order_hygiene", "manual_cooperation"):
        assert re.search(
            rf'id="{name}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="{name}"', body
        ), name
    assert body.count("Score this item.") == 3
    assert session.get(Assessment, a.id).status == "submitted"
