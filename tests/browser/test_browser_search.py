"""Searching one second through the timestamp index, from the form, with htmx."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import QUIET, row_ids, same_document, search, set_marker
from tests.conftest import BURST, BURST_SIZE

pytestmark = pytest.mark.browser
PAGE_SIZE = 25  # the listing's default


def timestamps_on_screen(page) -> list[str]:
    return page.locator("#events tbody td.ts time").evaluate_all("times => times.map(t => t.dateTime)")


def test_search_from_the_form_pages_through_a_busy_second(page):
    page.goto("/events")
    set_marker(page)
    typed = BURST.replace("T", " ").removesuffix("Z")  # any ISO-8601 form; the index holds the stored UTC form
    search(page, typed)
    heading = page.locator("#events-heading")
    expect(heading).to_contain_text(f"Events at {BURST}")
    assert parse_qs(urlsplit(page.url).query)["timestamp"] == [typed]
    expect(page.locator("#events")).to_contain_text("Query on timestamp-index")

    seen: list[str] = []
    pages = -(-BURST_SIZE // PAGE_SIZE)
    for number in range(1, pages + 1):
        expect(heading).to_contain_text(f"page {number}")
        ids = row_ids(page)
        assert ids and timestamps_on_screen(page) == [BURST] * len(ids)
        seen += ids
        if number < pages:
            page.locator("#events a[rel=next]").click()
    assert len(seen) == len(set(seen)) == BURST_SIZE, "every event of the second once, none twice"
    expect(page.locator("#events a[rel=next]")).to_have_count(0)
    expect(page.locator("#events a[rel=prev]")).to_have_count(1)
    assert same_document(page)


def test_clearing_the_search_returns_to_all_events(page):
    page.goto(f"/events?timestamp={BURST}")
    expect(page.locator("#timestamp")).to_have_value(BURST)
    set_marker(page)
    page.locator("[data-clear-search]").click()
    expect(page.locator("#events-heading")).to_contain_text("All events")
    expect(page.locator("#timestamp")).to_have_value("")
    assert "timestamp" not in parse_qs(urlsplit(page.url).query)
    assert len(set(timestamps_on_screen(page))) > 1
    assert same_document(page)


def test_a_second_without_events_shows_the_empty_state(page):
    page.goto("/events")
    search(page, QUIET)
    empty = page.locator("#events [data-empty]")
    expect(empty).to_be_visible()
    expect(empty).to_contain_text(f"No events at {QUIET}")
    assert row_ids(page) == []
    expect(page.locator("#events a[rel=next]")).to_have_count(0)


def test_a_timestamp_that_is_not_one_is_explained_and_the_table_stays(page, watch):
    # The browser notes the 400 in its console, and htmx logs the error it swaps into #alerts.
    watch.expect_console_error(r"status of 400")
    watch.expect_console_error(r"Response Status Error Code 400")
    page.goto("/events")
    rows = row_ids(page)
    search(page, "yesterday at noon")
    alert = page.locator("#alerts")
    expect(alert).to_contain_text("400")
    expect(alert).to_contain_text("not understood")
    assert row_ids(page) == rows
    # The stale alert goes with the next request.
    search(page, BURST)
    expect(page.locator("#events-heading")).to_contain_text(BURST)
    expect(alert).to_be_empty()
