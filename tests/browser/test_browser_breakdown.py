"""Where the window's shape goes on the page (issue 24): the top values beside the table, the lag per bar beside the
count timeline, both loaded on their own after the rows; on a phone the top values come below the totals."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import PHONE, phone

pytestmark = pytest.mark.browser
WINDOW = "from=2024-01-01T12:00:00Z&to=2024-01-01T14:00:00Z"


def box(page, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found, selector
    return found


@pytest.mark.parametrize("size", [{"width": 1280, "height": 800}, {"width": 1400, "height": 900},
                                  {"width": 1920, "height": 1080}], ids=lambda size: f"{size['width']}px")
def test_the_top_values_stand_beside_the_table_and_the_lag_beside_the_timeline(new_context, size):
    page = new_context(viewport=size).new_page()
    page.goto(f"/events?{WINDOW}&limit=50")
    expect(page.locator("aside.breakdown:not(.breakdown-pending) [data-coverage]")).to_be_visible()
    expect(page.locator(".window-charts [data-lag-chart] svg.lag-chart")).to_be_visible()
    expect(page.locator("aside.breakdown [data-lag-chart]")).to_have_count(0)  # sent beside the timeline instead
    table, aside = box(page, "table.events"), box(page, "aside.breakdown")
    assert aside["x"] >= table["x"] + table["width"], "the top values stand to the right of the table"
    assert aside["y"] < table["y"] + table["height"] and table["y"] < aside["y"] + aside["height"], "side by side"
    timeline, lag = box(page, ".window-charts [data-timeline]"), box(page, ".window-charts [data-lag-chart]")
    assert lag["x"] >= timeline["x"] + timeline["width"] and abs(lag["y"] - timeline["y"]) < 40
    if size["width"] >= 1400:  # the query bar, the timeline and the first rows above the fold
        first_row = box(page, "table.events tbody tr:nth-child(2)")
        assert box(page, "form.search")["y"] >= 0 and first_row["y"] + first_row["height"] <= size["height"]


def test_on_a_phone_the_top_values_come_below_the_totals_and_before_the_rows(new_context):
    page = new_context(**phone()).new_page()
    page.goto(f"/events?{WINDOW}&limit=10")
    expect(page.locator("aside.breakdown:not(.breakdown-pending) [data-coverage]")).to_be_visible()
    total, aside, table = box(page, ".timeline-total"), box(page, "aside.breakdown"), box(page, "table.events")
    assert total["y"] < aside["y"] < table["y"]
    assert aside["width"] <= PHONE["width"]


def test_paging_keeps_the_lag_chart_and_the_top_values_of_the_window(page):
    page.goto(f"/events?{WINDOW}&limit=10")
    chart = page.locator(".window-charts [data-lag-chart] svg.lag-chart")
    expect(chart).to_be_visible()
    expect(page.locator("aside.breakdown:not(.breakdown-pending)")).to_be_visible()
    page.evaluate("() => { document.querySelector('.window-charts [data-lag-chart]').dataset.marker = 'kept'; }")
    page.locator("#page-next").click()
    expect(page.locator("#events")).to_have_attribute("data-page", "2")
    expect(page.locator('.window-charts [data-lag-chart][data-marker="kept"] svg.lag-chart')).to_be_visible()
    expect(page.locator(".lag-pending")).to_have_count(0)
