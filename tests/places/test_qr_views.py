"""The printable QR poster, token rotation and the public plaque behind the code."""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from community.accounts.models import User
from community.core.models import AuditEvent
from community.core.timeutil import today, utcnow
from community.places.models import Site
from tests.conftest import csrf_from
from tests.factories.places import make_site


def _my_site(session, login_as, world, **columns):
    me = login_as("landlord", area=world.east)
    site = make_site(
        session, area=world.east, landlord=session.get(User, me["id"]), name="海报房", **columns
    )
    session.commit()
    return site


def test_poster_has_two_qr_codes_for_the_sites_token(client, session, login_as, world):
    site = _my_site(session, login_as, world, address="东村路99号")
    resp = client.get(f"/sites/{site.id}/poster")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert html.count('class="segno"') == 2  # the header's icons are SVG too
    assert f"http://localhost/plaque/{site.qr_token}" in html
    assert f"http://localhost/declare/{site.qr_token}" in html
    assert "海报房" in html and "东村路99号" in html
    assert "新居民扫码登记" in html  # the instructions tenants read
    assert "data-print" in html and 'class="no-print' in html
    assert "<script>" not in html.split("</head>")[1]  # no inline scripts (CSP)


def test_rotating_the_token_stops_the_old_codes_at_once(client, session, login_as, world):
    site = _my_site(session, login_as, world)
    old = site.qr_token
    assert client.get(f"/plaque/{old}").status_code == 200
    html = client.get(f"/sites/{site.id}/poster").get_data(as_text=True)
    resp = client.post(f"/sites/{site.id}/token", data={"csrf_token": csrf_from(html)})
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/sites/{site.id}/poster")
    session.expire_all()
    new = session.get(Site, site.id).qr_token
    assert new != old
    assert client.get(f"/plaque/{old}").status_code == 404
    assert client.get(f"/plaque/{new}").status_code == 200
    poster = client.get(f"/sites/{site.id}/poster").get_data(as_text=True)
    assert new in poster and old not in poster
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "site_token_rotated"))
    assert event.object_id == site.id and old not in str(event.detail)


def test_rotating_via_htmx_lands_on_the_poster_without_a_redirect(
    client, htmx_client, session, login_as, world
):
    site = _my_site(session, login_as, world)
    html = client.get(f"/sites/{site.id}/poster").get_data(as_text=True)
    resp = htmx_client.post(f"/sites/{site.id}/token", data={"csrf_token": csrf_from(html)})
    assert resp.status_code == 200
    assert resp.headers["HX-Location"].endswith(f"/sites/{site.id}/poster")


def test_rotation_needs_a_csrf_token(client, session, login_as, world):
    site = _my_site(session, login_as, world)
    old = site.qr_token
    assert client.post(f"/sites/{site.id}/token").status_code == 400
    session.expire_all()
    assert session.get(Site, site.id).qr_token == old


def test_volunteer_sees_the_site_but_not_its_poster(client, session, login_as, world):
    login_as("volunteer", area=world.east)
    site = make_site(session, area=world.east)
    session.commit()
    assert client.get(f"/sites/{site.id}").status_code == 200
    assert client.get(f"/sites/{site.id}/poster").status_code == 403
    token = csrf_from(client.get("/").get_data(as_text=True))
    assert client.post(f"/sites/{site.id}/token", data={"csrf_token": token}).status_code == 403


def test_plaque_is_public_and_shows_the_rating_without_personal_data(client, session, world):
    landlord = world.landlord
    site = make_site(
        session,
        area=world.east,
        landlord=landlord,
        name="公示房",
        stars=4,
        admitted_on=today() - timedelta(days=3),
        last_assessed_month=date(2026, 5, 1),
        created_at=utcnow() - timedelta(days=400),
    )
    landlord.phone = "13812345678"
    session.commit()
    resp = client.get(f"/plaque/{site.qr_token}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "公示房" in html and "★★★★" in html
    assert 'data-badge="admitted"' in html and 'data-badge="shuangwu"' in html
    assert "2026-05" in html
    assert landlord.display_name not in html and landlord.username not in html
    assert "5678" not in html and site.address not in html
    assert 'name="viewport"' in html


def test_plaque_flags_a_site_not_admitted_and_with_a_recent_incident(client, session, world):
    site = make_site(session, area=world.east, last_incident_on=today() - timedelta(days=10))
    session.commit()
    html = client.get(f"/plaque/{site.qr_token}").get_data(as_text=True)
    assert 'data-badge="not-admitted"' in html
    assert 'data-badge="shuangwu"' not in html
    assert 'data-stars="none"' in html


def test_unknown_plaque_token_is_404(client):
    assert client.get("/plaque/not-a-token").status_code == 404
    assert client.get("/plaque/" + "x" * 300).status_code == 404


def test_plaque_is_not_rate_limited(client, session, world):
    site = make_site(session, area=world.east)
    session.commit()
    codes = {client.get(f"/plaque/{site.qr_token}").status_code for _ in range(40)}
    assert codes == {200}


def test_poster_svg_is_the_only_markup_not_escaped(client, session, login_as, world):
    site = _my_site(session, login_as, world)
    html = client.get(f"/sites/{site.id}/poster").get_data(as_text=True)
    svgs = re.findall(r"<svg.*?</svg>", html.split('id="main"', 1)[1], re.S)
    assert len(svgs) == 2 and all("<text" not in s and "script" not in s for s in svgs)


def test_poster_links_come_from_the_configured_address_not_the_host_header(
    app, client, session, login_as, world, monkeypatch
):
    """A forged Host header never ends up on a printed poster; the addresses are links;
    the text names the codes instead of saying left or right (phones stack them)."""
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://gongzhi.example.cn/")
    site = _my_site(session, login_as, world)
    client.set_cookie("session", client.get_cookie("session").value, domain="evil.example")
    resp = client.get(f"/sites/{site.id}/poster", base_url="http://evil.example")
    assert resp.status_code == 200, resp.headers.get("Location")
    html = resp.get_data(as_text=True)
    declare = f"https://gongzhi.example.cn/declare/{site.qr_token}"
    plaque = f"https://gongzhi.example.cn/plaque/{site.qr_token}"
    assert f'<a href="{declare}">' in html and f'<a href="{plaque}">' in html
    assert "evil.example" not in html
    assert "left" not in html.lower().split("<main")[1] and "左侧" not in html


def test_poster_without_a_public_address_in_production_prints_no_code(
    app, client, session, login_as, world, monkeypatch
):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", None)
    site = _my_site(session, login_as, world)
    monkeypatch.setattr(app, "testing", False)
    html = client.get(f"/sites/{site.id}/poster").get_data(as_text=True)
    assert "PUBLIC_BASE_URL" in html and 'class="segno"' not in html
