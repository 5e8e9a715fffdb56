"""The landing page and relative windows in the browser (issue 23): / opens the recent past with its freshness line
and timeline; the live tail's rows update both; a relative bookmark shows the later window; auto-refresh reloads."""
from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import row_ids
from tests.browser.test_browser_hygiene import assert_no_inline_code

# tail_dashboard is the live tail's fixture (a dashboard on a fresh table), shared: each test names it (F811).
from tests.browser.test_browser_tail import FAST, TAIL_WAIT, insert_now, start_tail, tail_dashboard  # noqa: F401

pytestmark = pytest.mark.browser


def test_the_landing_page_is_the_recent_past_and_the_tail_updates_total_and_freshness(new_context, tail_dashboard):  # noqa: F811
    table, url = tail_dashboard(**FAST)
    first = f"land-{uuid.uuid4().hex[:8]}"
    insert_now(table, first)
    page = new_context(origin=url).new_page()
    page.goto("/")
    expect(page.locator("#events-heading")).to_contain_text("newest first")
    assert row_ids(page) == [first]
    expect(page.locator("[data-freshness-finding]")).to_contain_text("Newest event", timeout=TAIL_WAIT)
    expect(page.locator("[data-freshness-recent]")).to_have_text("1")
    total = page.locator("#events [data-timeline] [data-total]")
    expect(total).to_have_attribute("data-total", "1", timeout=TAIL_WAIT)
    expect(page.locator("[data-auto-refresh]")).to_be_visible()
    start_tail(page)
    arrived = f"land-{uuid.uuid4().hex[:8]}"
    insert_now(table, arrived)
    expect(page.locator(f'#events tr[data-event-id="{arrived}"]')).to_be_visible(timeout=TAIL_WAIT)
    expect(total).to_have_attribute("data-total", "2")
    expect(page.locator("[data-freshness-recent]")).to_have_text("2")
    expect(page.locator("[data-freshness-finding]")).to_contain_text("just now")
    assert_no_inline_code(page)


def test_a_relative_bookmark_opened_later_shows_the_later_window_and_links_to_the_exact_one(new_context,
                                                                                          tail_dashboard):  # noqa: F811
    table, url = tail_dashboard(**FAST)
    page = new_context(origin=url).new_page()
    bookmark = "/events?from=now-1m&to=now&order=desc"
    page.goto(bookmark)
    expect(page.locator("#events [data-empty]")).to_be_visible()
    later = f"later-{uuid.uuid4().hex[:8]}"
    insert_now(table, later)
    page.goto(bookmark)
    assert row_ids(page) == [later]
    exact = page.locator("[data-exact-window]")
    href = exact.get_attribute("href") or ""
    assert "now" not in href and "from=20" in href
    exact.click()
    expect(page.locator("[data-window]")).to_have_count(0)
    assert row_ids(page) == [later]


def test_auto_refresh_reloads_a_window_that_ends_now(new_context, tail_dashboard):  # noqa: F811
    table, url = tail_dashboard(**FAST)
    page = new_context(origin=url).new_page()
    page.goto("/?refresh=10s")
    expect(page.locator("[data-refresh-choice='10 s']")).to_have_attribute("aria-current", "true")
    arrived = f"refresh-{uuid.uuid4().hex[:8]}"
    insert_now(table, arrived)
    expect(page.locator(f'#events tr[data-event-id="{arrived}"]')).to_be_visible(timeout=20_000)
    assert page.url.endswith("/?refresh=10s")


def test_the_landing_page_without_javascript_links_to_its_freshness(new_context, tail_dashboard):  # noqa: F811
    table, url = tail_dashboard(**FAST)
    page = new_context(origin=url, java_script_enabled=False).new_page()
    page.goto("/")
    expect(page.locator("#events-heading")).to_contain_text("newest first")
    page.locator("[data-freshness-link]").click()
    expect(page.locator("[data-freshness-finding]")).to_be_visible()
