"""Live tail in the browser (on, off, paused while hidden, stopped after its time), the detail page's copy-id and
plain JSON, and going to an event by id; without JavaScript everything but the tail works and the toggle is not shown.
"""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import event_path, row_ids, same_document, set_marker
from tests.browser.test_browser_accessibility import serious_violations
from tests.browser.test_browser_hygiene import assert_no_inline_code
from tests.browser.test_browser_without_javascript import load

pytestmark = pytest.mark.browser

# Polls every second, reads a second once it has ended and one more has passed: a test waits seconds, not minutes.
FAST = {"TAIL_INTERVAL_SECONDS": "1", "TAIL_SETTLE_SECONDS": "1", "TIMESTAMPS_CANONICAL": "yes"}
# A live tail that stops after three seconds.
SHORT = {**FAST, "TAIL_MAX_MINUTES": "0.05"}
# What the page says while the tail polls, pauses or stops, and how long a test lets the browser wait for it.
TAIL_WAIT = 15_000

HIDE = """hidden => {
  Object.defineProperty(document, "visibilityState", {configurable: true, get: () => hidden ? "hidden" : "visible"});
  Object.defineProperty(document, "hidden", {configurable: true, get: () => hidden});
  document.dispatchEvent(new Event("visibilitychange"));
}"""


@pytest.fixture(scope="module")
def tail_dashboard(moto_endpoint):
    """Start a dashboard on a fresh, empty table of its own: `table, url = tail_dashboard(**settings)`."""
    from dashboard.app import create_app
    from dashboard.store import Table
    from tests.conftest import LiveServer, admin, settings_for, unique_table

    servers = []

    def start(**overrides: str):
        settings = settings_for(unique_table(), moto_endpoint, False, **overrides)
        table = Table.open(settings)
        admin(table).create_table(point_in_time_recovery=False)
        servers.append(LiveServer(create_app(settings)).start())
        return table, servers[-1].url

    yield start
    for server in servers:
        server.stop()


def insert_now(table, event_id: str) -> None:
    """Write one event stamped with the current second, as the pipeline would (not through the dashboard)."""
    from tests.conftest import put_items

    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    put_items(table, [{"event_id": event_id, "timestamp": stamp, "event_type": "s3", "source": "tail-bucket"}])


def tail_requests(page) -> int:
    return sum(1 for _, url in page.context.watch.requests if "/tail?" in url)


def open_last_five_minutes(page) -> None:
    page.goto("/events")
    page.locator("[data-quick-range='Last 5 min']").click()
    expect(page.locator("#events-heading")).to_contain_text("newest first")


def start_tail(page):
    """Turn the live tail on and wait for its first poll's answer."""
    box = page.locator("[data-live-tail]")
    expect(box).to_be_visible()
    page.locator("[data-tail-toggle]").click()
    expect(box).to_have_attribute("data-tail-state", "on")
    expect(page.locator("[data-tail-toggle]")).to_have_attribute("aria-pressed", "true")
    expect(box.locator(".live-tail-status [data-tail-note]")).to_contain_text("Last poll at", timeout=TAIL_WAIT)
    return box


def quiet_for_three_polls(page) -> None:
    """Let three polling intervals pass: a tail that still polled would ask /tail in them."""
    page.wait_for_timeout(3_000)


def test_live_tail_shows_an_event_that_arrives_without_a_reload(new_context, tail_dashboard):
    table, url = tail_dashboard(**FAST)
    page = new_context(origin=url).new_page()
    open_last_five_minutes(page)
    expect(page.locator("#events [data-empty]")).to_be_visible()
    set_marker(page)
    box = start_tail(page)
    arrived = f"tail-{uuid.uuid4().hex[:8]}"
    insert_now(table, arrived)
    expect(page.locator(f'#events tr[data-event-id="{arrived}"]')).to_be_visible(timeout=TAIL_WAIT)
    expect(box.locator("[data-tail-arrived]")).to_have_text("1")
    expect(page.locator("#events [data-empty]")).to_be_hidden()
    second = f"tail-{uuid.uuid4().hex[:8]}"
    insert_now(table, second)
    expect(page.locator(f'#events tr[data-event-id="{second}"]')).to_be_visible(timeout=TAIL_WAIT)
    assert row_ids(page)[:2] == [second, arrived]  # newest on top, each row once
    assert len(row_ids(page)) == 2
    expect(box.locator("[data-tail-arrived]")).to_have_text("2")
    assert same_document(page)
    assert_no_inline_code(page)
    assert not serious_violations(page)
    # The new row opens its event, and the way back is the range it arrived in.
    page.locator(f'#events tr[data-event-id="{second}"] td.id a').click()
    expect(page.locator("h1 [data-event-id]")).to_have_attribute("data-event-id", second)
    assert "from=" in (page.locator("[data-back]").get_attribute("href") or "")


def test_turning_the_live_tail_off_stops_its_polls(new_context, tail_dashboard):
    _, url = tail_dashboard(**FAST)
    page = new_context(origin=url).new_page()
    open_last_five_minutes(page)
    box = start_tail(page)
    page.locator("[data-tail-toggle]").click()
    expect(box).to_have_attribute("data-tail-state", "off")
    expect(page.locator("[data-tail-toggle]")).to_have_attribute("aria-pressed", "false")
    asked = tail_requests(page)
    assert asked >= 1
    quiet_for_three_polls(page)
    assert tail_requests(page) == asked


def test_live_tail_pauses_while_the_tab_is_hidden_and_goes_on_when_shown(new_context, tail_dashboard):
    table, url = tail_dashboard(**FAST)
    page = new_context(origin=url).new_page()
    open_last_five_minutes(page)
    box = start_tail(page)
    page.evaluate(HIDE, True)
    expect(box).to_have_attribute("data-tail-state", "paused")
    expect(box.locator("[data-tail-message='paused']")).to_be_visible()
    page.wait_for_timeout(1_500)  # a poll already on its way when the tab was hidden lands meanwhile
    asked = tail_requests(page)
    arrived = f"tail-{uuid.uuid4().hex[:8]}"
    insert_now(table, arrived)
    quiet_for_three_polls(page)
    assert tail_requests(page) == asked
    expect(page.locator(f'#events tr[data-event-id="{arrived}"]')).to_have_count(0)
    with page.expect_request(lambda request: "/tail?" in request.url):
        page.evaluate(HIDE, False)
    expect(box).to_have_attribute("data-tail-state", "on")
    expect(page.locator(f'#events tr[data-event-id="{arrived}"]')).to_be_visible(timeout=TAIL_WAIT)


def test_a_failed_poll_stops_the_tail_and_says_why(new_context, tail_dashboard):
    _, url = tail_dashboard(**FAST)
    context = new_context(origin=url)
    context.watch.expect_console_error(r"status of 400|Error Code 400")
    page = context.new_page()
    open_last_five_minutes(page)
    box = start_tail(page)
    page.locator("[data-live-tail]").evaluate("box => { box.dataset.tailAfter = 'not a time'; }")
    expect(box).to_have_attribute("data-tail-state", "failed", timeout=TAIL_WAIT)
    expect(box.locator("[data-tail-message='failed']")).to_be_visible()
    expect(page.locator("#alerts")).to_contain_text("after: timestamp 'not a time' is not understood")
    expect(page.locator("#events")).not_to_have_attribute("data-stale", "")  # the rows shown are still right


def test_live_tail_stops_after_its_stated_time_and_resumes_on_request(new_context, tail_dashboard):
    _, url = tail_dashboard(**SHORT)
    page = new_context(origin=url).new_page()
    open_last_five_minutes(page)
    expect(page.locator("[data-live-tail]")).to_contain_text("stops after 3 seconds")
    box = start_tail(page)
    expect(box).to_have_attribute("data-tail-state", "stopped", timeout=TAIL_WAIT)
    expect(box.locator("[data-tail-message='stopped']")).to_be_visible()
    expect(box.locator("[data-tail-message='stopped']")).to_contain_text("Stopped after 3 seconds")
    expect(page.locator("[data-tail-toggle]")).to_have_attribute("aria-pressed", "false")
    asked = tail_requests(page)
    quiet_for_three_polls(page)
    assert tail_requests(page) == asked
    with page.expect_request(lambda request: "/tail?" in request.url):
        page.locator("[data-tail-toggle]").click()
    expect(box).to_have_attribute("data-tail-state", "on")


def test_a_range_oldest_first_offers_to_switch_to_newest_first_for_the_tail(new_context, tail_dashboard):
    _, url = tail_dashboard(**FAST)
    page = new_context(origin=url).new_page()
    open_last_five_minutes(page)
    page.select_option("#order", "asc")
    page.locator("form.search button[type=submit]").click()
    expect(page.locator("#events-heading")).not_to_contain_text("newest first")
    expect(page.locator("[data-live-tail]")).to_have_count(0)
    page.locator("[data-live-tail-offer] a").click()
    expect(page.locator("#events-heading")).to_contain_text("newest first")
    expect(page.locator("[data-live-tail]")).to_be_visible()


def test_without_javascript_the_range_works_and_no_tail_is_offered(new_context, tail_dashboard):
    table, url = tail_dashboard(**FAST)
    insert_now(table, "before-the-page")
    page = new_context(origin=url, java_script_enabled=False).new_page()
    page.goto("/events")
    assert load(page, lambda: page.locator("[data-quick-range='Last 5 min']").click()) == 200
    assert row_ids(page) == ["before-the-page"]
    expect(page.locator("[data-live-tail]")).to_be_hidden()
    expect(page.locator("[data-tail-toggle]")).to_be_hidden()


# ---------------------------------------------------------------------------- the detail page and go-to-id

ODD_ID = "s3-copy me/ä#1"


def test_copy_id_copies_the_id_exactly(new_context, tail_dashboard):
    table, url = tail_dashboard(**FAST)
    insert_now(table, ODD_ID)
    page = new_context(origin=url, permissions=["clipboard-read", "clipboard-write"]).new_page()
    page.goto(event_path(ODD_ID))
    button = page.locator("[data-copy-text]")
    expect(button).to_have_text("Copy id")
    button.click()
    expect(button).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == ODD_ID


def test_plain_json_link_opens_the_item_without_type_tags(new_context, tail_dashboard):
    table, url = tail_dashboard(**FAST)
    insert_now(table, ODD_ID)
    for javascript in (True, False):
        context = new_context(origin=url, java_script_enabled=javascript)
        # A JSON document has no <link rel=icon>: the browser asks for /favicon.ico, which the dashboard has not.
        context.watch.expect_console_error(r"status of 404")
        page = context.new_page()
        page.goto(event_path(ODD_ID))
        assert load(page, lambda page=page: page.locator("[data-plain-json]").click()) == 200
        item = json.loads(page.locator("body").inner_text())
        assert item["event_id"] == ODD_ID and item["source"] == "tail-bucket"


def test_without_javascript_copy_id_is_not_shown(new_context, tail_dashboard):
    table, url = tail_dashboard(**FAST)
    insert_now(table, ODD_ID)
    page = new_context(origin=url, java_script_enabled=False).new_page()
    page.goto(event_path(ODD_ID))
    expect(page.locator("[data-copy-text]")).to_be_hidden()
    expect(page.locator("[data-dynamodb-json]")).to_be_visible()


@pytest.mark.parametrize("javascript", [True, False])
def test_go_to_event_opens_a_pasted_id_and_an_unknown_id_is_a_404_page(new_context, tail_dashboard, javascript):
    table, url = tail_dashboard(**FAST)
    insert_now(table, ODD_ID)
    context = new_context(origin=url, java_script_enabled=javascript)
    context.watch.expect_console_error(r"status of 404")
    page = context.new_page()
    page.goto("/events")
    page.locator("#goto-id").fill(f"  {ODD_ID}\t ")
    assert load(page, lambda: page.locator("#goto-id").press("Enter")) == 200
    expect(page.locator("h1 [data-event-id]")).to_have_attribute("data-event-id", ODD_ID)
    page.locator("#goto-id").fill("no-such-event")
    assert load(page, lambda: page.locator("#goto-id").press("Enter")) == 404
    expect(page.locator("h1")).to_contain_text("404")
    expect(page.locator(".error-message")).to_contain_text("no event with id 'no-such-event'")
