"""plan=index on the pages: a range read through the time index where it serves, said so, and refused clearly where
it cannot; the same answers as brute force with the index, without it, and half backfilled."""
from __future__ import annotations

import pytest

from dashboard.app import create_app
from dashboard.settings.time_index import TimeIndexConfig
from dashboard.store import Table
from dashboard.store.freshness import UNKEYED_SECONDS
from dashboard.store.time_index import time_bucket
from tests.conftest import admin, put_items, settings_for, unique_table
from tests.test_ranges import api_walk, body

CONFIG = TimeIndexConfig("time-index", "day", 4)


def events_over_midnight(backfilled_every: int = 1) -> list[dict]:
    """Events over two days, dense around midnight; every `backfilled_every`th carries its time_bucket."""
    made = []
    for n in range(120):
        day, second = (1, 86_340 + n % 60) if n % 2 else (2, n % 90)
        stamp = f"2024-01-0{day}T{second // 3600:02}:{second % 3600 // 60:02}:{second % 60:02}Z"
        event = {"event_id": f"e-{n:03}", "timestamp": stamp, "source": "ab"[n % 3 == 0]}
        if n % backfilled_every == 0:
            event["time_bucket"] = str(time_bucket(event["event_id"], stamp, CONFIG))
        made.append(event)
    return made


def brute_force(events: list[dict], start: str, end: str, descending: bool, indexed_only: bool = False,
                source: str | None = None) -> list[str]:
    chosen = sorted((event for event in events if start <= event["timestamp"] <= end
                     and (not indexed_only or "time_bucket" in event)
                     and (source is None or event["source"] == source)),
                    key=lambda event: (event["timestamp"], event["event_id"]), reverse=descending)
    return [event["event_id"] for event in chosen]


def app_for(table: Table, **settings: object):
    flask_app = create_app(settings_for(table.name, None, False, READ_BUDGET_SECONDS=300, **settings), table=table)
    flask_app.config["TESTING"] = True
    return flask_app.test_client()


@pytest.fixture
def indexed(mocked_aws: None) -> Table:
    table = Table.open(settings_for(unique_table(), TIME_INDEX="time-index"))
    admin(table).create_table(wait=False, time_index="time-index")
    return table


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_a_range_over_midnight_reads_through_the_index_paged_to_the_end(indexed: Table, order: str) -> None:
    events = events_over_midnight()
    put_items(indexed, events)
    client = app_for(indexed, TIME_INDEX="time-index")
    start, end = "2024-01-01T23:00:00Z", "2024-01-02T01:00:00Z"
    ids, pages = api_walk(client, **{"from": start, "to": end, "order": order, "limit": 25})
    assert ids == brute_force(events, start, end, order == "desc")
    assert {page["plan"] for page in pages} == {"index"}
    assert "the time index time-index" in pages[0]["plan_reason"]
    # Two day buckets of four shards at most, a page.
    assert all(page["calls"] <= 8 + 1 for page in pages)


def test_filters_and_the_html_page_say_the_index(indexed: Table) -> None:
    events = events_over_midnight()
    put_items(indexed, events)
    client = app_for(indexed, TIME_INDEX="time-index")
    ids, _ = api_walk(client, **{"from": "2024-01-01T00:00:00Z", "to": "2024-01-02T23:59:59Z", "source": "a",
                                 "limit": 10})
    assert ids == brute_force(events, "2024-01-01T00:00:00Z", "2024-01-02T23:59:59Z", False, source="a")
    page = client.get("/events", query_string={"from": "2024-01-01T23:59:00Z", "to": "2024-01-02T00:01:00Z"})
    assert page.status_code == 200
    assert 'data-plan="index"' in page.get_data(as_text=True)


def test_half_backfilled_the_index_finds_its_events_and_the_old_plans_find_all(indexed: Table) -> None:
    events = events_over_midnight(backfilled_every=2)
    put_items(indexed, events)
    client = app_for(indexed, TIME_INDEX="time-index")
    start, end = "2024-01-01T23:58:00Z", "2024-01-02T00:02:00Z"
    through_index, pages = api_walk(client, **{"from": start, "to": end, "limit": 50})
    assert {page["plan"] for page in pages} == {"index"}
    assert through_index == brute_force(events, start, end, False, indexed_only=True)
    for plan in ("fanout", "scan"):
        every, _ = api_walk(client, **{"from": start, "to": end, "limit": 50, "plan": plan})
        assert every == brute_force(events, start, end, False)
    assert len(through_index) < len(every)


def test_without_the_index_configured_plan_index_is_a_400_and_auto_reads_as_before(indexed: Table) -> None:
    events = events_over_midnight()
    put_items(indexed, events)
    client = app_for(Table.open(settings_for(indexed.name)))
    refused = client.get("/api/events", query_string={"from": "2024-01-01T00:00:00Z", "to": "2024-01-01T00:00:09Z",
                                                      "plan": "index"})
    assert refused.status_code == 400
    assert "plan=index cannot be used: no time index is configured" in refused.get_data(as_text=True)
    ids, pages = api_walk(client, **{"from": "2024-01-01T23:59:50Z", "to": "2024-01-02T00:00:10Z"})
    assert ids == brute_force(events, "2024-01-01T23:59:50Z", "2024-01-02T00:00:10Z", False)
    assert "index" not in {page["plan"] for page in pages}


def test_an_index_the_table_lacks_is_said_plainly_and_never_used(table: Table) -> None:
    put_items(table, events_over_midnight())
    client = app_for(Table.open(settings_for(table.name, TIME_INDEX="time-index")), TIME_INDEX="time-index")
    refused = client.get("/api/events", query_string={"from": "2024-01-01T00:00:00Z", "to": "2024-01-01T00:00:09Z",
                                                      "plan": "index"})
    assert refused.status_code == 400
    assert "TIME_INDEX names time-index, but the table has no such index" in refused.get_data(as_text=True)
    page = body(client.get("/api/events", query_string={"from": "2024-01-01T23:59:50Z",
                                                         "to": "2024-01-02T00:00:10Z"}))
    assert page["plan"] != "index"


def test_freshness_through_the_index_costs_a_few_queries_busy_or_quiet(indexed: Table) -> None:
    from datetime import UTC, datetime, timedelta

    from dashboard.formats.times import format_stored
    from dashboard.questions import freshness
    from dashboard.store import ReadBudget
    from tests.conftest import read_calls

    now = datetime.now(UTC)

    def ago(seconds: int) -> dict:
        stamp = format_stored(now - timedelta(seconds=seconds))
        event_id = f"ago-{seconds}"
        return {"event_id": event_id, "timestamp": stamp, "time_bucket": time_bucket(event_id, stamp, CONFIG)}

    calls = read_calls(indexed)
    quiet = freshness.read(indexed, now, ReadBudget(30, 100_000))
    assert quiet.found.newest is None and quiet.reason == "no event in the last 1 h"
    # The hour back touches one or two day buckets; the count of the last 5 minutes likewise: N Queries each.
    # (and one sample Scan per process, which says whether stored timestamps are canonical).
    # (and one sample Scan per process, which says whether stored timestamps are canonical), and the last seconds on
    # timestamp-index, for events without time_bucket.
    assert calls.count("Query") <= 4 * CONFIG.shards + UNKEYED_SECONDS and calls.count("Scan") <= 1
    put_items(indexed, [ago(20), ago(100), ago(200), ago(1000)])
    del calls[:]
    busy = freshness.read(indexed, now, ReadBudget(30, 100_000))
    assert busy.found.newest is not None and busy.found.newest.event_id == "ago-20"
    assert busy.found.recent_count == 3 and busy.fresh
    assert busy.time_index == "time-index" and busy.index_not_used is None
    assert calls.count("Query") <= 4 * CONFIG.shards + UNKEYED_SECONDS
    assert busy.found.calls == len(calls)


def test_freshness_reads_without_the_index_when_the_newest_events_have_no_time_bucket(indexed: Table) -> None:
    """A writer not yet adding time_bucket: the index misses the events that say the pipeline is alive. The last
    seconds, on timestamp-index, find them, and the line is read as without the index, saying why."""
    from datetime import UTC, datetime, timedelta

    from dashboard.formats.times import format_stored

    now = datetime.now(UTC)
    keyed_long_ago = format_stored(now - timedelta(seconds=1800))
    put_items(indexed, [{"event_id": "keyed", "timestamp": keyed_long_ago,
                         "time_bucket": time_bucket("keyed", keyed_long_ago, CONFIG)}])
    client = app_for(indexed, TIME_INDEX="time-index")
    stale = client.get("/api/freshness")  # 30 min old: older than max_age
    assert stale.status_code == 503
    before = stale.get_json()
    assert before["newest_event_id"] == "keyed" and before["time_index"] == "time-index"
    assert before["time_index_not_used"] is None
    put_items(indexed, [{"event_id": f"unkeyed-{n}", "timestamp": format_stored(now - timedelta(seconds=n)),
                         "source": "new-writer"} for n in (2, 3)])
    answer = body(client.get("/api/freshness"))
    assert answer["fresh"] and answer["newest_event_id"] == "unkeyed-2" and answer["last_5m"] == 2
    assert answer["time_index"] is None
    assert answer["time_index_not_used"].startswith("2 events of the last 8 s have no time_bucket")
    page = client.get("/freshness").get_data(as_text=True)
    assert "data-index-not-used" in page and "the time index time-index misses them" in page


def test_range_pages_read_without_the_index_for_a_minute_once_freshness_finds_events_without_time_bucket(
        indexed: Table) -> None:
    """The landing page through the index would miss a new writer's events (they have no time_bucket) with nothing
    said unless the backfill sample happened on them. Once the freshness check has found some among the newest, range
    pages read by the old plans for a minute and say why; plan=index still reads the index, and says what it lacks."""
    from datetime import UTC, datetime, timedelta

    from dashboard.formats.times import format_stored

    now = datetime.now(UTC)
    keyed = format_stored(now - timedelta(seconds=60))
    put_items(indexed, [{"event_id": "keyed", "timestamp": keyed, "time_bucket": time_bucket("keyed", keyed, CONFIG)}]
              + [{"event_id": f"unkeyed-{n}", "timestamp": format_stored(now - timedelta(seconds=n))} for n in (2, 3)])
    client = app_for(indexed, TIME_INDEX="time-index")
    window = {"from": "now-15m", "to": "now"}
    before = body(client.get("/api/events", query_string=window))
    assert before["plan"] == "index" and [item["event_id"] for item in before["items"]] == ["keyed"]
    assert body(client.get("/api/freshness"))["time_index_not_used"].startswith("2 events of the last 8 s")
    after = body(client.get("/api/events", query_string=window))
    assert after["plan"] != "index"
    assert [item["event_id"] for item in after["items"]] == ["keyed", "unkeyed-3", "unkeyed-2"]
    assert after["plan_reason"].endswith("the time index time-index is not used: the freshness check found 2 events "
                                         "of the last seconds without time_bucket (a writer does not add it yet)")
    # The landing page is that window: its rows are the same.
    landing = client.get("/").get_data(as_text=True)
    assert "unkeyed-2" in landing and "is not used: the freshness check found 2 events" in landing
    asked = body(client.get("/api/events", query_string={**window, "plan": "index"}))
    assert asked["plan"] == "index" and "the freshness check found 2 events" in asked["plan_reason"]
    timeline = body(client.get("/api/timeline", query_string=window))
    assert timeline["plan"] != "index" and "the freshness check found 2 events" in timeline["plan_reason"]


def test_the_freshness_checks_finding_lasts_a_minute_and_a_clean_check_clears_it() -> None:
    from dashboard.store.backfillsample import BackfillSample

    clock = [100.0]
    sample = BackfillSample(None, "t", clock=lambda: clock[0], refresh_seconds=60)  # type: ignore[arg-type]
    assert sample.unkeyed_lately() is None
    sample.note_unkeyed(3)
    clock[0] += 59
    assert sample.unkeyed_lately() == 3
    clock[0] += 1
    assert sample.unkeyed_lately() is None
    sample.note_unkeyed(2)
    sample.note_unkeyed(0)
    assert sample.unkeyed_lately() is None
