"""Across every page: no console error, no blocked inline code (CSP), no request to another origin."""
from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import QUIET, event_path, phone
from tests.conftest import BURST

pytestmark = pytest.mark.browser

NO_INLINE_CODE = """() => ({
  inlineScripts: [...document.scripts].filter(s => !s.src).length,
  styleElements: document.querySelectorAll("style").length,
  styleAttributes: [...document.querySelectorAll("[style]")].map(e => e.outerHTML.slice(0, 80)),
  handlerAttributes: [...document.querySelectorAll("*")].flatMap(e => [...e.attributes]
      .filter(a => a.name.startsWith("on")).map(a => e.tagName + " " + a.name)),
})"""


def assert_no_inline_code(page) -> None:
    found = page.evaluate(NO_INLINE_CODE)
    assert found == {"inlineScripts": 0, "styleElements": 0, "styleAttributes": [], "handlerAttributes": []}, found


def visitor(page):
    """Open a path as a full page and check what came back: 200, the strict CSP, no inline code."""
    def visit(path: str) -> None:
        response = page.goto(path)
        assert response.status == 200, path
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        assert_no_inline_code(page)
    return visit


def tour(page, writer, nested_event_id: str) -> None:
    """Every page and every enhancement a user meets in a normal session.

    `writer` is a page like `page` on the scratch dashboard, where the tour inserts its event.
    """
    visit = visitor(page)
    visit("/")
    expect(page.locator("#events")).to_be_visible()
    page.locator("#events a[rel=next]").click()
    expect(page.locator("#events")).to_have_attribute("data-page", "2")
    page.go_back()
    expect(page.locator("#events")).to_have_attribute("data-page", "1")
    visit(f"/events?timestamp={BURST}&limit=10")
    visit(f"/events?timestamp={QUIET}")
    expect(page.locator("[data-empty]")).to_be_visible()
    visit(event_path(nested_event_id))
    page.locator('tr[data-attribute="metadata"] details.nested > summary').first.click()
    page.locator("[data-same-second]").click()
    expect(page.locator("#events-heading")).to_contain_text("Events at")
    visit("/status")
    page.locator("details.raw-toggle > summary").click()
    expect(page.locator("details.raw-toggle pre")).to_be_visible()
    visit("/events/new")
    page, visit = writer, visitor(writer)
    visit("/events/new")
    event_id = f"browser-tour-{uuid.uuid4().hex}"
    page.fill("#event_id", event_id)
    page.locator("#event-form button[type=submit]").click()
    expect(page.locator("h1 [data-event-id]")).to_have_attribute("data-event-id", event_id)
    assert_no_inline_code(page)


def test_a_session_with_javascript_is_clean(page, scratch_page, nested_event_id):
    tour(page, scratch_page, nested_event_id)
    for watch in (page.context.watch, scratch_page.context.watch):
        assert watch.console_errors == [] and watch.page_errors == []
        assert watch.foreign_requests() == []
    assert len(page.context.watch.requests) > 20
    # htmx and app.js did load and run (else this session proved little about them).
    assert page.evaluate("typeof htmx === 'object' && htmx.version") == "2.0.11"


def test_a_session_without_javascript_is_clean(nojs_page, nojs_scratch_page, nested_event_id):
    tour(nojs_page, nojs_scratch_page, nested_event_id)
    for watch in (nojs_page.context.watch, nojs_scratch_page.context.watch):
        assert watch.console_errors == [] and watch.foreign_requests() == []


def test_dark_scheme_and_phone_width_are_clean(new_context, scratch_url, nested_event_id):
    options = phone(color_scheme="dark")
    page, writer = new_context(**options).new_page(), new_context(origin=scratch_url, **options).new_page()
    tour(page, writer, nested_event_id)
    assert page.context.watch.console_errors == [] and writer.context.watch.console_errors == []


def test_the_watch_catches_an_inline_script_the_csp_blocks(page, watch):
    """The checks above could pass by missing violations: show that a blocked inline script is seen."""
    watch.expect_console_error(r"Content Security Policy|CSP violation")
    page.goto("/events")
    with page.expect_console_message(lambda message: "CSP violation: script-src" in message.text):
        page.evaluate("""() => { const s = document.createElement("script");
                                 s.textContent = "window.__inlineRan = true"; document.body.append(s); }""")
    assert page.evaluate("window.__inlineRan === undefined")
    assert any(text.startswith("CSP violation") for text in watch.console_errors)
