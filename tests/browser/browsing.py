"""What the browser tests read off a page, and how they ask the API behind the browser's back."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from playwright.sync_api import expect

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-output" / "screenshots"

# A second long before the demo day: no event at all.
QUIET = "2023-06-01T00:00:00Z"


def phone(**options: Any) -> dict[str, Any]:
    """Options for a browser context on a phone: its width, touch, mobile layout; `new_context(**phone())`."""
    return {"viewport": PHONE, "is_mobile": True, "has_touch": True, **options}


def row_ids(page) -> list[str]:
    """The event ids of the rows on screen, in order."""
    return page.locator("#events tbody tr[data-event-id]").evaluate_all(
        "rows => rows.map(row => row.dataset.eventId)")


def on_page(page, number: int) -> None:
    """Wait until the listing shows page `number`."""
    expect(page.locator("#events")).to_have_attribute("data-page", str(number))


def search(page, text: str) -> None:
    """Search the listing for a timestamp from its form."""
    page.fill("#timestamp", text)
    page.locator("form.search button[type=submit]").click()


def set_marker(page) -> None:
    """A property that lives only as long as the document: any full page load drops it."""
    page.evaluate("window.__sameDocument = 'still here'")


def same_document(page) -> bool:
    return page.evaluate("window.__sameDocument === 'still here'")


def event_path(event_id: str) -> str:
    return "/events/" + quote(event_id, safe="")


def api_get(base_url: str, path: str, **params: Any) -> tuple[int, Any]:
    """GET a JSON answer outside the browser: neither a page request nor seen by the page's watch."""
    url = base_url + path + ("?" + urlencode(params) if params else "")
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")
