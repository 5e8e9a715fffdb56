"""The query box, its chips and "only this / all but this", with JavaScript (htmx) and without."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from dashboard.questions import query as query_box
from tests.browser.browsing import event_path, row_ids, same_document, set_marker
from tests.browser.test_browser_without_javascript import load

pytestmark = pytest.mark.browser
WINDOW = ("2024-01-01T12:59:50Z", "2024-01-01T13:00:40Z")


def expected(events, q: str, start: str = WINDOW[0], end: str = WINDOW[1]) -> list[str]:
    conditions = query_box.parse(q)
    chosen = [event for event in events if start <= event["timestamp"] <= end
              and all(condition.matches(event) for condition in conditions)]
    return [event["event_id"] for event in sorted(chosen, key=lambda e: (e["timestamp"], e["event_id"]))]


def q_of(page) -> str:
    return parse_qs(urlsplit(page.url).query).get("q", [""])[0]


def test_the_query_box_chips_and_a_values_menu_with_javascript(page, demo_table):
    _, events = demo_table
    page.goto(f"/events?from={WINDOW[0]}&to={WINDOW[1]}&limit=100")
    set_marker(page)
    page.fill("#q", "-event_name:ObjectCreated:Put")
    page.locator("form.search button[type=submit]").click()
    expect(page.locator("[data-chip]")).to_have_count(1)
    assert row_ids(page) == expected(events, "-event_name:ObjectCreated:Put")
    # A value in a row offers "only this": its condition joins the query, as a second chip.
    source = page.locator("#events td[data-field=source]").first
    value = source.get_attribute("title")
    source.click()
    page.locator(".value-menu [data-only-this]").click()
    expect(page.locator("[data-chip]")).to_have_count(2)
    q = q_of(page)
    assert q == f"-event_name:ObjectCreated:Put source:{query_box.quoted(value or '')}"
    assert row_ids(page) == expected(events, q)
    # The chip's × takes the first condition away and keeps the second.
    page.locator('[data-chip="-event_name:ObjectCreated:Put"] [data-chip-remove]').click()
    expect(page.locator("[data-chip]")).to_have_count(1)
    assert q_of(page) == f"source:{query_box.quoted(value or '')}"
    expect(page.locator("#q")).to_have_value(q_of(page))
    assert same_document(page)


def test_a_query_it_cannot_read_is_shown_beside_the_box_with_the_query_kept(nojs_page):
    page = nojs_page
    page.context.watch.expect_console_error(r"status of 400")  # the browser's own note on the answer
    page.goto("/events")
    page.fill("#q", "key:a*b source:x")
    assert load(page, lambda: page.locator("form.search button[type=submit]").click()) == 400
    expect(page.locator("#q")).to_have_value("key:a*b source:x")
    expect(page.locator("[data-query-error]")).to_contain_text("At character 6")
    expect(page.locator("[data-query-error] mark")).to_have_text("*")


def test_only_this_and_all_but_this_and_chips_without_javascript(nojs_page, demo_table):
    _, events = demo_table
    page = nojs_page
    event_id = expected(events, "")[0]
    page.goto(event_path(event_id))
    event = next(e for e in events if e["event_id"] == event_id)
    page.locator("[data-refine-values] summary").click()
    row = page.locator('[data-refine="event_name"]')
    assert load(page, lambda: row.locator("[data-all-but-this]").click()) == 200
    assert q_of(page) == f"-event_name:{query_box.quoted(event['event_name'])}"
    ids = row_ids(page)
    assert ids and all(e["event_name"] != event["event_name"] for e in events if e["event_id"] in ids)
    expect(page.locator("[data-chip]")).to_have_count(1)
    assert load(page, lambda: page.locator("[data-chip-remove]").click()) == 200
    assert "q" not in parse_qs(urlsplit(page.url).query)
    expect(page.locator("[data-chip]")).to_have_count(0)
    # The breakdown's page (what the list links to without JavaScript) offers the same for its top values.
    page.goto(f"/breakdown?from={WINDOW[0]}&to={WINDOW[1]}&fields=source")
    top = page.locator("[data-field=source] li[data-value]").first
    value = top.get_attribute("data-value") or ""
    assert load(page, lambda: top.locator("[data-only-this]").click()) == 200
    assert q_of(page) == f"source:{query_box.quoted(value)}"
    assert row_ids(page) == expected(events, q_of(page))[:25]


def test_a_rows_value_refines_the_listing_without_javascript(nojs_page, demo_table):
    _, events = demo_table
    page = nojs_page
    page.goto(f"/events?from={WINDOW[0]}&to={WINDOW[1]}&limit=100&q=-event_type:test")
    cell = page.locator("#events td[data-field=source]").first
    value = cell.get_attribute("title") or ""
    # The value is a link: it opens the event's "only this / all but this", open at that field, for this listing.
    assert load(page, lambda: cell.locator("a.cell-value").click()) == 200
    expect(page.locator("[data-refine-values]")).to_have_attribute("open", "")
    asked = page.locator('[data-refine="source"]')
    expect(asked).to_have_attribute("aria-current", "true")
    assert load(page, lambda: asked.locator("[data-all-but-this]").click()) == 200
    args = parse_qs(urlsplit(page.url).query)
    assert args["from"] == [WINDOW[0]] and args["to"] == [WINDOW[1]] and args["limit"] == ["100"]
    assert q_of(page) == f"-event_type:test -source:{query_box.quoted(value)}"
    ids = row_ids(page)
    assert ids and ids == expected(events, q_of(page))[:100]
    expect(page.locator("[data-chip]")).to_have_count(2)


def test_a_rows_values_menu_by_keyboard_alone(page, demo_table):
    _, events = demo_table
    page.goto(f"/events?from={WINDOW[0]}&to={WINDOW[1]}&limit=100")
    set_marker(page)
    first = page.locator("#events table.events tbody tr").first
    first.locator("td a").first.focus()
    page.keyboard.press("ArrowRight")  # from the event's link to its first value, event_type
    value = first.locator("td[data-field=event_type]").get_attribute("title") or ""
    expect(first.locator("td[data-field=event_type] a.cell-value")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".value-menu [data-only-this]")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator(".value-menu [data-all-but-this]")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("[data-chip]")).to_have_count(1)
    assert q_of(page) == f"-event_type:{query_box.quoted(value)}"
    assert row_ids(page) == expected(events, q_of(page))
    assert same_document(page)
