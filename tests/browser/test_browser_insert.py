"""Inserting a test event from the form with htmx: errors in place, success on the event's page, one write only.

These journeys write, so they run on the scratch dashboard (tests/browser/conftest.py), not the demo table.
"""
from __future__ import annotations

import random
import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import api_get, event_path, same_document, set_marker

pytestmark = pytest.mark.browser


def unique_id() -> str:
    return f"browser-{uuid.uuid4().hex}"


def unique_second() -> str:
    """A second of its own, far from the demo day, so that a search finds only this test's events."""
    return f"2031-{random.randint(1, 12):02}-{random.randint(1, 28):02}T{random.randint(0, 23):02}:" \
           f"{random.randint(0, 59):02}:{random.randint(0, 59):02}Z"


def fill(page, **fields: str) -> None:
    for name, value in fields.items():
        page.fill(f"#event-form #{name}", value)


def submit(page) -> None:
    page.locator("#event-form button[type=submit]").click()


def field_error(page, name: str):
    return page.locator(f'#event-form [data-field="{name}"] .field-error')


def test_field_errors_appear_beside_their_fields_without_a_reload(scratch_page):
    page = scratch_page
    page.context.watch.expect_console_error(r"status of 422")
    page.goto("/events/new")
    set_marker(page)
    fill(page, event_id=unique_id(), size="abc", timestamp="yesterday")
    submit(page)

    expect(field_error(page, "size")).to_contain_text("whole number of bytes")
    expect(field_error(page, "timestamp")).to_contain_text("not understood")
    expect(page.locator("#event-form [data-form-errors]")).to_contain_text("2 fields")
    expect(page.locator("#event-form .field-error")).to_have_count(2)
    expect(page.locator("#size")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#size")).to_have_attribute("aria-describedby", re.compile(r"\bsize-error\b"))
    # What was typed stays, so that only the mistakes need fixing.
    expect(page.locator("#size")).to_have_value("abc")
    assert page.url.endswith("/events/new")
    assert same_document(page)

    # Fixing them clears the errors and writes the event.
    fill(page, size="2048", timestamp=unique_second())
    submit(page)
    expect(page).to_have_url(re.compile(r"/events/browser-[0-9a-f]+$"))
    expect(page.locator("[role=status]")).to_contain_text("Event inserted")


def test_success_lands_on_the_new_events_page(scratch_page, scratch_url):
    page, base_url = scratch_page, scratch_url
    event_id, second = unique_id(), unique_second()
    page.goto("/events/new")
    fill(page, event_id=event_id, source="browser-tests", key="path/to/file.txt", event_name="ObjectCreated:Put",
         size="1536", content_type="text/plain", timestamp=second)
    submit(page)

    expect(page).to_have_url(f"{base_url}{event_path(event_id)}")
    expect(page.locator("h1 [data-event-id]")).to_have_attribute("data-event-id", event_id)
    expect(page.locator("[role=status]")).to_contain_text("Event inserted")
    expect(page.locator('tr[data-attribute="size"]')).to_have_attribute("data-type", "N")
    expect(page.locator('tr[data-attribute="size"] td.value')).to_have_text("1536")
    status, stored = api_get(base_url, "/api" + event_path(event_id))
    assert status == 200
    assert stored["timestamp"] == second and stored["key"] == "path/to/file.txt"


def test_a_double_click_on_submit_writes_exactly_one_event(scratch_page, scratch_url):
    page, base_url, watch = scratch_page, scratch_url, scratch_page.context.watch
    event_id, second = unique_id(), unique_second()
    page.goto("/events/new")
    fill(page, event_id=event_id, timestamp=second)
    page.locator("#event-form button[type=submit]").dblclick()

    expect(page).to_have_url(f"{base_url}{event_path(event_id)}")
    expect(page.locator("[role=status]")).to_contain_text("Event inserted")
    assert len(watch.posts("/events")) == 1, f"the double click sent {watch.posts('/events')}"
    status, _ = api_get(base_url, "/api" + event_path(event_id))
    assert status == 200
    status, found = api_get(base_url, "/api/events", timestamp=second, limit=100)
    assert status == 200
    assert [item["event_id"] for item in found["items"]] == [event_id]


def test_an_existing_id_is_refused_and_left_as_it_was(scratch_page, scratch_url):
    page, base_url = scratch_page, scratch_url
    page.context.watch.expect_console_error(r"status of 409")
    _, listing = api_get(base_url, "/api/events", limit=100)
    existing = next(item for item in listing["items"] if item["event_id"].startswith("s3-"))  # seeded, not inserted
    page.goto("/events/new")
    set_marker(page)
    fill(page, event_id=existing["event_id"], event_name="Overwritten", timestamp=unique_second())
    submit(page)

    expect(page.locator("#event-form [data-form-errors]")).to_contain_text("already exists")
    expect(field_error(page, "event_id")).to_be_visible()
    assert same_document(page)
    status, stored = api_get(base_url, "/api" + event_path(existing["event_id"]))
    assert status == 200
    assert stored["event_name"] == existing["event_name"]
    assert stored["timestamp"] == existing["timestamp"]
    page.get_by_role("link", name="Open the existing event").click()
    expect(page.locator("h1 [data-event-id]")).to_have_attribute("data-event-id", existing["event_id"])
