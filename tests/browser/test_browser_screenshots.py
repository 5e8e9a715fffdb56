"""A screenshot of each page, for review, into test-output/screenshots/.

With UPDATE_DOCS_SCREENSHOTS=1 they are also copied to docs/screenshots/ (the README's pictures):
`UPDATE_DOCS_SCREENSHOTS=1 .venv/bin/python -m pytest tests/browser -k screenshots`.
"""
from __future__ import annotations

import os
import shutil
import struct

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import LAPTOP, REPO, SCREENSHOTS, event_path, phone
from tests.conftest import BURST

pytestmark = pytest.mark.browser

DOCS = REPO / "docs" / "screenshots"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def shoot(page, name: str) -> None:
    page.mouse.move(0, 0)  # no hover state in the picture
    # caret="initial": hiding the caret (the default) injects a <style>, which the page's CSP rightly refuses.
    data = page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), caret="initial")
    viewport = page.viewport_size
    assert png_size(data) == (viewport["width"], viewport["height"])
    assert 5_000 < len(data) < 1_500_000, f"{name}.png is {len(data)} bytes"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_screenshots_of_the_capacity_panel(new_context, scheme, device):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    options = {"viewport": LAPTOP} if device == "desktop" else phone()
    page = new_context(color_scheme=scheme, **options).new_page()
    page.goto("/status?window=7d")
    panel = page.locator("[data-panel=metrics]")
    # The demo's throttled burst is drawn: a line, in the throttle colour, for the write throttle events.
    line = panel.locator("[data-scope=table] [data-series=WriteThrottleEvents] svg path.sparkline-line")
    expect(line).to_have_count(1)
    page.mouse.move(0, 0)
    name = "status-capacity" + ("" if device == "desktop" else "-phone") + ("" if scheme == "light" else "-dark")
    data = panel.screenshot(path=str(SCREENSHOTS / f"{name}.png"), caret="initial")
    box = panel.bounding_box()
    assert png_size(data) == (round(box["width"]), round(box["height"])) or abs(png_size(data)[0] - box["width"]) <= 1
    assert 5_000 < len(data) < 3_000_000, f"{name}.png is {len(data)} bytes"
    if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SCREENSHOTS / f"{name}.png", DOCS / f"{name}.png")


def test_screenshots_of_every_page(new_context, nested_event_id):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = new_context(viewport=LAPTOP).new_page()

    page.goto("/events")
    shoot(page, "list")
    page.goto(f"/events?timestamp={BURST}")
    expect(page.locator("#events tbody tr")).to_have_count(25)
    shoot(page, "search")
    page.goto(event_path(nested_event_id))
    shoot(page, "detail")
    page.goto("/status")
    shoot(page, "status")
    page.goto("/events/new")
    shoot(page, "form")
    page.context.watch.expect_console_error(r"status of 422")
    page.fill("#size", "abc")
    page.fill("#timestamp", "yesterday")
    page.locator("#event-form button[type=submit]").click()
    expect(page.locator("#event-form .field-error")).to_have_count(2)
    shoot(page, "form-errors")

    dark = new_context(viewport=LAPTOP, color_scheme="dark").new_page()
    dark.goto("/events")
    shoot(dark, "list-dark")

    small = new_context(**phone()).new_page()
    small.goto("/events")
    shoot(small, "list-phone")
    small.goto(event_path(nested_event_id))
    shoot(small, "detail-phone")

    if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        for picture in SCREENSHOTS.glob("*.png"):
            shutil.copyfile(picture, DOCS / picture.name)
