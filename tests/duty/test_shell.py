"""The installable app's shell: the manifest, the service worker from the site root,
the offline page, and the user's name the worker keys its cache with."""

from __future__ import annotations

from tests.conftest import csrf_from


def test_manifest_names_the_app_its_icons_and_start_page(client):
    resp = client.get("/manifest.webmanifest")
    assert resp.status_code == 200
    assert resp.mimetype == "application/manifest+json"
    body = resp.json
    assert body["name"] == "共治 Community" and body["short_name"]
    assert body["start_url"] == "/duties/mine" and body["display"] == "standalone"
    assert body["theme_color"] == "#1d6f42"
    sizes = {i["sizes"] for i in body["icons"]}
    assert {"192x192", "512x512"} <= sizes, "run make assets: the PNG icons are built"
    for icon in body["icons"]:
        got = client.get(icon["src"])
        assert got.status_code == 200 and got.mimetype == icon["type"]
        got.close()


def test_service_worker_is_served_from_the_root_under_the_csp(client):
    resp = client.get("/sw.js")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and resp.mimetype == "text/javascript"
    assert resp.headers["Service-Worker-Allowed"] == "/"
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert 'addEventListener("fetch"' in body
    assert "/static/js/queue.js?v=" in body and "/static/vendor/htmx.min.js?v=" in body
    assert '"/offline"' in body and '"/logout"' in body


def test_offline_page_carries_no_user_data(client, login_as):
    me = login_as("volunteer")
    page = client.get("/offline").get_data(as_text=True)
    assert "No connection" in page
    assert me["username"] not in page and "csrf" not in page


def test_answers_name_the_user_by_a_key_and_nobody_when_logged_out(client, login_as, app):
    assert client.get("/login").headers["X-Community-User"] == ""
    login_as("volunteer")
    first = client.get("/duties/mine")
    key = first.headers["X-Community-User"]
    assert len(key) == 24
    assert f'data-user="{key}"' in first.get_data(as_text=True)
    token = csrf_from(first.get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token})
    assert client.get("/login").headers["X-Community-User"] == ""
    login_as("volunteer")
    assert client.get("/duties/mine").headers["X-Community-User"] not in ("", key)
