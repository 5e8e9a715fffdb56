"""A range's timeline and total in the browser: loaded apart, kept while paging, bars that narrow; JS or not."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import row_ids, same_document, search, set_marker
from tests.browser.test_browser_accessibility import serious_violations
from tests.browser.test_browser_without_javascript import load
from tests.conftest import BURST, BURST_SIZE

pytestmark = pytest.mark.browser

# 51 seconds around the demo day's 130-event burst: one bar per second.
WINDOW = ("2024-01-01T12:59:50Z", "2024-01-01T13:00:40Z")
RANGE_URL = f"/events?from={WINDOW[0]}&to={WINDOW[1]}&limit=25"


def in_window(events, start: str, end: str) -> int:
    return sum(start <= event["timestamp"] <= end for event in events)


def timeline_requests(page) -> list[str]:
    return [url for _, url in page.context.watch.requests if "/timeline?" in url]


def test_the_total_and_chart_load_after_the_rows_and_a_bar_narrows_the_range(page, demo_table):
    _, events = demo_table
    page.goto(RANGE_URL)
    expect(page.locator("#events [data-timeline] svg.timeline-chart")).to_be_visible()
    expect(page.locator("#events [data-total]")).to_have_attribute("data-total", str(in_window(events, *WINDOW)))
    assert page.locator("#events a.timeline-link").count() == 51
    bar = page.locator(f"#events a.timeline-link[data-bar='{BURST}']")
    assert bar.get_attribute("data-bar-count") == str(BURST_SIZE)
    bar.click()
    expect(page.locator("#events-heading")).to_contain_text(f"Events from {BURST} to {BURST}")
    expect(page.locator("#events [data-total]")).to_have_attribute("data-total", str(BURST_SIZE))
    assert len(row_ids(page)) == 25 and "limit=25" in page.url


def test_paging_keeps_the_chart_without_counting_again(page):
    page.goto(RANGE_URL)
    chart = page.locator("#events [data-timeline] svg.timeline-chart")
    expect(chart).to_be_visible()
    set_marker(page)
    page.locator("#events [data-timeline]").evaluate("section => { section.dataset.seen = 'before paging'; }")
    assert len(timeline_requests(page)) == 1
    for number in (2, 3):
        page.locator("#events a[rel=next]").click()
        expect(page.locator("#events")).to_have_attribute("data-page", str(number))
    expect(page.locator("#events [data-timeline]")).to_have_attribute("data-seen", "before paging")
    expect(chart).to_be_visible()
    assert len(timeline_requests(page)) == 1 and same_document(page)
    # Another range is another chart.
    page.fill("#from", BURST)
    page.fill("#to", "2024-01-01T13:00:09Z")
    page.locator("form.search button[type=submit]").click()
    expect(page.locator("#events [data-timeline] a.timeline-link")).to_have_count(10)
    assert len(timeline_requests(page)) == 2


def test_a_one_second_search_says_how_many_events_the_second_holds(page):
    page.goto("/events")
    search(page, BURST)
    expect(page.locator("#events [data-timeline]")).to_contain_text(f"{BURST_SIZE} events in this second")


def test_the_timeline_and_its_bars_work_without_javascript(nojs_page, demo_table):
    _, events = demo_table
    page = nojs_page
    assert load(page, lambda: page.goto(RANGE_URL)) == 200
    assert load(page, lambda: page.locator("[data-timeline-link]").click()) == 200
    expect(page.locator("[data-total]")).to_have_attribute("data-total", str(in_window(events, *WINDOW)))
    assert load(page, lambda: page.locator(f"a.timeline-link[data-bar='{BURST}']").click()) == 200
    expect(page.locator("#events-heading")).to_contain_text(f"Events from {BURST} to {BURST}")
    assert len(row_ids(page)) == 25
    assert load(page, lambda: page.locator("[data-timeline-link]").click()) == 200
    expect(page.locator("[data-timeline]")).to_contain_text(f"{BURST_SIZE} events in this range")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_chart_and_its_table_pass_the_accessibility_check(new_context, scheme):
    page = new_context(color_scheme=scheme).new_page()
    page.goto(RANGE_URL + "&source=devops-studio-logs")
    expect(page.locator("#events [data-timeline] svg.timeline-chart")).to_be_visible()
    page.locator("#events details.timeline-data > summary").click()
    expect(page.locator("#events details.timeline-data table")).to_be_visible()
    assert serious_violations(page) == []
