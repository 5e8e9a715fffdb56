"""Every action by keyboard alone: `/` to search, Tab and Enter to page, open, go back, insert, toggle, copy."""
from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import event_path, row_ids
from tests.conftest import BURST

pytestmark = pytest.mark.browser


def focused_matches(page, selector: str) -> bool:
    return page.evaluate("s => !!document.activeElement && document.activeElement.matches(s)", selector)


def tab_to(page, selector: str, backwards: bool = False, limit: int = 120) -> None:
    """Press Tab (or Shift+Tab) until the focus is on `selector`; fail if it never gets there."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if focused_matches(page, selector):
            assert_focus_visible(page)
            return
    raise AssertionError(f"{selector} cannot be reached with the keyboard")


def assert_focus_visible(page) -> None:
    outline = page.evaluate("""() => { const style = getComputedStyle(document.activeElement);
                                       return [style.outlineStyle, style.outlineWidth]; }""")
    assert outline[0] != "none" and outline[1] != "0px", \
        f"no visible focus on {page.evaluate('document.activeElement.outerHTML.slice(0, 80)')}"


def test_slash_focuses_the_search_box_and_enter_searches(page):
    page.goto("/events")
    page.locator("h1").click()  # focus somewhere neutral first
    page.keyboard.press("/")
    expect(page.locator("#timestamp")).to_be_focused()
    expect(page.locator("#timestamp")).to_have_value("")  # the slash itself is not typed
    page.keyboard.type(BURST)
    page.keyboard.press("Enter")
    expect(page.locator("#events-heading")).to_contain_text(f"Events at {BURST}")
    # Inside the box "/" is an ordinary character.
    page.keyboard.press("End")
    page.keyboard.type("/")
    expect(page.locator("#timestamp")).to_have_value(BURST + "/")


def test_skip_link_is_the_first_stop_and_jumps_to_the_content(page):
    page.goto("/events")
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["x"] >= 0, "the focused skip link is visible"
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    tab_to(page, "#timestamp")


def test_paging_with_tab_and_enter_keeps_the_focus_on_the_pager(page):
    page.goto("/events")
    first = row_ids(page)
    tab_to(page, "#events a[rel=next]")
    page.keyboard.press("Enter")
    expect(page.locator("#events")).to_have_attribute("data-page", "2")
    # The new Next link has the focus: Enter again goes on.
    expect(page.locator("#events a[rel=next]")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#events")).to_have_attribute("data-page", "3")
    tab_to(page, "#events a[rel=prev]", backwards=True)
    page.keyboard.press("Enter")
    expect(page.locator("#events")).to_have_attribute("data-page", "2")
    tab_to(page, "#events a[rel=prev]", backwards=True)
    page.keyboard.press("Enter")
    expect(page.locator("#events")).to_have_attribute("data-page", "1")
    assert row_ids(page) == first


def test_page_size_with_the_keyboard(page):
    page.goto("/events")
    tab_to(page, "#limit")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#limit")).to_have_value("50")
    expect(page.locator("#events [data-count]")).to_have_text("50")


def test_open_an_event_and_come_back_by_keyboard(page):
    page.goto("/events")
    rows = row_ids(page)
    tab_to(page, "#events tbody a")
    page.keyboard.press("Enter")
    expect(page.locator("h1 [data-event-id]")).to_have_attribute("data-event-id", rows[0])
    tab_to(page, "[data-back]")
    page.keyboard.press("Enter")
    expect(page.locator("#events")).to_be_visible()
    assert row_ids(page) == rows


def test_detail_toggles_and_copy_by_keyboard(new_context, nested_event_id):
    context = new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(event_path(nested_event_id))
    nested = page.locator('tr[data-attribute="metadata"] details.nested')
    expect(nested).to_have_attribute("open", "")
    tab_to(page, 'tr[data-attribute="metadata"] details.nested > summary')
    page.keyboard.press("Enter")
    expect(nested).not_to_have_attribute("open", "")
    page.keyboard.press("Space")
    expect(nested).to_have_attribute("open", "")

    tab_to(page, "[data-copy]")
    page.keyboard.press("Enter")
    expect(page.locator("[data-copy]")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator("#raw-json").text_content()
    assert f'"S": "{nested_event_id}"' in copied
    tab_to(page, "pre.raw")  # the raw JSON scrolls: the keyboard can reach it to scroll it


def test_status_raw_describe_table_by_keyboard(page):
    page.goto("/status")
    raw = page.locator("details.raw-toggle")
    expect(raw.locator("pre")).to_be_hidden()
    tab_to(page, "details.raw-toggle > summary")
    page.keyboard.press("Enter")
    expect(raw.locator("pre")).to_be_visible()
    expect(raw.locator("pre")).to_contain_text('"TableName"')


def test_insert_an_event_by_keyboard(scratch_page, scratch_url):
    page, base_url = scratch_page, scratch_url
    page.context.watch.expect_console_error(r"status of 422")
    event_id = f"browser-keys-{uuid.uuid4().hex}"
    page.goto("/")
    tab_to(page, "nav a[href='/events/new']")
    page.keyboard.press("Enter")
    expect(page.locator("#event-form")).to_be_visible()
    tab_to(page, "#event_id")
    page.keyboard.press("Control+A")
    page.keyboard.type(event_id)
    tab_to(page, "#size")
    page.keyboard.type("twelve")
    page.keyboard.press("Enter")
    # The errors arrive with the focus on the first field to fix.
    expect(page.locator("#size")).to_be_focused()
    expect(page.locator('[data-field="size"] .field-error')).to_be_visible()
    page.keyboard.press("Control+A")
    page.keyboard.type("12")
    tab_to(page, "#event-form button[type=submit]")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base_url}{event_path(event_id)}")
