"""Compression where it leaks nothing (never a body carrying the CSRF token), and
versioned static URLs cached for a year."""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from pathlib import Path

import brotli
import pytest
from flask_wtf.csrf import generate_csrf

from community import create_app
from community.config import TestConfig

STATIC = Path(__file__).resolve().parents[2] / "static"
BIG = "<p>" + "共治 Community, a page that compresses well. " * 40 + "</p>"


@pytest.fixture(scope="module")
def bare_app():
    """An app of its own with two extra routes, to compare a body with and without
    the CSRF token in it (routes cannot be added to the shared app once it served)."""
    app = create_app(type("Cfg", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": "sqlite://"}))

    @app.get("/_test/plain")
    def plain():
        return BIG

    @app.get("/_test/with-token")
    def with_token():
        return BIG + f'<meta name="csrf-token" content="{generate_csrf()}">'

    @app.get("/_test/json")
    def as_json():
        return {"items": [BIG]}

    return app


def _get(client, url: str, **kwargs):
    """GET a static file and close the response (it holds the file open until then)."""
    resp = client.get(url, **kwargs)
    resp.get_data()
    resp.close()
    return resp


def _static_url(client, filename: str) -> str:
    html = client.get("/login", follow_redirects=True).get_data(as_text=True)
    match = re.search(rf'"(/static/{re.escape(filename)}\?v=[0-9a-f]{{10}})"', html)
    assert match, f"no versioned URL for {filename} in the page"
    return match.group(1)


def test_static_urls_carry_a_content_hash(client):
    url = _static_url(client, "css/app.css")
    # The same file gives the same version; the version is the file's content.
    assert _static_url(client, "css/app.css") == url
    digest = hashlib.sha256((STATIC / "css/app.css").read_bytes()).hexdigest()
    assert url.endswith("?v=" + digest[:10])


@pytest.mark.parametrize("logged_in", [False, True])
def test_versioned_static_file_is_cached_for_a_year(client, login_as, logged_in):
    if logged_in:  # pages behind login are no-store; static files must not be
        login_as("police")
    resp = _get(client, _static_url(client, "css/app.css"))
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("query", ["", "?v=0000000000"])
def test_unversioned_or_stale_static_url_is_not_cached_for_long(client, query):
    resp = _get(client, "/static/css/app.css" + query)
    assert resp.status_code == 200
    assert "immutable" not in resp.headers.get("Cache-Control", "")


@pytest.mark.parametrize("encoding, decode", [("gzip", gzip.decompress), ("br", brotli.decompress)])
def test_static_css_is_compressed_when_the_client_accepts_it(client, encoding, decode):
    url = _static_url(client, "css/app.css")
    resp = _get(client, url, headers={"Accept-Encoding": encoding})
    assert resp.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in resp.headers["Vary"]
    body = resp.get_data()
    assert decode(body) == (STATIC / "css/app.css").read_bytes()
    assert len(body) < len(decode(body)) / 2


def test_nothing_is_compressed_for_a_client_that_does_not_ask(client):
    resp = _get(client, _static_url(client, "css/app.css"))
    assert "Content-Encoding" not in resp.headers
    assert resp.get_data() == (STATIC / "css/app.css").read_bytes()


def test_small_static_file_is_sent_as_is(app, client, monkeypatch):
    size = (STATIC / "js/app.js").stat().st_size
    monkeypatch.setitem(app.config, "COMPRESS_MIN_SIZE", size + 1)  # app.js is "small"
    url = _static_url(client, "js/app.js")
    resp = _get(client, url, headers={"Accept-Encoding": "gzip, br"})
    assert "Content-Encoding" not in resp.headers


def test_page_with_the_csrf_token_is_never_compressed(client):
    # BREACH: the login page echoes nothing, but every full page carries the token.
    resp = client.get("/login", headers={"Accept-Encoding": "gzip, br"})
    assert resp.status_code == 200 and 'name="csrf-token"' in resp.get_data(as_text=True)
    assert "Content-Encoding" not in resp.headers


def test_html_and_json_without_a_secret_are_compressed(bare_app):
    client = bare_app.test_client()
    resp = client.get("/_test/plain", headers={"Accept-Encoding": "gzip"})
    assert resp.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in resp.headers["Vary"]
    assert gzip.decompress(resp.get_data()).decode() == BIG
    resp = client.get("/_test/json", headers={"Accept-Encoding": "gzip"})
    assert resp.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(resp.get_data())) == {"items": [BIG]}


def test_same_body_with_the_csrf_token_is_not_compressed(bare_app):
    client = bare_app.test_client()
    resp = client.get("/_test/with-token", headers={"Accept-Encoding": "gzip, br"})
    assert resp.status_code == 200
    assert "Content-Encoding" not in resp.headers
    assert resp.get_data(as_text=True).startswith(BIG)
