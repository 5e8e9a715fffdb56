"""When a request fails in the browser: history stays true, the old table says it is stale, Retry repeats it."""
from __future__ import annotations

import re

import pytest
from botocore.exceptions import EndpointConnectionError
from playwright.sync_api import expect

from tests.browser.browsing import row_ids
from tests.conftest import BURST

pytestmark = pytest.mark.browser


class Switchable:
    """A dashboard on the demo table whose DynamoDB can be cut off and restored mid-session."""

    def __init__(self, app, url):
        self.url, self.down = url, False
        app.extensions["events_table"].clients.dynamodb.meta.events.register("before-send.dynamodb.*", self._send)

    def _send(self, **_):
        if self.down:
            raise EndpointConnectionError(endpoint_url="http://dynamodb.test")


@pytest.fixture(scope="module")
def switchable(rigged_dashboard):
    return Switchable(*rigged_dashboard())


@pytest.fixture
def flaky_page(new_context, switchable):
    switchable.down = False
    page = new_context(origin=switchable.url).new_page()
    page.context.watch.expect_console_error(r"status of 503")
    page.context.watch.expect_console_error(r"Response Status Error Code 503")
    yield page
    switchable.down = False


def test_next_with_the_backend_down_keeps_the_address_and_marks_the_table_stale(flaky_page, switchable):
    page = flaky_page
    page.goto("/events")
    address, rows = page.url, row_ids(page)
    switchable.down = True
    page.locator("#events a[rel=next]").click()
    expect(page.locator("#alerts")).to_contain_text("503")
    expect(page.locator("#events")).to_have_attribute("data-stale", "")
    expect(page.locator("#events .stale-note")).to_contain_text("not its answer")
    assert page.url == address and row_ids(page) == rows
    # Once DynamoDB answers again, the same Next works and the table is fresh.
    switchable.down = False
    page.locator("#events a[rel=next]").click()
    expect(page.locator("#events")).to_have_attribute("data-page", "2")
    expect(page.locator("#events")).not_to_have_attribute("data-stale", "")
    assert "cursor=" in page.url


def test_a_bad_timestamp_never_enters_the_address_bar(page, watch):
    watch.expect_console_error(r"status of 400")
    watch.expect_console_error(r"Response Status Error Code 400")
    page.goto("/events")
    address = page.url
    page.locator("#timestamp").fill("yesterday at noon")
    page.locator("#timestamp").press("Enter")
    expect(page.locator("#alerts")).to_contain_text("not understood")
    assert page.url == address
    expect(page.locator("#events")).to_have_attribute("data-stale", "")


def test_the_503_page_retries_the_same_request(flaky_page, switchable):
    page = flaky_page
    switchable.down = True
    page.goto("/events?limit=10")
    expect(page.locator("#error-heading")).to_contain_text("503")
    expect(page.locator("#limit")).to_have_value("10")  # the search form stays, as asked
    expect(page.locator("[data-retry-hint]")).to_contain_text("5 seconds")
    switchable.down = False
    page.locator("[data-retry]").click()
    expect(page).to_have_url(re.compile(r"/events\?limit=10$"))
    assert len(row_ids(page)) == 10


def test_a_bad_search_reloaded_keeps_its_form_to_correct_it(page, watch):
    watch.expect_console_error(r"status of 400")
    page.goto("/events?timestamp=soon&limit=50")
    expect(page.locator(".error-message")).to_contain_text("'soon' is not understood")
    expect(page.locator("#timestamp")).to_have_value("soon")
    expect(page.locator("#limit")).to_have_value("50")
    page.locator("#timestamp").fill(BURST)
    page.locator("#timestamp").press("Enter")
    expect(page.locator("#events-heading")).to_contain_text(f"Events at {BURST}")


def test_an_empty_second_leads_to_the_nearest_second_with_events(page):
    after_burst = BURST.replace(":00Z", ":01Z")
    page.goto(f"/events?timestamp={after_burst}")
    expect(page.locator("[data-empty]")).to_contain_text(f"No events at {after_burst}")
    before = page.locator("[data-nearest-before]")
    expect(before).to_have_text(BURST)
    before.click()
    expect(page.locator("#events-heading")).to_contain_text(f"Events at {BURST}")
    page.go_back()
    page.locator("[data-around]").click()
    expect(page.locator("#events-heading")).to_contain_text("Events from")
