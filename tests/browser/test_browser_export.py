"""Export in the browser: the links download the whole search as a file, with or without JavaScript."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import BURST, BURST_SIZE

pytestmark = pytest.mark.browser

WINDOW = ("2024-01-01T12:59:50Z", "2024-01-01T13:00:40Z")


def downloaded(page, selector: str) -> tuple[str, str]:
    """Click an export link: the file's suggested name and its text."""
    with page.expect_download() as download:
        page.locator(selector).click()
    return download.value.suggested_filename, Path(download.value.path()).read_text(encoding="utf-8")


def test_the_csv_link_downloads_every_event_of_the_second_not_only_the_page(page, demo_table):
    name, events = demo_table
    page.goto(f"/events?timestamp={BURST}&limit=10")
    expect(page.locator("[data-export]")).to_contain_text("up to 100,000 items")
    file_name, text = downloaded(page, "[data-export-csv]")
    assert file_name == f"{name}_{BURST.replace(':', '')}.csv"
    header, *rows = csv.reader(text.splitlines())
    assert header[0] == "event_id" and header[-2:] == ["attributes", "lag_seconds"]  # lag_seconds: issue 24
    assert sorted(row[0] for row in rows) == sorted(e["event_id"] for e in events if e["timestamp"] == BURST)
    assert len(rows) == BURST_SIZE


def test_without_javascript_the_jsonl_link_downloads_a_filtered_range(nojs_page, demo_table):
    name, events = demo_table
    page = nojs_page
    source = next(e["source"] for e in events if e["timestamp"] == BURST)
    page.goto(f"/events?from={WINDOW[0]}&to={WINDOW[1]}&source={source}&plan=fanout")
    file_name, text = downloaded(page, "[data-export-jsonl]")
    assert file_name.endswith("_2024-01-01T125950Z_to_2024-01-01T130040Z_filtered.jsonl")
    ids = [json.loads(line)["event_id"] for line in text.splitlines()]
    chosen = sorted((e for e in events if WINDOW[0] <= e["timestamp"] <= WINDOW[1] and e["source"] == source),
                    key=lambda e: (e["timestamp"], e["event_id"]))
    assert ids == [e["event_id"] for e in chosen] and ids


def test_the_status_page_loads_the_exports_panel_on_its_own(page):
    page.goto("/status")
    panel = page.locator("[data-panel=export]")
    expect(panel.locator("[data-export-missing=bucket]")).to_contain_text("Set EXPORT_S3_BUCKET to enable")
    expect(panel.locator("[data-exports-none]")).to_have_text("No exports of this table yet.")


def test_without_javascript_the_exports_are_a_page_of_their_own(nojs_page):
    page = nojs_page
    page.goto("/status")
    page.locator("[data-exports-link]").click()
    expect(page.locator("h1")).to_contain_text("Exports to S3")
    expect(page.locator("[data-exports-none]")).to_have_text("No exports of this table yet.")
