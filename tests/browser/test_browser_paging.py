"""Paging through the events with htmx: only the table changes, the address bar and history follow."""
from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import event_path, on_page, row_ids, same_document, set_marker

pytestmark = pytest.mark.browser


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_next_and_previous_swap_only_the_table_and_the_address_bar_follows(page):
    page.goto("/events")
    first = row_ids(page)
    assert len(first) == 25
    set_marker(page)
    # An element outside #events keeps what was set on it only if it is never re-rendered.
    page.locator("form.search").evaluate("form => form.dataset.untouched = 'yes'")

    page.locator("#events a[rel=next]").click()
    on_page(page, 2)
    expect(page).to_have_url(re.compile(r"[?&]cursor="))
    second = row_ids(page)
    assert len(second) == 25
    assert not set(first) & set(second), "page 2 repeats rows of page 1"

    page.locator("#events a[rel=prev]").click()
    on_page(page, 1)
    assert row_ids(page) == first
    assert "cursor" not in query_of(page.url), "the first page needs no cursor"

    assert same_document(page), "paging reloaded the whole page"
    expect(page.locator("form.search")).to_have_attribute("data-untouched", "yes")


def test_back_and_forward_restore_the_page_they_return_to(page):
    page.goto("/events")
    rows, urls = {1: row_ids(page)}, {1: page.url}
    for number in (2, 3):
        page.locator("#events a[rel=next]").click()
        on_page(page, number)
        rows[number], urls[number] = row_ids(page), page.url
    assert len({tuple(ids) for ids in rows.values()}) == 3
    set_marker(page)

    for number, move in ((2, page.go_back), (1, page.go_back), (2, page.go_forward), (3, page.go_forward)):
        move()
        on_page(page, number)
        assert page.url == urls[number]
        assert row_ids(page) == rows[number], f"history step to page {number} shows other rows"
    # historyCacheSize 0: htmx asks the server again, swapping in place rather than reloading.
    assert same_document(page)


def test_reloading_or_opening_a_bookmarked_page_shows_the_same_rows(page, new_context):
    page.goto("/events")
    for number in (2, 3):
        page.locator("#events a[rel=next]").click()
        on_page(page, number)
    bookmark, rows = page.url, row_ids(page)

    page.reload()
    on_page(page, 3)
    assert row_ids(page) == rows

    elsewhere = new_context().new_page()
    elsewhere.goto(bookmark)
    on_page(elsewhere, 3)
    assert row_ids(elsewhere) == rows
    # The pager of a bookmarked page still goes back: the cursor carries the earlier pages.
    elsewhere.locator("#events a[rel=prev]").click()
    on_page(elsewhere, 2)


def test_opening_an_event_and_coming_back_returns_to_the_same_rows(page):
    page.goto("/events")
    page.locator("#events a[rel=next]").click()
    on_page(page, 2)
    list_url, rows = page.url, row_ids(page)
    chosen = rows[3]

    page.locator(f'#events tr[data-event-id="{chosen}"] td.id a').click()
    expect(page).to_have_url(re.compile(re.escape(event_path(chosen)) + r"\?"))
    expect(page.locator("h1 [data-event-id]")).to_have_attribute("data-event-id", chosen)

    page.go_back()
    on_page(page, 2)
    assert page.url == list_url
    assert row_ids(page) == rows

    page.locator(f'#events tr[data-event-id="{chosen}"] td.id a').click()
    expect(page.locator("h1 [data-event-id]")).to_have_attribute("data-event-id", chosen)
    page.locator("[data-back]").click()
    on_page(page, 2)
    assert query_of(page.url) == query_of(list_url)
    assert row_ids(page) == rows


def test_page_size_chooser_reloads_only_the_table(page):
    page.goto("/events")
    set_marker(page)
    page.select_option("#limit", "10")
    expect(page.locator("#events [data-count]")).to_have_text("10")
    assert len(row_ids(page)) == 10
    assert query_of(page.url)["limit"] == ["10"]
    page.locator("#events a[rel=next]").click()
    on_page(page, 2)
    assert len(row_ids(page)) == 10
    assert query_of(page.url)["limit"] == ["10"]
    assert same_document(page)


def test_loading_indicator_shows_while_htmx_waits(page):
    page.goto("/events")
    indicator = page.locator("#loading")
    expect(indicator).to_be_hidden()
    held = []
    # Hold the fragment request until the indicator has been seen.
    page.route(re.compile(r".*/events\?.*cursor=.*"), lambda route: held.append(route))
    page.locator("#events a[rel=next]").click()
    expect(indicator).to_be_visible()
    assert len(held) == 1
    held[0].continue_()
    on_page(page, 2)
    expect(indicator).to_be_hidden()
