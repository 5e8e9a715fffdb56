"""The same journeys with JavaScript off: plain links and forms, a full page load each time."""
from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import QUIET, api_get, event_path, on_page, row_ids
from tests.conftest import BURST

pytestmark = pytest.mark.browser


def load(page, action) -> int:
    """Run an action that navigates; the status of the page it lands on (after redirects)."""
    with page.expect_navigation() as navigation:
        action()
    return navigation.value.status


def test_paging_with_plain_links(nojs_page):
    page = nojs_page
    assert load(page, lambda: page.goto("/events")) == 200
    first = row_ids(page)
    assert load(page, lambda: page.locator("#events a[rel=next]").click()) == 200
    on_page(page, 2)
    assert "cursor" in parse_qs(urlsplit(page.url).query)
    second = row_ids(page)
    assert len(second) == 25 and not set(first) & set(second)
    assert load(page, lambda: page.locator("#events a[rel=next]").click()) == 200
    on_page(page, 3)
    assert load(page, lambda: page.locator("#events a[rel=prev]").click()) == 200
    on_page(page, 2)
    assert row_ids(page) == second
    page.go_back()
    on_page(page, 3)
    page.go_back()
    on_page(page, 2)
    assert row_ids(page) == second


def test_search_and_page_size_with_a_plain_form(nojs_page):
    page = nojs_page
    page.goto("/events")
    page.fill("#timestamp", BURST)
    page.select_option("#limit", "50")
    # Without htmx, changing the page size does nothing until the form is sent.
    expect(page.locator("#events-heading")).to_contain_text("All events")
    assert load(page, lambda: page.locator("form.search button[type=submit]").click()) == 200
    expect(page.locator("#events-heading")).to_contain_text(f"Events at {BURST} · page 1")
    assert len(row_ids(page)) == 50
    assert load(page, lambda: page.locator("#events a[rel=next]").click()) == 200
    expect(page.locator("#events-heading")).to_contain_text("page 2")
    assert set(page.locator("#events td.ts time").evaluate_all("ts => ts.map(t => t.dateTime)")) == {BURST}
    assert load(page, lambda: page.locator("[data-clear-search]").click()) == 200
    expect(page.locator("#events-heading")).to_contain_text("All events")
    expect(page.locator("#timestamp")).to_have_value("")

    page.fill("#timestamp", QUIET)
    assert load(page, lambda: page.locator("form.search button[type=submit]").click()) == 200
    expect(page.locator("#events [data-empty]")).to_be_visible()


def test_a_bad_timestamp_gets_an_error_page(nojs_page):
    page = nojs_page
    page.context.watch.expect_console_error(r"status of 400")
    page.goto("/events")
    page.fill("#timestamp", "yesterday")
    assert load(page, lambda: page.locator("form.search button[type=submit]").click()) == 400
    expect(page.locator("#error-heading")).to_contain_text("400")
    expect(page.locator(".error-message")).to_contain_text("not understood")
    # The search form stays, holding what was typed, to be corrected without JavaScript too.
    expect(page.locator("#timestamp")).to_have_value("yesterday")


def test_detail_and_the_back_link(nojs_page, nested_event_id):
    page = nojs_page
    page.goto("/events")
    page.locator("#events a[rel=next]").click()
    on_page(page, 2)
    list_url, rows = page.url, row_ids(page)
    assert load(page, lambda: page.locator("#events tbody tr td.id a").first.click()) == 200
    expect(page.locator("h1 [data-event-id]")).to_have_attribute("data-event-id", rows[0])
    # The copy button needs JavaScript: it stays hidden rather than doing nothing.
    expect(page.locator("[data-copy]")).to_be_hidden()
    assert load(page, lambda: page.locator("[data-back]").click()) == 200
    assert parse_qs(urlsplit(page.url).query) == parse_qs(urlsplit(list_url).query)
    assert row_ids(page) == rows

    # Nested values open and close without JavaScript too (<details>).
    page.goto(event_path(nested_event_id))
    nested = page.locator('tr[data-attribute="metadata"] details.nested').first
    expect(nested.locator("table")).to_be_visible()
    nested.locator("summary").click()
    expect(nested.locator("table")).to_be_hidden()


def test_insert_form_errors_then_success(nojs_scratch_page, scratch_url):
    page, base_url = nojs_scratch_page, scratch_url
    page.context.watch.expect_console_error(r"status of 422")
    event_id = f"browser-nojs-{uuid.uuid4().hex}"
    page.goto("/events/new")
    page.fill("#event_id", event_id)
    page.fill("#size", "abc")
    page.fill("#timestamp", "2024-13-45T99:00:00Z")
    assert load(page, lambda: page.locator("#event-form button[type=submit]").click()) == 422
    expect(page.locator('[data-field="size"] .field-error')).to_contain_text("whole number")
    expect(page.locator('[data-field="timestamp"] .field-error')).to_be_visible()
    expect(page.locator("#event_id")).to_have_value(event_id)
    assert api_get(base_url, "/api" + event_path(event_id))[0] == 404

    page.fill("#size", "0")
    page.fill("#timestamp", "2031-02-03T04:05:06+02:00")
    assert load(page, lambda: page.locator("#event-form button[type=submit]").click()) == 200
    expect(page).to_have_url(re.compile(re.escape(event_path(event_id)) + r"$"))
    expect(page.locator("[role=status]")).to_contain_text("Event inserted")
    status, stored = api_get(base_url, "/api" + event_path(event_id))
    assert status == 200 and stored["timestamp"] == "2031-02-03T02:05:06Z"


def test_a_double_click_without_javascript_still_writes_one_event(nojs_scratch_page, scratch_url):
    page, base_url = nojs_scratch_page, scratch_url
    # The second of two posts may be answered 409 (the first one wrote): that is the point.
    page.context.watch.expect_console_error(r"status of 409")
    event_id = f"browser-nojs-{uuid.uuid4().hex}"
    second = "2032-07-08T09:10:11Z"
    page.goto("/events/new")
    page.fill("#event_id", event_id)
    page.fill("#timestamp", second)
    page.locator("#event-form button[type=submit]").dblclick()
    page.wait_for_load_state()
    landed = page.locator("[role=status], [data-form-errors]").first
    expect(landed).to_contain_text(re.compile(r"Event inserted|already exists"))
    status, found = api_get(base_url, "/api/events", timestamp=second, limit=100)
    assert status == 200
    assert [item["event_id"] for item in found["items"]] == [event_id]
