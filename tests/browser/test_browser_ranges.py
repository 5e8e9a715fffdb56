"""Time ranges in the browser: quick ranges, the range form, the minutes around an event, Continue; JS or not."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import event_path, row_ids, same_document, set_marker
from tests.browser.test_browser_hygiene import assert_no_inline_code
from tests.browser.test_browser_without_javascript import load

pytestmark = pytest.mark.browser

# Around the demo day's 130-event burst at 13:00:00 (dashboard/app/demo.py BURSTS).
WINDOW = ("2024-01-01T12:59:50Z", "2024-01-01T13:00:40Z")
# Rare in the demo data (3 in 100): most seconds of a window hold none, so a tight budget ends pages early.
RARE = "ObjectRemoved:DeleteMarkerCreated"


def expected(events, start: str, end: str, **filters: str) -> list[str]:
    chosen = [event for event in events if start <= event["timestamp"] <= end
              and all(event.get(name) == value for name, value in filters.items())]
    return [event["event_id"] for event in sorted(chosen, key=lambda e: (e["timestamp"], e["event_id"]))]


def query_of(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_a_quick_range_swaps_the_table_and_fills_the_form(page):
    page.goto("/events")
    set_marker(page)
    page.locator("[data-quick-range='Last 15 min']").click()
    expect(page.locator("#events-heading")).to_contain_text("Events from")
    asked = query_of(page)
    assert set(asked) >= {"from", "to"}
    expect(page.locator("#from")).to_have_value(asked["from"][0])
    expect(page.locator("#to")).to_have_value(asked["to"][0])
    expect(page.locator("#order")).to_have_value("desc")
    # The demo data is from another day: the range is empty, and says so.
    expect(page.locator("#events [data-empty]")).to_contain_text("No events from")
    expect(page.locator("#events [data-plan]")).to_be_visible()
    assert same_document(page)
    assert_no_inline_code(page)
    page.locator("[data-clear-search]").click()
    expect(page.locator("#events-heading")).to_contain_text("All events")
    expect(page.locator("#from")).to_have_value("")


def test_the_range_form_pages_in_time_order_and_back(page, demo_table):
    _, events = demo_table
    page.goto("/events?limit=50")  # changing the page size would send the form at once (htmx)
    set_marker(page)
    page.fill("#from", "2024-01-01 12:59:50")
    page.fill("#to", WINDOW[1])
    page.locator("form.search button[type=submit]").click()
    heading = page.locator("#events-heading")
    expect(heading).to_contain_text(f"Events from {WINDOW[0]} to {WINDOW[1]} · page 1")
    seen = row_ids(page)
    for number in (2, 3):
        page.locator("#events a[rel=next]").click()
        expect(heading).to_contain_text(f"page {number}")
        seen += row_ids(page)
    assert seen == expected(events, *WINDOW)
    page.locator("#events a[rel=prev]").click()
    expect(heading).to_contain_text("page 2")
    assert row_ids(page) == seen[50:100]
    assert same_document(page)


def test_an_event_page_opens_the_minutes_around_it(page, demo_table):
    _, events = demo_table
    event = next(event for event in events if event["timestamp"] == "2024-01-01T13:00:00Z")
    page.goto(event_path(event["event_id"]))
    page.locator("[data-around='1']").click()
    expect(page.locator("#events-heading")).to_contain_text("Events from 2024-01-01T12:59:00Z to 2024-01-01T13:01:00Z")
    assert event["event_id"] in row_ids(page) or page.locator("#events a[rel=next]").count() == 1


def continue_until_the_end(page, click) -> tuple[list[str], int]:
    """Rows of every page, following Continue and Next to the end; how many pages stopped on the budget."""
    ids, stopped = row_ids(page), 0
    while page.locator("#events a[rel=next]").count():
        if page.locator("#events [data-budget-spent]").count():
            stopped += 1
            expect(page.locator("#events [data-budget-spent] progress")).to_be_visible()
            expect(page.locator("#events a[rel=next]")).to_have_text("Continue reading →")
        click(page.locator("#events a[rel=next]"))
        ids += row_ids(page)
    return ids, stopped


def test_continue_reads_a_sparse_filter_to_the_end_with_htmx(budget_page, demo_table):
    _, events = demo_table
    page = budget_page
    page.goto(f"/events?from={WINDOW[0]}&to={WINDOW[1]}&plan=fanout&limit=10&event_name={RARE}")
    set_marker(page)
    expect(page.locator("#events-heading")).to_contain_text("event_name")
    numbers = []

    def click(link):
        before = page.locator("#events").get_attribute("data-page")
        link.click()
        expect(page.locator("#events")).not_to_have_attribute("data-page", before)
        numbers.append(page.locator("#events").get_attribute("data-page"))

    ids, stopped = continue_until_the_end(page, click)
    assert ids == expected(events, *WINDOW, event_name=RARE)
    assert stopped >= 1, "the budget of 10 RCU ends some pages before they are full"
    assert same_document(page)


def test_continue_works_without_javascript(nojs_budget_page, demo_table):
    _, events = demo_table
    page = nojs_budget_page
    assert load(page, lambda: page.goto(f"/events?from={WINDOW[0]}&to={WINDOW[1]}&plan=fanout&limit=10"
                                        f"&event_name={RARE}")) == 200

    def click(link):
        assert load(page, link.click) == 200

    ids, stopped = continue_until_the_end(page, click)
    assert ids == expected(events, *WINDOW, event_name=RARE) and stopped >= 1


def test_quick_ranges_the_range_form_and_around_links_work_without_javascript(nojs_page, demo_table):
    _, events = demo_table
    page = nojs_page
    page.goto("/events")
    assert load(page, lambda: page.locator("[data-quick-range='Last 5 min']").click()) == 200
    expect(page.locator("#events-heading")).to_contain_text("Events from")
    page.fill("#from", WINDOW[0])
    page.fill("#to", WINDOW[1])
    page.select_option("#order", "desc")
    page.locator("details.filter-fields summary").click()  # the fields fold under the query box (issue 24)
    page.fill("#filter-source", "devops-studio-logs")
    assert load(page, lambda: page.locator("form.search button[type=submit]").click()) == 200
    want = list(reversed(expected(events, *WINDOW, source="devops-studio-logs")))
    assert row_ids(page) == want[:25]
    expect(page.locator("#events [data-plan]")).to_be_visible()
    event_id = want[0]
    page.goto(event_path(event_id))
    assert load(page, lambda: page.locator("[data-around='5']").click()) == 200
    expect(page.locator("#events-heading")).to_contain_text("Events from 2024-01-01T12:55")
