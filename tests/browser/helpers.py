"""Small helpers shared by the browser tests."""

from __future__ import annotations

from playwright.sync_api import Page


def login(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.locator("#main form[action^='/login'] button[type=submit]").click()


def set_marker(page: Page, js: bool) -> None:
    """Mark the window; the mark survives only as long as no full page load happens."""
    if js:
        page.evaluate("window.__marker = 42")


def marker_survived(page: Page) -> bool:
    return page.evaluate("window.__marker") == 42
