"""The navigation registry: every visible entry, in order; a person's header bar holds
the PRIMARY_MAX best ranked primary entries they see (primary_when narrows who)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from community.core import nav


@pytest.fixture
def registry(monkeypatch):
    """An empty registry for the test (existing endpoints, so url_for works)."""
    monkeypatch.setattr(nav, "_NAV", {})
    return nav


def _user(*roles: str):
    return SimpleNamespace(is_authenticated=True, roles=set(roles))


def _register(registry) -> None:
    has = lambda *roles: lambda u: bool(u.roles & set(roles))  # noqa: E731
    registry.register_nav("accounts.home", "Home", order=10, visible=lambda u: True)
    registry.register_nav("reviews.index", "Reviews", order=15, visible=has("a"), primary=10)
    registry.register_nav("places.index", "Sites", order=20, visible=lambda u: True, primary=22)
    registry.register_nav(
        "residents.index", "Residents", order=25, visible=lambda u: True, primary=20
    )
    registry.register_nav(
        "duty.index",
        "Duties",
        order=40,
        visible=lambda u: True,
        primary=12,
        primary_when=has("b"),
    )
    registry.register_nav("hazards.index", "Hazards", order=30, visible=lambda u: True, primary=30)


def _bar(user) -> list[str]:
    return [item.href for item in nav.nav_items(user) if item.primary]


def test_the_bar_holds_the_best_ranked_entries_a_person_sees_in_menu_order(app, registry):
    _register(registry)
    with app.test_request_context():
        items = nav.nav_items(_user("a"))
        # Every visible entry stays in the menu, in order.
        assert [i.href for i in items] == [
            "/",
            "/reviews/",
            "/sites/",
            "/residents/",
            "/hazards/",
            "/duties/",
        ]
        assert registry.PRIMARY_MAX == 3
        assert _bar(_user("a")) == ["/reviews/", "/sites/", "/residents/"]
        # Reviews unseen: the next ranked entry takes its place.
        assert _bar(_user()) == ["/sites/", "/residents/", "/hazards/"]
        # Duties are primary only where primary_when says so.
        assert _bar(_user("b")) == ["/sites/", "/residents/", "/duties/"]
        assert nav.nav_items(SimpleNamespace(is_authenticated=False)) == []


def test_labels_are_translated_per_language_and_entries_per_user_of_the_request(app, registry):
    """The per-process caches (labels per language, hrefs) and the per-request memo of
    what each user sees never mix languages or people."""
    from flask_babel import force_locale
    from flask_babel import lazy_gettext as nav_label

    has = lambda role: lambda u: role in u.roles  # noqa: E731
    registry.register_nav("accounts.home", nav_label("Sites"), order=10, visible=has("a"))
    registry.register_nav("places.index", nav_label("Reviews"), order=20, visible=has("b"))
    a, b = _user("a"), _user("b")
    with app.test_request_context():
        with force_locale("en"):
            assert [(i.href, i.label) for i in nav.nav_items(a)] == [("/", "Sites")]
        with force_locale("zh_CN"):
            assert [(i.href, i.label) for i in nav.nav_items(a)] == [("/", "场所")]
            assert [(i.href, i.label) for i in nav.nav_items(b)] == [("/sites/", "审核")]
        a.roles = {"b"}  # a changed role is seen from the next request on
    with app.test_request_context(), force_locale("en"):
        assert [(i.href, i.label) for i in nav.nav_items(a)] == [("/sites/", "Reviews")]
    # An entry registered again with another label shows the new one.
    registry.register_nav("places.index", "Other", order=20, visible=has("b"))
    with app.test_request_context():
        assert [i.label for i in nav.nav_items(a)] == ["Other"]


def test_static_urls_built_once_are_those_url_for_builds(app):
    from flask import render_template_string, url_for

    with app.test_request_context():
        html = render_template_string("{{ static_url('css/app.css') }}")
        assert html == url_for("static", filename="css/app.css")
        assert "?v=" in html
    with app.test_request_context(environ_overrides={"SCRIPT_NAME": "/community"}):
        assert render_template_string("{{ static_url('css/app.css') }}").startswith(
            "/community/static/css/app.css?v="
        )
