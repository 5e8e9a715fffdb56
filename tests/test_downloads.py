"""Downloading a listing as CSV or JSON Lines: every matching event, read page by page, exact and safe to open."""
from __future__ import annotations

import csv
import io
import json
import logging
import math
from datetime import timedelta
from decimal import Decimal

import pytest
import simplejson

from dashboard.app import create_app
from dashboard.questions import downloads as exports
from dashboard.settings.config import ConfigError
from tests import test_ranges
from tests.conftest import answer, put_items, read_calls, seed, settings_for
from tests.pages import fact
from tests.test_ranges import ALSO_DENSE, BUSY_START, DENSE, brute_force, stamp

# The ranges' fixtures: an app whose pages end only when full, and a table of dense and sparse seconds.
app, events = test_ranges.app, test_ranges.events
EXPORT = "/export/events"
COLUMNS = [*exports.SPEC_COLUMNS, "attributes", "lag_seconds"]  # lag_seconds: issue 24
WHOLE_TIME = ("0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z")


def download(client, **params) -> str:
    response = client.get(EXPORT, query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def csv_rows(text: str) -> list[list[str]]:
    header, *rows = csv.reader(io.StringIO(text, newline=""))
    assert header == COLUMNS
    return rows


def json_lines(text: str) -> list[dict]:
    assert text.endswith("\n") or text == ""
    return [simplejson.loads(line, use_decimal=True) for line in text.split("\n")[:-1]]


def exported_ids(client, export_format: str, **params) -> list[str]:
    text = download(client, format=export_format, **params)
    if export_format == "csv":
        return [row[0] for row in csv_rows(text)]
    return [item["event_id"] for item in json_lines(text)]


# One Query per second, and moto walks the table for each: two minutes around the densest second.
@pytest.mark.parametrize("export_format, order, filters", [
    ("csv", "asc", {}), ("jsonl", "desc", {}), ("csv", "desc", {"event_type": "s3"}),
    ("jsonl", "asc", {"key": "logs/", "source": "bucket-a"}),
])
def test_a_fanout_range_exports_exactly_the_brute_force_read_in_order(client, events, export_format, filters, order):
    start, end = stamp(BUSY_START + timedelta(seconds=90)), stamp(BUSY_START + timedelta(seconds=210))
    ids = exported_ids(client, export_format, plan="fanout", order=order, **{"from": start, "to": end}, **filters)
    assert ids == brute_force(events, start, end, order, filters) and len(ids) > (100 if not filters else 10)


# Issue 24 changed this test: a scan-plan file was in the table's order (one pass); it now keeps the listing's.
@pytest.mark.parametrize("export_format", ["csv", "jsonl"])
@pytest.mark.parametrize("filters", [{}, {"event_name": "ObjectRemoved:Delete", "key": "img"}])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_a_scan_plan_range_exports_every_match_once_in_the_listings_order(client, table, events, export_format,
                                                                         filters, order):
    start, end = "2024-01-01T06:00:00Z", "2024-01-01T18:00:00Z"
    ids = exported_ids(client, export_format, plan="scan", order=order, **{"from": start, "to": end}, **filters)
    assert ids == brute_force(events, start, end, order, filters) and len(ids) == len(set(ids))


@pytest.mark.parametrize("export_format", ["csv", "jsonl"])
@pytest.mark.parametrize("filters", [{}, {"source": "bucket-b"}])
def test_one_second_exports_every_event_of_it(client, events, export_format, filters):
    ids = exported_ids(client, export_format, timestamp=DENSE, **filters)
    assert sorted(ids) == sorted(brute_force(events, DENSE, DENSE, "asc", filters))
    assert len(ids) == (130 if not filters else len(ids)) and len(ids) == len(set(ids))


@pytest.mark.parametrize("export_format", ["csv", "jsonl"])
@pytest.mark.parametrize("filters", [{}, {"event_type": "test", "key": "docs/"}])
def test_the_plain_list_exports_the_whole_table_or_every_filtered_match(client, events, export_format, filters):
    ids = exported_ids(client, export_format, **filters)
    assert sorted(ids) == sorted(brute_force(events, *WHOLE_TIME, "asc", filters)) and len(ids) == len(set(ids))


def test_the_page_cursor_and_size_of_the_listing_do_not_cut_the_file(client, events):
    page = client.get("/api/events", query_string={"timestamp": ALSO_DENSE, "limit": 10}).get_json()
    ids = exported_ids(client, "csv", timestamp=ALSO_DENSE, limit=10, cursor=page["next_cursor"])
    assert len(ids) == 101


ODD_ITEM = {
    "event_id": "odd-1", "timestamp": "2024-01-01T00:00:01Z", "event_type": "s3", "source": "bucket-a",
    "key": "logs/a,b \"quoted\"\nnext line", "size": Decimal("12345678901234567890.123456789012345678"),
    "content_type": "text/plain", "processed_at": "2024-01-01T00:00:02Z",
    "tags": {"b", "a"}, "metadata": {"depth": Decimal("0.1"), "list": [Decimal("-7"), True, None]},
    "blob": b"\x00\x01binary", "note": "line\u2028separator",
}


def test_jsonl_holds_each_item_as_the_api_gives_it_with_exact_numbers(client, table):
    put_items(table, [ODD_ITEM])
    text = download(client, format="jsonl", timestamp="2024-01-01T00:00:01Z")
    assert text.count("\n") == 1, "one item, one line, whatever line breaks its values hold"
    [item] = json_lines(text)
    assert item.pop("lag_seconds") == 1  # processed_at - timestamp, after the item's own attributes
    assert item == simplejson.loads(client.get("/api/events/odd-1").get_data(as_text=True), use_decimal=True)
    assert item["size"] == Decimal("12345678901234567890.123456789012345678")
    assert "12345678901234567890.123456789012345678" in text


def test_csv_has_the_spec_columns_then_every_other_attribute_as_json(client, table):
    put_items(table, [ODD_ITEM])
    [row] = csv_rows(download(client, format="csv", timestamp="2024-01-01T00:00:01Z"))
    cells = dict(zip(COLUMNS, row, strict=True))
    assert cells["size"] == "12345678901234567890.123456789012345678"
    assert cells["key"] == ODD_ITEM["key"] and cells["timestamp"] == "2024-01-01T00:00:01Z"
    others = simplejson.loads(cells["attributes"], use_decimal=True)
    assert others == {"blob": "AAFiaW5hcnk=", "note": "line\u2028separator", "tags": ["a", "b"],
                      "metadata": {"depth": Decimal("0.1"), "list": [Decimal("-7"), True, None]}}


@pytest.mark.parametrize("lead", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_that_a_spreadsheet_would_run_as_a_formula_is_neutralized(client, table, lead):
    value = f"{lead}HYPERLINK(\"http://evil.example\",\"x\")"
    put_items(table, [{"event_id": f"{lead}id", "timestamp": "2024-01-01T00:00:03Z", "source": value,
                       "key": value, "size": Decimal("-5"), "extra": value}])
    [row] = csv_rows(download(client, format="csv", timestamp="2024-01-01T00:00:03Z"))
    cells = dict(zip(COLUMNS, row, strict=True))
    assert cells["event_id"] == f"'{lead}id"
    assert cells["source"] == cells["key"] == "'" + value
    assert cells["size"] == "-5", "a number is never a formula: it stays a number"
    assert json.loads(cells["attributes"]) == {"extra": value}, "JSON begins with {, which no spreadsheet runs"


def test_only_the_dashboards_own_notes_begin_a_row_with_a_hash(client, table):
    put_items(table, [{"event_id": "#truncated: no", "timestamp": "2024-01-01T00:00:04Z", "source": "#s"}])
    [row] = csv_rows(download(client, format="csv", timestamp="2024-01-01T00:00:04Z"))
    assert row[0] == "'#truncated: no" and row[2] == "#s"


def capped_client(table, cap: int):
    return create_app(settings_for(table.name, EXPORT_MAX_ITEMS=cap), table=table).test_client()


def test_a_file_stops_at_the_cap_and_its_last_line_says_so(table, events):
    rows = csv_rows(download(capped_client(table, 120), format="csv", timestamp=DENSE))
    assert len(rows) == 121 and all(not row[0].startswith("#") for row in rows[:120])
    assert rows[-1][0].startswith("#truncated: the file stops at EXPORT_MAX_ITEMS (120 events)")
    assert "export to S3" in rows[-1][0] and rows[-1][1:] == [""] * (len(COLUMNS) - 1)
    items = json_lines(download(capped_client(table, 150), format="jsonl", timestamp=DENSE))
    assert len(items) == 130 and all("event_id" in item for item in items), "130 events fit under a cap of 150"
    lines = json_lines(download(capped_client(table, 120), format="jsonl", timestamp=DENSE))
    assert len(lines) == 121 and all("event_id" in line for line in lines[:120])
    assert lines[-1]["truncated"] is True and lines[-1]["exported"] == 120 and lines[-1]["max_items"] == 120
    assert "event_id" not in lines[-1]


def test_a_listing_that_ends_at_the_cap_exactly_has_no_note(table, events):
    lines = json_lines(download(capped_client(table, 130), format="jsonl", timestamp=DENSE))
    assert len(lines) == 130 and all("event_id" in line for line in lines)


def test_a_large_export_reads_page_by_page_never_more_than_100_items_a_call(table):
    seed(table, 5000, "2024-01-01T00:00:00Z", source="bulk", size=Decimal(1))
    client = create_app(settings_for(table.name), table=table).test_client()
    calls = read_calls(table)
    limits: list[int | None] = []
    table.clients.dynamodb.meta.events.register("provide-client-params.dynamodb.Scan",
                                                lambda params, **_: limits.append(params.get("Limit")))
    response = client.get(EXPORT, query_string={"format": "csv"}, buffered=False)
    assert response.status_code == 200
    chunks = response.iter_encoded()
    first = next(chunks)
    assert first.startswith(b"event_id,") and calls.count("Scan") <= 2, "the first page is read, not the table"
    rows = len(first.decode().splitlines()) - 1
    for chunk in chunks:
        rows += len(chunk.decode().splitlines())
    response.close()
    assert rows == 5000
    assert math.ceil(5000 / 100) <= calls.count("Scan") <= math.ceil(5000 / 100) + 1
    assert limits and all(limit is not None and limit <= 100 for limit in limits)


def test_a_failure_after_the_first_page_ends_the_file_with_a_note_and_a_log_line(table, events, caplog):
    client = create_app(settings_for(table.name, DYNAMODB_MAX_ATTEMPTS=1), table=table).test_client()
    response = client.get(EXPORT, query_string={"format": "jsonl"}, buffered=False)
    chunks = response.iter_encoded()
    first = next(chunks)
    assert first.count(b"\n") == 100
    answer(table.clients.dynamodb, "Scan", error="InternalServerError", message="secret-arn", status=500)
    caplog.set_level(logging.WARNING, logger="dashboard.questions.downloads")
    rest = b"".join(chunks).decode()
    response.close()
    note = simplejson.loads(rest.splitlines()[-1])
    assert note["error"] is True and note["exported"] == 100 and "event_id" not in note
    assert note["message"].startswith("the file is incomplete: DynamoDB answered with an error (InternalServerError)")
    assert "secret-arn" not in rest
    assert any("export stopped after 100 events" in record.getMessage() for record in caplog.records)


def test_a_failure_after_the_first_page_ends_a_csv_with_a_note_row(table, events):
    client = create_app(settings_for(table.name, DYNAMODB_MAX_ATTEMPTS=1), table=table).test_client()
    response = client.get(EXPORT, query_string={"format": "csv"}, buffered=False)
    chunks = response.iter_encoded()
    next(chunks)
    answer(table.clients.dynamodb, "Scan", error="AccessDeniedException", status=400)
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode(), newline="")))
    response.close()
    assert rows[-1][0] == ("#error: the file is incomplete: DynamoDB refused access to Scan (AccessDeniedException)")


def test_before_the_first_byte_a_dead_backend_is_the_usual_503_page(offline_client):
    response = offline_client.get(EXPORT, query_string={"format": "csv"})
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert "Content-Disposition" not in response.headers and "<h1" in response.get_data(as_text=True)


@pytest.mark.parametrize("query, message", [
    ({"format": "xlsx"}, "format must be csv or jsonl"),
    ({}, "format must be csv or jsonl"),
    ({"format": "csv", "from": "2024-01-02T00:00:00Z", "to": "2024-01-01T00:00:00Z"}, "is after to"),
    ({"format": "csv", "timestamp": "yesterday"}, "timestamp"),
])
def test_a_bad_export_request_is_a_400_with_a_message(offline_client, query, message):
    response = offline_client.get(EXPORT, query_string=query)
    assert response.status_code == 400 and message in response.get_data(as_text=True)


@pytest.mark.parametrize("query, name", [
    ({"format": "csv"}, "{table}_all.csv"),
    ({"format": "jsonl", "timestamp": DENSE}, "{table}_2024-01-01T120000Z.jsonl"),
    ({"format": "csv", "from": "2024-01-01T12:58:00Z", "to": "2024-01-01T13:05:00Z", "source": "bucket-a"},
     "{table}_2024-01-01T125800Z_to_2024-01-01T130500Z_filtered.csv"),
])
def test_the_file_is_an_attachment_named_after_table_scope_and_format(client, table, query, name):
    response = client.get(EXPORT, query_string=query)
    assert response.headers["Content-Disposition"] == f'attachment; filename="{name.format(table=table.name)}"'
    assert response.mimetype == ("text/csv" if query["format"] == "csv" else "application/x-ndjson")
    assert response.headers["Content-Type"].count("charset") == 1


def test_an_event_whose_id_is_export_still_opens_at_its_own_address(client, table):
    put_items(table, [{"event_id": "export", "timestamp": "2024-01-01T00:00:00Z"},
                      {"event_id": "export/events", "timestamp": "2024-01-01T00:00:00Z"}])
    for event_id in ("export", "export/events"):
        page = client.get(f"/events/{event_id}")
        assert page.status_code == 200 and f'data-event-id="{event_id}"' in page.get_data(as_text=True)


def test_each_result_page_links_to_the_files_of_its_whole_listing_and_states_the_cap(table, events):
    client = capped_client(table, 2500)
    page = client.get("/events", query_string={"timestamp": DENSE, "source": "bucket-a", "limit": 10}).get_data(
        as_text=True)
    assert fact(page, "export").startswith("Export CSV / JSON Lines (up to 2,500 items)")
    assert "export to S3" in fact(page, "export")
    link = page.split('data-export-csv')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    assert link.startswith(EXPORT + "?") and "limit=" not in link and "cursor=" not in link
    ids = [row[0] for row in csv_rows(download(client, **dict(part.split("=", 1) for part in
                                                                link.split("?", 1)[1].split("&"))))]
    assert sorted(ids) == sorted(brute_force(events, DENSE, DENSE, "asc", {"source": "bucket-a"}))


def test_an_empty_listing_offers_no_file(client, events):
    assert "data-export" not in client.get("/events", query_string={"timestamp": "2024-01-02T00:00:00Z"}).get_data(
        as_text=True)


def test_a_read_only_dashboard_still_exports(table, events):
    client = create_app(settings_for(table.name, DASHBOARD_READ_ONLY="1"), table=table).test_client()
    assert len(exported_ids(client, "csv", timestamp=DENSE)) == 130


def test_every_download_leaves_an_audit_line(client, events, caplog):
    caplog.set_level(logging.INFO, logger="dashboard.audit")
    download(client, format="jsonl", timestamp=DENSE, source="bucket-a")
    [line] = [json.loads(r.getMessage()) for r in caplog.records if r.name == "dashboard.audit"]
    assert line["audit"] == "export" and line["kind"] == "file" and line["format"] == "jsonl"
    assert line["listing"] == {"timestamp": DENSE, "source": "bucket-a"} and line["outcome"] == "started"


@pytest.mark.parametrize("value", ["0", "-1", "many", "10000001"])
def test_a_bad_export_cap_stops_the_app_naming_the_variable(value):
    with pytest.raises(ConfigError, match="EXPORT_MAX_ITEMS"):
        settings_for("some-events", EXPORT_MAX_ITEMS=value)


def test_csv_carries_each_events_processing_lag_in_seconds_as_exact_as_stored(client, table):
    put_items(table, [
        {"event_id": "slow", "timestamp": "2024-01-01T00:00:01Z", "processed_at": "2024-01-01T00:08:26Z"},
        {"event_id": "quick", "timestamp": "2024-01-01T00:00:01Z", "processed_at": "2024-01-01T00:00:01.25Z"},
        {"event_id": "unprocessed", "timestamp": "2024-01-01T00:00:01Z"},
    ])
    rows = csv_rows(download(client, format="csv", timestamp="2024-01-01T00:00:01Z"))
    lags = {row[0]: dict(zip(COLUMNS, row, strict=True))["lag_seconds"] for row in rows}
    assert lags == {"slow": "505", "quick": "0.25", "unprocessed": ""}


def test_json_lines_carry_each_events_processing_lag_as_a_number_and_keep_a_stored_one(client, table):
    put_items(table, [
        {"event_id": "slow", "timestamp": "2024-01-01T00:00:01Z", "processed_at": "2024-01-01T00:08:26Z"},
        {"event_id": "quick", "timestamp": "2024-01-01T00:00:01Z", "processed_at": "2024-01-01T00:00:01.25Z"},
        {"event_id": "unprocessed", "timestamp": "2024-01-01T00:00:01Z"},
        {"event_id": "own", "timestamp": "2024-01-01T00:00:01Z", "processed_at": "2024-01-01T00:00:09Z",
         "lag_seconds": "kept as stored"},
    ])
    text = download(client, format="jsonl", timestamp="2024-01-01T00:00:01Z")
    lags = {item["event_id"]: item["lag_seconds"] for item in json_lines(text)}
    assert lags == {"slow": 505, "quick": Decimal("0.25"), "unprocessed": None, "own": "kept as stored"}
