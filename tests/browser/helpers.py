"""Small helpers shared by the browser tests."""

from __future__ import annotations

from playwright.sync_api import Page, expect


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


def wait_for_import(page: Page, js: bool, done: str = "导入完成") -> None:
    """Until the import job's page says it is over: with JavaScript its progress block
    asks for itself every 2 s; without, the refresh link is followed."""
    progress = page.locator("#import-progress")
    if js:
        expect(progress).to_contain_text(done, timeout=20_000)
        return
    for _ in range(40):
        if done in progress.inner_text():
            break
        page.wait_for_timeout(500)
        progress.get_by_role("link", name="刷新").click()
    expect(progress).to_contain_text(done)
