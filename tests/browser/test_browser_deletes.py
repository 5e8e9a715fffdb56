"""Deleting test events in the browser, with JavaScript (htmx swaps the answer in place) and without (plain forms):
one from its page, several from the list of test events; a pipeline event offers no Delete.

These journeys write, so they run on the scratch dashboard (tests/browser/conftest.py), not the demo table.
"""
from __future__ import annotations

import random
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import api_get, event_path, same_document, set_marker
from tests.conftest import put_items

pytestmark = pytest.mark.browser


def unique_second() -> str:
    """A second of its own, far from the demo days, so that a search finds only this test's events."""
    return f"2032-{random.randint(1, 12):02}-{random.randint(1, 28):02}T{random.randint(0, 23):02}:" \
           f"{random.randint(0, 59):02}:{random.randint(0, 59):02}Z"


def seed(scratch_server, second: str, marked: int, pipeline: int = 0) -> tuple[list[str], list[str]]:
    """`marked` test events (as the form stores them) and `pipeline` unmarked ones at `second`: their ids."""
    tag = uuid.uuid4().hex[:8]
    tests = [f"test-{tag}-{n}" for n in range(marked)]
    others = [f"s3-{tag}-{n}" for n in range(pipeline)]
    put_items(scratch_server.app.extensions["events_table"],
              [{"event_id": event_id, "timestamp": second, "event_type": "test", "dashboard_test": True,
                "inserted_by": "local"} for event_id in tests]
              + [{"event_id": event_id, "timestamp": second, "event_type": "ObjectCreated"} for event_id in others])
    return tests, others


def exists(base_url: str, event_id: str) -> bool:
    status, _ = api_get(base_url, "/api" + event_path(event_id))
    return status == 200


@pytest.mark.parametrize("javascript", [True, False])
def test_delete_from_the_events_page(new_context, scratch_server, scratch_url, javascript):
    page = new_context(origin=scratch_url, java_script_enabled=javascript).new_page()
    (event_id,), _ = seed(scratch_server, unique_second(), 1)
    page.goto(event_path(event_id))
    expect(page.locator("[data-inserted-by]")).to_have_text("local")
    if javascript:
        # The expiry is asked on its own once the page is shown; this table has no TTL.
        expect(page.locator("[data-expiry]")).to_contain_text("no TTL")
        set_marker(page)
    else:
        expect(page.locator("[data-expiry-link]")).to_be_visible()
    page.locator("[data-delete]").click()

    expect(page.locator("[data-delete-summary]")).to_have_text("Deleted 1.")
    expect(page.locator(f'[data-delete-result="deleted"][data-event-id="{event_id}"]')).to_be_visible()
    if javascript:
        assert same_document(page)  # swapped in place of the form
        expect(page.locator("[data-delete-form]")).to_have_count(0)
    else:
        assert page.url.endswith(event_path(event_id) + "/delete")
    assert not exists(scratch_url, event_id)


def test_a_pipeline_event_offers_no_delete(page, base_url, demo_table):
    _, events = demo_table
    page.goto(event_path(events[0]["event_id"]))
    expect(page.locator("h1 [data-event-id]")).to_be_visible()
    expect(page.locator("[data-test-event]")).to_have_count(0)
    expect(page.locator("[data-delete]")).to_have_count(0)


def test_bulk_delete_with_javascript_selects_all_and_answers_in_place(scratch_page, scratch_server, scratch_url):
    page = scratch_page
    second = unique_second()
    tests, others = seed(scratch_server, second, 3, pipeline=1)
    page.goto(f"/events?timestamp={second}")
    # Every event of the second is listed; only the test events are offered for deletion.
    expect(page.locator("#events tbody tr[data-event-id]")).to_have_count(4)
    expect(page.locator("#bulk-delete input[name=id]")).to_have_count(3)
    set_marker(page)
    page.locator("[data-select-all]").click()
    expect(page.locator("#bulk-delete input[name=id]:checked")).to_have_count(3)
    page.locator("[data-delete-selected]").click()

    expect(page.locator("[data-delete-summary]")).to_have_text("Deleted 3.")
    assert same_document(page)
    assert [exists(scratch_url, event_id) for event_id in tests + others] == [False, False, False, True]
    page.locator("[data-deleted] [data-test-events-link]").click()
    expect(page.locator("#filter-inserted")).to_be_checked()


def test_bulk_delete_without_javascript_deletes_exactly_the_ticked_ones(nojs_scratch_page, scratch_server,
                                                                        scratch_url):
    page = nojs_scratch_page
    second = unique_second()
    tests, _ = seed(scratch_server, second, 3)
    page.goto(f"/events?timestamp={second}&inserted=dashboard")
    expect(page.locator("[data-select-all]")).to_be_hidden()  # it needs JavaScript
    for event_id in tests[:2]:
        page.locator(f'#bulk-delete input[name=id][value="{event_id}"]').check()
    page.locator("[data-delete-selected]").click()

    expect(page.locator("[data-delete-summary]")).to_have_text("Deleted 2.")
    expect(page.locator('[data-delete-result="deleted"]')).to_have_count(2)
    assert [exists(scratch_url, event_id) for event_id in tests] == [False, False, True]
