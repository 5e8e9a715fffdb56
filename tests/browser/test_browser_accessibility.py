"""axe-core on every page and state, light and dark: no serious or critical violation.

axe is injected with page.evaluate, which runs through the DevTools protocol and is not subject to
the page's Content-Security-Policy: no context here needs bypass_csp, so the CSP under test is the real one.
"""
from __future__ import annotations

import uuid

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.browser.browsing import QUIET, event_path, phone, search
from tests.conftest import BURST

pytestmark = pytest.mark.browser

AXE = Axe()
BLOCKING = ("serious", "critical")


def serious_violations(page) -> list[str]:
    results = AXE.run(page)
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + "; ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        for violation in results.response["violations"] if violation["impact"] in BLOCKING
    ]


def show_list(page, _):
    page.goto("/events")


def show_next_page(page, _):
    page.goto("/events")
    page.locator("#events a[rel=next]").click()
    expect(page.locator("#events")).to_have_attribute("data-page", "2")


def show_search(page, _):
    page.goto("/events")
    search(page, BURST)
    expect(page.locator("#events-heading")).to_contain_text(f"Events at {BURST}")


def show_empty_search(page, _):
    page.goto(f"/events?timestamp={QUIET}")
    expect(page.locator("[data-empty]")).to_be_visible()


def show_detail(page, nested_event_id):
    page.goto(event_path(nested_event_id))
    expect(page.locator("details.nested").first).to_have_attribute("open", "")


def show_status(page, _):
    page.goto("/status")
    page.locator("details.raw-toggle > summary").click()
    expect(page.locator("details.raw-toggle pre")).to_be_visible()


def show_capacity(page, _):
    page.goto("/status?window=7d")
    page.locator("[data-panel=metrics] details.metric-data > summary").first.click()
    expect(page.locator("[data-panel=metrics] details.metric-data table").first).to_be_visible()


def show_form(page, _):
    page.goto("/events/new")


def show_form_with_errors(page, _):
    page.context.watch.expect_console_error(r"status of 422")
    page.goto("/events/new")
    page.fill("#event_id", "")
    page.fill("#size", "abc")
    page.fill("#timestamp", "yesterday")
    page.locator("#event-form button[type=submit]").click()
    expect(page.locator("#event-form .field-error")).to_have_count(3)


def show_form_conflict(page, nested_event_id):
    page.context.watch.expect_console_error(r"status of 409")
    page.goto("/events/new")
    page.fill("#event_id", nested_event_id)
    page.locator("#event-form button[type=submit]").click()
    expect(page.locator("#event-form [data-form-errors]")).to_contain_text("already exists")


def show_inserted(page, _):
    page.goto("/events/new")
    page.fill("#event_id", f"browser-a11y-{uuid.uuid4().hex}")
    page.locator("#event-form button[type=submit]").click()
    expect(page.locator("[role=status]")).to_contain_text("Event inserted")


def show_not_found(page, _):
    page.context.watch.expect_console_error(r"status of 404")
    page.goto("/events/no-such-event-" + uuid.uuid4().hex)
    expect(page.locator("h1")).to_contain_text("404")


def show_search_error(page, _):
    page.context.watch.expect_console_error(r"status of 400|Error Code 400")
    page.goto("/events")
    search(page, "not a time")
    expect(page.locator("#alerts")).to_contain_text("400")


def show_range(page, _):
    page.goto("/events?from=2024-01-01T12:59:55Z&to=2024-01-01T13:00:05Z&order=desc&source=devops-studio-logs")
    expect(page.locator("#events [data-plan]")).to_be_visible()


def show_range_continue(page, _):
    page.goto("/events?from=2024-01-01T12:59:00Z&to=2024-01-01T13:05:00Z&plan=fanout"
              "&event_name=ObjectRestore:Completed")
    expect(page.locator("#events [data-budget-spent]")).to_be_visible()


def show_shortcuts(page, _):
    page.goto("/events")
    page.keyboard.press("?")
    expect(page.locator("#shortcuts")).to_be_visible()


def show_empty_second_nearby(page, _):
    page.goto("/events?timestamp=" + BURST.replace(":00Z", ":01Z"))
    expect(page.locator("[data-nearest]")).to_be_visible()


def show_bad_search_page(page, _):
    page.context.watch.expect_console_error(r"status of 400")
    page.goto("/events?timestamp=soon")
    expect(page.locator("#error-heading")).to_contain_text("400")


STATES = {
    "list": show_list, "next-page": show_next_page, "search": show_search, "empty-search": show_empty_search,
    "detail": show_detail, "status": show_status, "capacity": show_capacity, "form": show_form,
    "form-errors": show_form_with_errors,
    "form-conflict": show_form_conflict, "inserted": show_inserted, "not-found": show_not_found,
    "search-error": show_search_error, "range": show_range, "range-continue": show_range_continue,
    "shortcuts": show_shortcuts, "nearest": show_empty_second_nearby, "bad-search-page": show_bad_search_page,
}


# States that write an event are shown on the scratch dashboard, so the demo table stays as seeded.
WRITES = {"inserted"}
# States that need a page stopped on its read budget are shown on the dashboard whose budget is tiny.
BUDGETED = {"range-continue"}


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("state", list(STATES))
def test_no_serious_accessibility_violations(new_context, nested_event_id, scratch_url, base_url, budget_server,
                                            state, scheme):
    origin = scratch_url if state in WRITES else budget_server.url if state in BUDGETED else base_url
    page = new_context(origin=origin, color_scheme=scheme).new_page()
    STATES[state](page, nested_event_id)
    assert serious_violations(page) == []


@pytest.mark.parametrize("state", ["list", "detail", "status", "capacity", "form-errors", "shortcuts"])
def test_no_serious_accessibility_violations_at_phone_width(new_context, nested_event_id, state):
    page = new_context(**phone()).new_page()
    STATES[state](page, nested_event_id)
    assert serious_violations(page) == []


def test_axe_does_find_violations(page):
    """The check above could pass by checking nothing: axe must flag a contrast failure put on a page."""
    page.goto("/events")
    page.locator("h1").evaluate("h1 => { h1.style.color = '#f4f4f4'; }")
    assert any(line.startswith("color-contrast") for line in serious_violations(page))
