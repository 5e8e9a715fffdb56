"""A half-backfilled time index told by the backfill sample (store/backfillsample.py), where DynamoDB reports no
ItemCount for the index (moto and dynalite never do, AWS hours late): timelines, top values and files are of every
event, range pages say what they miss, the sample is one Scan call a minute, and the index is used again once the
backfill has finished and the sample is taken again."""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dashboard.app import create_app
from dashboard.store import Table
from dashboard.store.backfillsample import SAMPLE_ITEMS, BackfillSample, segments
from tests.conftest import admin, read_calls, settings_for, unique_table
from tests.test_backfill import run
from tests.test_index_aggregates import AROUND, DAY, WEEK, brute_top, make_events, matching, settings_of, stored
from tests.test_ranges import api_walk, body

FOUND = re.compile(r"the time index time-index is not complete: a sample of (\d+) events found (\d+) without "
                   r"time_bucket \(not yet backfilled\): read without it, so that none is missed")


@pytest.fixture
def table_name(mocked_aws: None) -> str:
    name = unique_table()
    admin(Table.open(settings_for(name))).create_table(wait=False, time_index="time-index")
    return name


def opened(name: str, clock: list[float] | None = None) -> tuple[Table, Any]:
    """The table with the index configured and its app; `clock`: the backfill sample's, moved by the test."""
    settings = settings_for(name, None, False, READ_BUDGET_SECONDS=300, DASHBOARD_DEADLINE_SECONDS=120,
                            TIMESTAMPS_CANONICAL="yes", **settings_of(DAY))
    table = Table.open(settings)
    if clock is not None:
        table = replace(table, backfill_sample=BackfillSample(table.clients.dynamodb, name, clock=lambda: clock[0]))
    flask_app = create_app(settings, table=table)
    flask_app.config["TESTING"] = True
    return table, flask_app.test_client()


def sample_requests(table: Table) -> list[dict[str, Any]]:
    """The parameters of every Scan call from now on that is a backfill sample."""
    seen: list[dict[str, Any]] = []

    def keep(params: dict[str, Any], **_: Any) -> None:
        if "attribute_not_exists(#tb)" in str(params.get("FilterExpression", "")):
            seen.append(dict(params))
    table.clients.dynamodb.meta.events.register("provide-client-params.dynamodb.Scan", keep)
    return seen


def test_the_sample_has_about_a_hundred_items_a_segment() -> None:
    assert segments(None) == segments(0) == 16 and segments(199) == 1
    assert segments(250) == 2 and segments(123_456) == 1234 and segments(10**12) == 1_000_000


@pytest.mark.parametrize("plan", [None, "index"])
def test_half_backfilled_without_an_index_count_timeline_and_top_values_count_every_event(table_name, plan) -> None:
    events = stored(table_name, make_events(DAY, backfilled_every=2))
    table, client = opened(table_name)
    asked = {"from": AROUND[0], "to": AROUND[1], **({"plan": plan} if plan else {})}
    chosen = matching(events, *AROUND, {})
    assert sum("time_bucket" in event for event in chosen) < len(chosen)
    answer = body(client.get("/api/timeline", query_string=asked))
    assert answer["plan"] != "index" and answer["complete"] and answer["total"] == len(chosen)
    found = FOUND.search(answer["plan_reason"])
    assert found is not None and 0 < int(found[2]) <= int(found[1]) <= SAMPLE_ITEMS
    page = client.get("/timeline", query_string=asked).get_data(as_text=True)
    assert "data-index-not-used" in page and "is not complete: a sample of" in page
    top = body(client.get("/api/breakdown", query_string={**asked, "fields": "source"}))
    assert top["plan"] != "index" and top["complete"] and top["counted"] == len(chosen)
    assert {value["value"]: value["count"] for value in top["fields"]["source"]["values"]} == brute_top(chosen,
                                                                                                       "source")
    assert FOUND.search(top["plan_reason"]) is not None


def test_half_backfilled_a_range_page_says_the_old_plans_read_what_it_misses(table_name) -> None:
    events = stored(table_name, make_events(DAY, backfilled_every=2))
    _, client = opened(table_name)
    ids, pages = api_walk(client, **{"from": AROUND[0], "to": AROUND[1], "limit": 50})
    assert {page["plan"] for page in pages} == {"index"}
    assert re.search(r"it is not complete: a sample of \d+ events found [1-9]\d* without time_bucket \(not yet "
                     r"backfilled\): events without time_bucket are read by plan=fanout or plan=scan",
                     pages[0]["plan_reason"])
    assert len(ids) == sum("time_bucket" in event for event in matching(events, *AROUND, {}))


def test_fully_backfilled_the_sample_finds_none_and_the_timeline_reads_the_index(table_name) -> None:
    events = stored(table_name, make_events(DAY))
    table, client = opened(table_name)
    state = table.time_index()
    assert state.sampled is not None and state.sampled > 0 and state.sampled_unbackfilled == 0
    assert not state.incomplete and state.index_items is None  # moto reports no ItemCount for the index
    answer = body(client.get("/api/timeline", query_string={"from": WEEK[0], "to": WEEK[1]}))
    assert answer["plan"] == "index" and answer["complete"] and answer["total"] == len(matching(events, *WEEK, {}))
    assert "not complete" not in answer["plan_reason"]


def test_the_sample_is_one_scan_call_a_minute_whatever_asks_for_it(table_name) -> None:
    stored(table_name, make_events(DAY))
    table, client = opened(table_name)
    calls, samples = read_calls(table), sample_requests(table)
    for _ in range(2):
        assert body(client.get("/api/timeline", query_string={"from": WEEK[0], "to": WEEK[1]}))["plan"] == "index"
    assert body(client.get("/api/breakdown", query_string={"from": WEEK[0], "to": WEEK[1]}))["plan"] == "index"
    assert calls.count("Scan") == len(samples) == 1
    sample = samples[0]
    assert sample["Select"] == "COUNT" and sample["Limit"] == SAMPLE_ITEMS
    assert sample["ReturnConsumedCapacity"] == "TOTAL"
    assert sample["FilterExpression"] == "attribute_exists(#ts) AND attribute_not_exists(#tb)"
    assert sample["ExpressionAttributeNames"] == {"#ts": "timestamp", "#tb": "time_bucket"}
    assert sample["TotalSegments"] == 2 and 0 <= sample["Segment"] < 2  # 240 items: about 100 a segment


def test_once_the_backfill_has_finished_and_the_sample_is_taken_again_the_index_is_used(table_name,
                                                                                       tmp_path: Path) -> None:
    events = stored(table_name, make_events(DAY, backfilled_every=2))
    clock = [1000.0]
    table, client = opened(table_name, clock)
    asked = {"from": AROUND[0], "to": AROUND[1]}
    before = body(client.get("/api/timeline", query_string=asked))
    assert before["plan"] != "index" and FOUND.search(before["plan_reason"])
    run(table, tmp_path / "checkpoint.json")
    clock[0] += 30  # within the minute: the sample taken before still holds
    assert FOUND.search(body(client.get("/api/timeline", query_string=asked))["plan_reason"])
    clock[0] += 31
    after = body(client.get("/api/timeline", query_string=asked))
    assert after["plan"] == "index" and after["complete"] and after["total"] == len(matching(events, *AROUND, {}))
    assert "not complete" not in after["plan_reason"]
    assert table.time_index().sampled_unbackfilled == 0


def test_a_failed_sample_is_unknown_for_a_minute_and_never_fails_the_page(table_name, monkeypatch) -> None:
    stored(table_name, make_events(DAY))
    table, client = opened(table_name)
    tried: list[dict[str, Any]] = []

    def throttled(**params: Any) -> dict[str, Any]:
        tried.append(params)
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "Scan")
    monkeypatch.setattr(table.clients.dynamodb, "scan", throttled)
    for _ in range(2):
        answer = body(client.get("/api/timeline", query_string={"from": WEEK[0], "to": WEEK[1]}))
        assert answer["plan"] == "index" and answer["complete"]  # unknown: as without the sample
    assert len(tried) == 1 and table.time_index().sampled is None
