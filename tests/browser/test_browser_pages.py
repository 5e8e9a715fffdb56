"""What each page offers, as a browser renders it: columns, sticky header, truncation, typed values, badges, schemes."""
from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import event_path, phone, row_ids
from tests.conftest import BURST

pytestmark = pytest.mark.browser

COLUMNS = ["Event id", "Type", "Source", "Key", "Event name", "Size", "Content type", "Timestamp (UTC)", "Lag"]
HUMAN_SIZE = re.compile(r"^(\d+ B|\d+\.\d (KiB|MiB|GiB|TiB|PiB))$")
# The demo data stores whole seconds: a lag is never shown finer than that (no "0 ms").
DURATION = re.compile(r"^(< 1 s|-?\d+ s|-?\d+ min \d+ s|-?\d+ h \d+ min)$")


def cells(page, selector: str, script: str = "els => els.map(e => e.textContent.trim())") -> list:
    return page.locator(selector).evaluate_all(script)


def rgb(page, selector: str, prop: str = "backgroundColor") -> tuple[int, ...]:
    value = page.locator(selector).first.evaluate(f"e => getComputedStyle(e).{prop}")
    return tuple(int(part) for part in re.findall(r"\d+", value)[:3])


def test_list_columns_units_times_and_cost(page):
    page.goto("/events?limit=100")
    assert cells(page, "#events thead th") == COLUMNS
    sizes = [text for text in cells(page, "#events tbody td.num:nth-child(6)") if text]
    assert sizes and all(HUMAN_SIZE.match(text) for text in sizes), sizes[:10]
    size_titles = cells(page, "#events tbody td.num:nth-child(6)[title]", "els => els.map(e => e.title)")
    assert all(re.fullmatch(r"\d+ bytes", title) for title in size_titles)

    times = page.locator("#events tbody td.ts time").evaluate_all(
        "ts => ts.map(t => [t.dateTime, t.textContent, t.title])")
    assert len(times) == 100
    for stamp, text, title in times:
        assert stamp == text and re.fullmatch(r"2024-01-01T\d\d:\d\d:\d\dZ", text)
        assert re.fullmatch(r"\d+ (d|h|min) ago", title), title  # relative time on hover
    lags = cells(page, "#events tbody td.num:nth-child(9)")
    assert all(DURATION.match(text) for text in lags), lags[:10]
    expect(page.locator("#events [data-consumed-rcu]")).to_have_text(re.compile(r"^\d+(\.\d+)? RCU$"))
    expect(page.locator("#events [data-count]")).to_have_text("100")


def test_all_columns_fit_a_laptop_and_long_values_wrap_in_full(page):
    page.goto("/events?limit=100")
    wrap = page.locator("#events .table-wrap")
    width = wrap.evaluate("w => [w.scrollWidth, w.clientWidth]")
    assert width[0] <= width[1], f"the table needs {width[0]} px in {width[1]} px at 1280 px"
    cells_seen = page.locator("#events tbody td.trunc").evaluate_all("""tds => tds.map(td =>
        [td.scrollWidth <= td.clientWidth, td.title || (td.querySelector('[title]') || {}).title || '',
         td.textContent.trim(), td.getBoundingClientRect().height])""")
    assert all(fits for fits, _, _, _ in cells_seen), "a value is cut: touch and keyboard users cannot read it"
    assert all(title == text for _, title, text, _ in cells_seen if title)
    row_height = min(height for *_, height in cells_seen)
    assert any(height > row_height * 1.5 for *_, height in cells_seen), "no long value wrapped onto a second line"


def test_the_page_scrolls_and_the_header_row_stays_in_sight(page):
    page.goto("/events?limit=100")
    wrap = page.locator("#events .table-wrap")
    assert wrap.evaluate("w => w.scrollHeight <= w.clientHeight"), "the table scrolls inside a box of its own"
    page.evaluate("() => window.scrollTo(0, 1500)")
    header = page.locator("#events thead th").first.bounding_box()
    assert abs(header["y"]) <= 2, f"the header row left the window: {header}"
    last_row = page.locator("#events tbody tr").last
    last_row.scroll_into_view_if_needed()
    box, height = last_row.bounding_box(), page.evaluate("() => window.innerHeight")
    assert box["y"] + box["height"] <= height + 1, "the last row is cut off"


def test_phone_width_shows_each_event_as_a_card_in_full_and_never_scrolls_sideways(new_context):
    page = new_context(**phone()).new_page()
    for path in ("/events", f"/events?timestamp={BURST}", "/status", "/events/new"):
        page.goto(path)
        overflow = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert overflow[0] <= overflow[1], f"{path} is {overflow[0]} px wide on a {overflow[1]} px phone"
    page.goto("/events")
    cards = page.locator("#events tbody tr")
    expect(cards.first).to_be_visible()
    width = page.evaluate("() => window.innerWidth")
    for card in cards.all()[:10]:
        box = card.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, "a card reaches past the screen"
        for column, what in ((1, "id"), (3, "source"), (4, "key"), (5, "event name"), (8, "time")):
            cell = card.locator(f"td:nth-child({column})")
            if cell.inner_text().strip():
                assert cell.evaluate("c => c.scrollWidth <= c.clientWidth"), f"the {what} is cut on a phone"
                cell_box = cell.bounding_box()
                assert cell_box["x"] + cell_box["width"] <= width + 1, f"the {what} is off screen"
    # Time on the first line, the id under it: what people scan a card for, in that order.
    first = cards.first
    assert first.locator("td:nth-child(8)").bounding_box()["y"] < first.locator("td:nth-child(1)").bounding_box()["y"]
    # The pager is reachable on a phone, below the cards.
    page.locator("#events a[rel=next]").click()
    expect(page.locator("#events")).to_have_attribute("data-page", "2")


@pytest.mark.parametrize("scheme, dark", [("light", False), ("dark", True)])
def test_pages_follow_the_colour_scheme(new_context, scheme, dark):
    page = new_context(color_scheme=scheme).new_page()
    page.goto("/events")
    background = sum(rgb(page, "body")) / 3
    text = sum(rgb(page, "body", "color")) / 3
    assert (background < 60 and text > 180) if dark else (background > 200 and text < 60), (background, text)


def dynamodb_type(value) -> str:
    if isinstance(value, str):
        return "S"
    if isinstance(value, bytes):
        return "B"
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, (int, Decimal)):
        return "N"
    if isinstance(value, dict):
        return "M"
    if isinstance(value, list):
        return "L"
    if isinstance(value, set):
        return "SS" if all(isinstance(member, str) for member in value) else "NS"
    return "NULL"


def test_detail_shows_typed_values_nested_and_raw(page, nested_event_id, demo_table):
    _, events = demo_table
    stored = next(event for event in events if event["event_id"] == nested_event_id)
    page.goto(event_path(nested_event_id))
    types = dict(page.locator("table.attrs > tbody > tr[data-attribute]").evaluate_all(
        "rows => rows.map(r => [r.dataset.attribute, r.dataset.type])"))
    assert types == {name: dynamodb_type(value) for name, value in stored.items()}
    assert {"M", "SS", "L", "B", "N"} <= set(types.values()), "the demo event shows every kind of value"
    expect(page.locator('tr[data-attribute="ratio"] td.value')).to_have_text(str(stored["ratio"]))

    nested = page.locator('tr[data-attribute="metadata"] details.nested')
    inner = nested.locator("table")
    expect(inner).to_be_visible()
    expect(inner.locator("tbody tr")).to_have_count(len(stored["metadata"]))
    nested.locator("summary").click()
    expect(inner).to_be_hidden()
    nested.locator("summary").click()
    expect(inner).to_be_visible()

    raw = json.loads(page.locator("#raw-json").text_content())
    assert raw["event_id"] == {"S": nested_event_id}
    assert raw["ratio"] == {"N": str(stored["ratio"])}
    expect(page.locator("[data-copy]")).to_be_visible()


def test_detail_links_to_its_second_and_the_neighbouring_seconds(page, nested_event_id, demo_table):
    _, events = demo_table
    stamp = next(event["timestamp"] for event in events if event["event_id"] == nested_event_id)
    page.goto(event_path(nested_event_id))
    page.locator("[data-same-second]").click()
    expect(page.locator("#events-heading")).to_contain_text(f"Events at {stamp}")
    assert nested_event_id in row_ids(page)
    page.go_back()
    before = page.locator("[data-second-before]")
    expect(before).to_have_attribute("href", re.compile(r"timestamp=2024-01-01T\d\d(%3A|:)\d\d(%3A|:)\d\dZ"))
    before.click()
    expect(page.locator("#events-heading")).to_contain_text("Events at 2024-01-01T")
    expect(page.locator("#events-heading")).not_to_contain_text(stamp)
    page.go_back()
    page.locator("[data-second-after]").click()
    expect(page.locator("#events-heading")).to_contain_text("Events at 2024-01-01T")
    expect(page.locator("#events-heading")).not_to_contain_text(stamp)


def test_status_badges_are_green_amber_red_and_raw_describe_is_behind_a_toggle(page):
    page.goto("/status")
    expect(page.locator("[data-table-status] .badge")).to_have_text("ACTIVE")
    expect(page.locator("[data-table-status] .badge")).to_have_class(re.compile(r"\bbadge-ok\b"))
    expect(page.locator('[data-index="timestamp-index"] .badge-ok')).to_have_text("ACTIVE")
    page.locator("main").evaluate("""main => main.insertAdjacentHTML("beforeend",
        '<p id="probe"><span class="badge badge-ok">ok</span><span class="badge badge-warn">warn</span>'
        + '<span class="badge badge-bad">bad</span></p>')""")
    red, green, blue = rgb(page, "#probe .badge-ok")
    assert green > red and green > blue, "OK is green"
    red, green, blue = rgb(page, "#probe .badge-warn")
    assert red > blue and green > blue and red >= green, "Check is amber"
    red, green, blue = rgb(page, "#probe .badge-bad")
    assert red > green and red > blue, "Problem is red"

    raw = page.locator("details.raw-toggle")
    expect(raw).not_to_have_attribute("open", "")
    expect(raw.locator("pre")).to_be_hidden()
    raw.locator("summary").click()
    expect(raw.locator("pre")).to_be_visible()
    described = json.loads(raw.locator("pre").text_content())
    assert described["TableStatus"] == "ACTIVE" and described["TableName"]


def test_capacity_sparklines_are_drawn_and_follow_the_colour_scheme(new_context):
    colours = {}
    for scheme in ("light", "dark"):
        page = new_context(color_scheme=scheme).new_page()
        page.goto("/status?window=7d")
        line = page.locator("[data-scope=table] [data-series=ConsumedWriteCapacityUnits] path.sparkline-line")
        expect(line).to_have_count(1)
        box = line.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 10  # a curve across the card, not a dot
        colours[scheme] = (line.evaluate("e => getComputedStyle(e).stroke"),
                           page.locator("[data-series=WriteThrottleEvents] path.sparkline-line").first.evaluate(
                               "e => getComputedStyle(e).stroke"))
        # Every window is a link; the one shown says so.
        expect(page.locator("[data-window-link][aria-current=true]")).to_have_text("Last 7 days")
    assert colours["light"] != colours["dark"]
    assert colours["light"][0] != colours["light"][1]  # throttling stands out from consumption
