"""Keyboard shortcuts (listed on "?"), focus after every swap, and the way back to the row that was opened."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import row_ids, same_document, set_marker

pytestmark = pytest.mark.browser


def focused_row(page) -> str | None:
    return page.evaluate("() => { const row = document.activeElement.closest('tr[data-event-id]');"
                         " return row ? row.dataset.eventId : null; }")


def test_j_and_k_move_between_rows_and_enter_opens(page):
    page.goto("/events")
    rows = row_ids(page)
    page.keyboard.press("j")
    assert focused_row(page) == rows[0]
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert focused_row(page) == rows[1]
    page.keyboard.press("Enter")
    expect(page.locator("h1 [data-event-id]")).to_have_attribute("data-event-id", rows[1])


def test_n_and_p_page_and_slash_and_g_focus_their_boxes(page):
    page.goto("/events")
    page.keyboard.press("n")
    expect(page.locator("#events")).to_have_attribute("data-page", "2")
    page.keyboard.press("p")
    expect(page.locator("#events")).to_have_attribute("data-page", "1")
    page.keyboard.press("g")
    expect(page.locator("#goto-id")).to_be_focused()
    page.keyboard.type("nope-jk")  # typing in a field never fires a shortcut
    expect(page.locator("#goto-id")).to_have_value("nope-jk")
    expect(page.locator("#events")).to_have_attribute("data-page", "1")


def test_question_mark_lists_the_shortcuts_and_escape_closes_them(page):
    page.goto("/events")
    page.keyboard.press("?")
    dialog = page.locator("#shortcuts")
    expect(dialog).to_be_visible()
    for key in ("j", "k", "n", "p", "/", "g", "Esc"):
        expect(dialog).to_contain_text(key)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_go_to_event_box_opens_a_pasted_id(page):
    page.goto("/events")
    wanted = row_ids(page)[4]
    page.locator("#goto-id").fill(f"  {wanted}  ")
    page.locator("#goto-id").press("Enter")
    expect(page.locator("h1 [data-event-id]")).to_have_attribute("data-event-id", wanted)


def test_enter_on_next_keeps_the_focus_on_next_for_thirty_pages(page):
    page.goto("/events?limit=10")
    set_marker(page)
    page.locator("#events a[rel=next]").focus()
    for number in range(2, 32):
        page.keyboard.press("Enter")
        expect(page.locator("#events")).to_have_attribute("data-page", str(number))
        expect(page.locator("#events a[rel=next]")).to_be_focused()
    # Every Enter was an htmx swap, none a reload (a link pressed before htmx wired it up would reload).
    assert same_document(page)


def test_back_from_an_event_returns_the_focus_to_its_row(page):
    page.goto("/events?limit=50")
    chosen = row_ids(page)[40]
    page.locator(f'#events tr[data-event-id="{chosen}"] td.id a').click()
    expect(page.locator("h1 [data-event-id]")).to_have_attribute("data-event-id", chosen)
    page.go_back()
    expect(page.locator(f'#events tr[data-event-id="{chosen}"] td.id a')).to_be_focused()
    assert page.evaluate("() => window.scrollY") > 0, "the page scrolled down to the row"
    # The back link does the same.
    page.locator(f'#events tr[data-event-id="{chosen}"] td.id a').click()
    page.locator("[data-back]").click()
    expect(page.locator(f'#events tr[data-event-id="{chosen}"] td.id a')).to_be_focused()


def test_insert_a_copy_and_now_fill_the_form(scratch_page):
    page = scratch_page
    page.goto("/events")
    chosen = row_ids(page)[0]
    source = page.locator(f'#events tr[data-event-id="{chosen}"] td').nth(2).inner_text()
    page.locator(f'#events tr[data-event-id="{chosen}"] td.id a').click()
    page.locator("[data-insert-copy]").click()
    expect(page.locator("#source")).to_have_value(source)
    expect(page.locator("#event_id")).to_have_value(re.compile(r"^test-"))
    page.locator("#timestamp").fill("2020-01-01T00:00:00Z")
    page.locator("[data-now]").click()
    expect(page.locator("#timestamp")).to_have_value(re.compile(r"^20[2-9]\d-\d\d-\d\dT\d\d:\d\d:\d\dZ$"))
    assert page.locator("#timestamp").input_value() != "2020-01-01T00:00:00Z"


def test_next_is_a_few_tabs_away_even_at_100_rows_because_the_pager_is_above_the_table_too(page):
    page.goto("/events?limit=100")
    page.locator("#limit").focus()
    presses = 0
    while not page.evaluate("() => document.activeElement.matches('#events a[data-pager=next]')"):
        assert presses < 40, "Next above the table cannot be reached within 40 Tab presses"
        page.keyboard.press("Tab")
        presses += 1
    assert presses < 15, f"{presses} Tab presses from the page size to Next"
    page.keyboard.press("Enter")
    expect(page.locator("#events")).to_have_attribute("data-page", "2")
    expect(page.locator("#events a[data-pager=next]")).to_be_focused()


def test_changing_the_page_size_keeps_the_position(page):
    page.goto("/events?limit=10")
    for number in (2, 3):
        page.locator("#events a[rel=next]").click()
        expect(page.locator("#events")).to_have_attribute("data-page", str(number))
    first_row = row_ids(page)[0]
    page.locator("#limit").select_option("50")
    expect(page.locator("#events tbody tr")).to_have_count(50)
    assert row_ids(page)[0] == first_row, "the larger page starts where the reader was"
    expect(page.locator("#events")).to_have_attribute("data-page", "3")
    assert "limit=50" in page.url and "cursor=" in page.url
    # A new search, by contrast, starts from its own first page.
    page.locator("#timestamp").fill("2024-01-01T13:00:00Z")
    page.locator("#timestamp").press("Enter")
    expect(page.locator("#events")).to_have_attribute("data-page", "1")
