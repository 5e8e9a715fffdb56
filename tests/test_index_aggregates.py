"""A range's timeline and total, top values and file through the time index, against brute force: with the index,
without it, and half backfilled (read by the old plans then, never undercounted); across midnight, a whole week and
shards, both orders, with filters and q; and a count stopped by the read budget says exactly what it counted."""
from __future__ import annotations

import random
import re
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from dashboard.app import create_app
from dashboard.formats import times
from dashboard.questions import query as query_box
from dashboard.settings.time_index import TimeIndexConfig
from dashboard.store import Filters, ReadBudget, Span, Table, index_counts
from dashboard.store.conditions import match_all
from dashboard.store.time_index import buckets, time_bucket
from tests.conftest import admin, put_items, read_calls, settings_for, unique_table
from tests.test_downloads import csv_rows, json_lines
from tests.test_ranges import body

DAY = TimeIndexConfig("time-index", "day", 4)
HOUR = TimeIndexConfig("time-index", "hour", 3)
MIDNIGHT = ("2024-01-01T23:00:00Z", "2024-01-02T01:00:00Z")
WEEK = ("2024-01-01T00:00:00Z", "2024-01-07T23:59:59Z")
# Two minutes around midnight: short enough for a Query per second on moto, where the old plans read.
AROUND = ("2024-01-01T23:59:00Z", "2024-01-02T00:00:59Z")
FILTERS: list[dict[str, str]] = [{}, {"source": "a", "q": "size>=1000"}]


def make_events(config: TimeIndexConfig, backfilled_every: int = 1, count: int = 240,
                uniform: bool = False) -> list[dict]:
    """Events over a week, dense on each side of midnight and in one burst second (`uniform`: one every 1,003 seconds
    from the week's start, so that a shard stopped after a few holds the first hours); every `backfilled_every`th
    keyed."""
    rng = random.Random(17)
    made = []
    for n in range(count):
        day = rng.randrange(1, 8)
        hour, minute, second = rng.choice([(23, 59, rng.randrange(40, 60)), (0, 0, rng.randrange(0, 20)),
                                           (12, 0, 0), (rng.randrange(24), rng.randrange(60), rng.randrange(60))])
        stamp = f"2024-01-{day:02}T{hour:02}:{minute:02}:{second:02}Z"
        if uniform:
            stamp = times.format_stored(times.parse(WEEK[0]) + timedelta(seconds=1003 * n))
        event: dict[str, Any] = {
            "event_id": f"e-{n:04}", "timestamp": stamp, "source": rng.choice("abc"),
            "event_type": rng.choice(["put", "delete", "copy"]), "size": Decimal(rng.randrange(0, 4000)),
            "processed_at": times.format_stored(times.parse(stamp) + timedelta(seconds=rng.randrange(0, 40)))}
        if n % backfilled_every == 0:
            event["time_bucket"] = time_bucket(event["event_id"], stamp, config)
        made.append(event)
    return made


def matching(events: list[dict], start: str, end: str, asked: dict[str, str]) -> list[dict]:
    conditions = query_box.parse(asked.get("q"))
    return [event for event in events if start <= event["timestamp"] <= end and match_all(conditions, event)
            and all(event.get(name) == value for name, value in asked.items() if name != "q")]


def ordered_ids(events: list[dict], descending: bool) -> list[str]:
    return [event["event_id"] for event in sorted(events, key=lambda event: (event["timestamp"], event["event_id"]),
                                                  reverse=descending)]


def settings_of(config: TimeIndexConfig | None) -> dict[str, object]:
    if config is None:
        return {}
    return {"TIME_INDEX": config.name, "TIME_INDEX_BUCKET": config.bucket, "TIME_INDEX_SHARDS": config.shards}


def client_for(name: str, config: TimeIndexConfig | None) -> tuple[Table, Any]:
    settings = settings_for(name, None, False, READ_BUDGET_SECONDS=300, DASHBOARD_DEADLINE_SECONDS=120,
                            TIMESTAMPS_CANONICAL="yes",
                            **settings_of(config))
    table = Table.open(settings)
    flask_app = create_app(settings, table=table)
    flask_app.config["TESTING"] = True
    return table, flask_app.test_client()


def reporting_index_count(table: Table, events: list[dict]) -> None:
    """DescribeTable as DynamoDB gives it, the index's ItemCount included (moto leaves it out)."""
    described = table.status._describe_table

    def with_counts() -> dict[str, Any]:
        found = described()
        for index in found.get("GlobalSecondaryIndexes") or []:
            if index.get("IndexName") == "time-index":
                index["ItemCount"] = sum("time_bucket" in event for event in events)
        found["ItemCount"] = len(events)
        return found

    table.status._describe_table = with_counts  # type: ignore[method-assign]


@pytest.fixture(params=[DAY, HOUR], ids=["day", "hour"])
def config(request: pytest.FixtureRequest) -> TimeIndexConfig:
    return request.param


@pytest.fixture
def table_name(mocked_aws: None) -> str:
    name = unique_table()
    admin(Table.open(settings_for(name))).create_table(wait=False, time_index="time-index")
    return name


def stored(table_name: str, events: list[dict]) -> list[dict]:
    put_items(Table.open(settings_for(table_name)), events)
    return events


# ---------------------------------------------------------------------------- the timeline and total


@pytest.mark.parametrize("window", [MIDNIGHT, WEEK], ids=["midnight", "week"])
@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("asked", FILTERS, ids=["all", "filtered"])
def test_a_timeline_through_the_index_is_brute_force_bar_by_bar(table_name, config, window, order, asked) -> None:
    events = stored(table_name, make_events(config))
    table, client = client_for(table_name, config)
    reporting_index_count(table, events)
    calls = read_calls(table)
    start, end = window
    answer = body(client.get("/api/timeline", query_string={"from": start, "to": end, "order": order, **asked}))
    assert answer["plan"] == "index" and answer["complete"] and answer["stopped"] is None
    assert "the time index time-index" in answer["plan_reason"]
    assert answer["total"] == len(matching(events, start, end, asked)) > 0
    for bar in answer["bars"]:
        assert bar["complete"] and bar["count"] == len(matching(events, bar["from"], bar["to"], asked))
    # One Query per shard of each bucket (every shard's part fits one answer here), and besides only the backfill
    # sample's one Scan call (store/backfillsample.py).
    parts = config.shards * len(buckets(times.parse(start), times.parse(end), config))
    assert answer["calls"] == parts == calls.count("Query") and calls.count("Scan") == 1


def test_the_timeline_page_names_the_index(table_name) -> None:
    events = stored(table_name, make_events(DAY))
    table, client = client_for(table_name, DAY)
    reporting_index_count(table, events)
    page = client.get("/timeline", query_string={"from": MIDNIGHT[0], "to": MIDNIGHT[1]}).get_data(as_text=True)
    assert 'data-count-plan="index"' in page and "Queries on the time index, per bucket and shard" in page
    assert f'data-total="{len(matching(events, *MIDNIGHT, {}))}"' in page and "data-index-not-used" not in page


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_without_the_index_the_same_totals_come_from_the_old_plans(table_name, order) -> None:
    events = stored(table_name, make_events(DAY))
    _, client = client_for(table_name, None)
    for plan in ("fanout", "scan"):
        answer = body(client.get("/api/timeline", query_string={"from": AROUND[0], "to": AROUND[1], "order": order,
                                                                "plan": plan}))
        assert answer["plan"] == plan and answer["complete"]
        assert answer["total"] == len(matching(events, *AROUND, {}))
    refused = client.get("/api/timeline", query_string={"from": AROUND[0], "to": AROUND[1], "plan": "index"})
    assert refused.status_code == 400 and "no time index is configured" in refused.get_data(as_text=True)


@pytest.mark.parametrize("plan", [None, "index"])
def test_half_backfilled_a_timeline_counts_every_event_without_the_index_and_says_why(table_name, plan) -> None:
    events = stored(table_name, make_events(DAY, backfilled_every=2))
    table, client = client_for(table_name, DAY)
    reporting_index_count(table, events)
    asked = {"from": AROUND[0], "to": AROUND[1], **({"plan": plan} if plan else {})}
    answer = body(client.get("/api/timeline", query_string=asked))
    assert answer["plan"] != "index" and answer["complete"]
    assert answer["total"] == len(matching(events, *AROUND, {})) > sum(
        "time_bucket" in event for event in matching(events, *AROUND, {}))
    assert "holds about 120 of the table's 240 events" in answer["plan_reason"]
    page = client.get("/timeline", query_string=asked).get_data(as_text=True)
    assert "data-index-not-used" in page and "holds about 120 of the table&#39;s 240 events" in page


@pytest.mark.parametrize("descending", [False, True], ids=["oldest-first", "newest-first"])
def test_a_count_the_budget_stops_says_exactly_what_it_counted(table_name, descending, monkeypatch) -> None:
    """Every shard's part takes several answers (3 events an answer): the budget, spent after the first, stops each
    part between two of them; the count is exactly the events of the bars before the one holding the earliest stop,
    in reading order, and says so."""
    events = stored(table_name, make_events(DAY, count=600, uniform=True))
    table, _ = client_for(table_name, DAY)
    assert table.index_ranges is not None
    monkeypatch.setattr(index_counts, "PAGE_ITEMS", 3)
    span = Span(*WEEK, descending)
    made = index_counts.count(table.index_ranges, span, 3600, None, ReadBudget(seconds=0, rcu=1_000_000))
    assert not made.complete and made.stopped == "budget" and made.counted_through is not None
    low, high = (made.counted_through, span.end) if descending else (span.start, made.counted_through)
    # The cut is on an hour (a bar), and every event before it in reading order was counted, none after.
    assert (made.counted_through.endswith(":00:00Z") if descending else made.counted_through.endswith(":59:59Z"))
    assert made.total == len(matching(events, low, high, {})) > 0
    assert made.seconds_counted == (times.parse(high) - times.parse(low)).total_seconds() + 1
    for first, counted in made.per_second.items():
        hour_end = times.format_stored(times.parse(first[:13] + ":00:00Z") + timedelta(seconds=3599))
        assert counted == len(matching(events, first, hour_end, {})) > 0
    # And with a budget that allows it all, the whole week.
    whole = index_counts.count(table.index_ranges, span, 60, Filters(source="b"), ReadBudget(300, 1_000_000))
    assert whole.complete and whole.total == len(matching(events, *WEEK, {"source": "b"}))


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_bars_before_the_point_counted_through_are_complete_the_rest_at_least(table_name, order, monkeypatch) -> None:
    events = stored(table_name, make_events(DAY, count=600, uniform=True))
    table, client = client_for(table_name, DAY)
    reporting_index_count(table, events)
    monkeypatch.setattr(index_counts, "PAGE_ITEMS", 3)
    flask_settings = settings_for(table_name, None, False, READ_BUDGET_RCU=0.5, **settings_of(DAY))
    flask_app = create_app(flask_settings, table=table)
    answer = body(flask_app.test_client().get("/api/timeline", query_string={"from": WEEK[0], "to": WEEK[1],
                                                                             "order": order}))
    assert answer["plan"] == "index" and not answer["complete"] and answer["stopped"] == "budget"
    through = answer["counted_through"]
    low, high = (through, WEEK[1]) if order == "desc" else (WEEK[0], through)
    assert answer["total"] == len(matching(events, low, high, {})) > 0
    assert answer["seconds_counted"] == (times.parse(high) - times.parse(low)).total_seconds() + 1
    for bar in answer["bars"]:
        assert bar["complete"] == (bar["from"] >= through if order == "desc" else bar["to"] <= through)
        if bar["complete"]:
            assert bar["count"] == len(matching(events, bar["from"], bar["to"], {}))
        assert bar["count"] <= len(matching(events, bar["from"], bar["to"], {}))
    page = flask_app.test_client().get("/timeline", query_string={"from": WEEK[0], "to": WEEK[1], "order": order})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-count-plan="index"' in text and 'data-stopped="budget"' in text
    # (counted again, from the bars kept first, so through a later second)
    assert re.search(r'data-counted-through>2024-01-0\dT\d\d:\d\d:\d\dZ</time>', text)


# ---------------------------------------------------------------------------- top values


def brute_top(events: list[dict], name: str) -> dict[Any, int]:
    return dict(Counter(event.get(name) for event in events))


@pytest.mark.parametrize("window", [MIDNIGHT, WEEK], ids=["midnight", "week"])
@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("asked", FILTERS, ids=["all", "filtered"])
def test_top_values_through_the_index_are_brute_force(table_name, config, window, order, asked) -> None:
    events = stored(table_name, make_events(config))
    table, client = client_for(table_name, config)
    reporting_index_count(table, events)
    start, end = window
    answer = body(client.get("/api/breakdown", query_string={"from": start, "to": end, "order": order,
                                                             "fields": "source,event_type", **asked}))
    chosen = matching(events, start, end, asked)
    assert answer["plan"] == "index" and answer["complete"] and answer["counted"] == len(chosen) > 0
    assert answer["coverage"] == f"counted over all {len(chosen):,} events of the window"
    for name in ("source", "event_type"):
        assert {value["value"]: value["count"] for value in answer["fields"][name]["values"]} == brute_top(chosen, name)
    lags = sorted((times.parse(event["processed_at"]) - times.parse(event["timestamp"])).total_seconds()
                  for event in chosen)
    assert answer["lag"]["max"] == lags[-1] and answer["lag"]["counted"] == len(lags)
    assert answer["calls"] == config.shards * len(buckets(times.parse(start), times.parse(end), config))


def test_top_values_the_budget_stops_are_of_the_first_seconds_and_say_so(table_name, monkeypatch) -> None:
    events = stored(table_name, make_events(DAY, count=600, uniform=True))
    table, _ = client_for(table_name, DAY)
    reporting_index_count(table, events)
    monkeypatch.setattr(index_counts, "PAGE_ITEMS", 3)
    flask_app = create_app(settings_for(table_name, None, False, READ_BUDGET_RCU=0.5, **settings_of(DAY)),
                           table=table)
    answer = body(flask_app.test_client().get("/api/breakdown", query_string={"from": WEEK[0], "to": WEEK[1],
                                                                              "fields": "source"}))
    assert answer["plan"] == "index" and not answer["complete"]
    counted = answer["seconds_counted"]
    through = times.format_stored(times.parse(WEEK[0]) + timedelta(seconds=counted - 1))
    chosen = matching(events, WEEK[0], through, {})
    assert 0 < answer["counted"] == len(chosen) < len(matching(events, *WEEK, {}))
    assert {value["value"]: value["count"] for value in answer["fields"]["source"]["values"]} == brute_top(chosen,
                                                                                                          "source")
    assert answer["coverage"].startswith(f"over the first {len(chosen):,} of about ")
    assert "events of the window (the earliest" in answer["coverage"]
    page = flask_app.test_client().get("/breakdown", query_string={"from": WEEK[0], "to": WEEK[1], "fields": "source"})
    assert page.status_code == 200 and f"ver the first {len(chosen):,} of about " in page.get_data(as_text=True)


def test_half_backfilled_top_values_count_every_event_by_the_old_plans(table_name) -> None:
    events = stored(table_name, make_events(DAY, backfilled_every=2))
    table, client = client_for(table_name, DAY)
    reporting_index_count(table, events)
    for plan in ({}, {"plan": "index"}):
        answer = body(client.get("/api/breakdown", query_string={"from": AROUND[0], "to": AROUND[1],
                                                                 "fields": "source", **plan}))
        chosen = matching(events, *AROUND, {})
        assert answer["plan"] != "index" and answer["complete"] and answer["counted"] == len(chosen)
        assert {value["value"]: value["count"] for value in answer["fields"]["source"]["values"]} == brute_top(
            chosen, "source")


# ---------------------------------------------------------------------------- files


def exported(client, export_format: str, **params: str) -> list[str]:
    response = client.get("/export/events", query_string={"format": export_format, **params})
    assert response.status_code == 200, response.get_data(as_text=True)
    text = response.get_data(as_text=True)
    if export_format == "csv":
        return [row[0] for row in csv_rows(text)]
    return [line["event_id"] for line in json_lines(text)]


@pytest.mark.parametrize("export_format", ["csv", "jsonl"])
@pytest.mark.parametrize("order", ["asc", "desc"])
@pytest.mark.parametrize("asked", FILTERS, ids=["all", "filtered"])
def test_a_file_through_the_index_is_the_listing_in_order(table_name, config, export_format, order, asked) -> None:
    events = stored(table_name, make_events(config, count=330))
    table, client = client_for(table_name, config)
    reporting_index_count(table, events)
    calls = read_calls(table)
    ids = exported(client, export_format, **{"from": WEEK[0], "to": WEEK[1], "order": order}, **asked)
    assert ids == ordered_ids(matching(events, *WEEK, asked), order == "desc")
    # Read through the index: one Scan call, the backfill sample's (store/backfillsample.py), not even the density one.
    assert calls.count("Scan") == 1


def test_half_backfilled_a_file_holds_every_event_of_the_range(table_name) -> None:
    events = stored(table_name, make_events(DAY, backfilled_every=3))
    table, client = client_for(table_name, DAY)
    reporting_index_count(table, events)
    for plan in ({}, {"plan": "index"}):
        ids = exported(client, "jsonl", **{"from": AROUND[0], "to": AROUND[1], "order": "desc"}, **plan)
        assert ids == ordered_ids(matching(events, *AROUND, {}), True)


# ---------------------------------------------------------------------------- the deadline


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_a_count_on_a_slow_backend_stops_before_the_deadline_and_says_through_which_second(table_name, order,
                                                                                            monkeypatch) -> None:
    """Hourly buckets of 3 shards, each Query held 50 ms: a week's 504 Queries cannot end within a 1.5 s deadline, so
    the count stops between two waves and says exactly what it counted (a 200, never a 503)."""
    from tests.test_count_deadline import SlowCalls

    events = stored(table_name, make_events(HOUR))
    settings = settings_for(table_name, None, False, READ_BUDGET_SECONDS=300, READ_BUDGET_RCU=1_000_000,
                            DASHBOARD_DEADLINE_SECONDS=1.5, TIMESTAMPS_CANONICAL="yes", **settings_of(HOUR))
    table = Table.open(settings)
    assert table.index_ranges is not None
    slow = SlowCalls(table.index_ranges.dynamodb, lambda n: 0.05)
    monkeypatch.setattr(table.index_ranges, "_dynamodb", slow)
    client = create_app(settings, table=table).test_client()
    answer = body(client.get("/api/timeline", query_string={"from": WEEK[0], "to": WEEK[1], "order": order}))
    assert answer["plan"] == "index" and not answer["complete"] and answer["stopped"] == "deadline"
    through = answer["counted_through"]
    low, high = (through, WEEK[1]) if order == "desc" else (WEEK[0], through)
    assert 0 < answer["total"] == len(matching(events, low, high, {})) < len(matching(events, *WEEK, {}))
    assert 0 < answer["seconds_counted"] == (times.parse(high) - times.parse(low)).total_seconds() + 1 < 7 * 86_400
    assert 0 < answer["calls"] <= slow.calls < 504


# ---------------------------------------------------------------------------- settled buckets kept


def test_a_settled_buckets_count_is_kept_so_a_count_looked_at_again_reads_only_what_it_lacks(table_name) -> None:
    """Each bucket read whole is kept (its last second settled, as these of 2024 are): the same week again costs no
    call; a count the budget stopped goes on from the buckets it kept, further each time, and is exact each time."""
    events = stored(table_name, make_events(DAY))
    settings = settings_for(table_name, None, False, READ_BUDGET_RCU=0.5, TIMESTAMPS_CANONICAL="yes",
                            DASHBOARD_DEADLINE_SECONDS=120, **settings_of(DAY))
    table = Table.open(settings)
    reporting_index_count(table, events)
    client = create_app(settings, table=table).test_client()
    calls = read_calls(table)
    reached = []
    for _ in range(4):  # waves of 1, 2, 2 ... day buckets (8 Queries at most): the budget ends each after one read
        answer = body(client.get("/api/timeline", query_string={"from": WEEK[0], "to": WEEK[1]}))
        through = answer["counted_through"] or WEEK[1]
        assert answer["plan"] == "index" and answer["total"] == len(matching(events, WEEK[0], through, {}))
        reached.append((through, answer["complete"], answer["from_cache"], answer["calls"]))
    assert reached == [("2024-01-01T23:59:59Z", False, 0, 4), ("2024-01-03T23:59:59Z", False, 86_400, 8),
                       ("2024-01-05T23:59:59Z", False, 3 * 86_400, 8), (WEEK[1], True, 5 * 86_400, 8)]
    del calls[:]
    again = body(client.get("/api/timeline", query_string={"from": WEEK[0], "to": WEEK[1]}))
    assert again["complete"] and again["calls"] == 0 and calls.count("Query") == 0
    assert again["from_cache"] == 7 * 86_400 and again["total"] == len(matching(events, *WEEK, {}))
    # Other filters, or another bar length (another range), are kept apart.
    other = body(client.get("/api/timeline", query_string={"from": WEEK[0], "to": WEEK[1], "source": "a"}))
    assert other["calls"] == 4 and other["total"] == len(matching(events, "2024-01-01T00:00:00Z",
                                                                  other["counted_through"], {"source": "a"}))


@pytest.mark.parametrize("off", [{"COUNTS_CACHE_SIZE": 0}, {"COUNTS_CACHE_SECONDS": 0}])
def test_the_counts_cache_turned_off_keeps_no_bucket(table_name, off) -> None:
    events = stored(table_name, make_events(DAY))
    settings = settings_for(table_name, None, False, TIMESTAMPS_CANONICAL="yes", DASHBOARD_DEADLINE_SECONDS=120,
                            READ_BUDGET_SECONDS=300, **off, **settings_of(DAY))
    table = Table.open(settings)
    reporting_index_count(table, events)
    client = create_app(settings, table=table).test_client()
    for _ in range(2):
        answer = body(client.get("/api/timeline", query_string={"from": WEEK[0], "to": WEEK[1]}))
        assert answer["complete"] and answer["from_cache"] == 0 and answer["calls"] == 7 * DAY.shards


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_a_bucket_the_budget_cut_is_read_on_from_the_bars_it_kept(table_name, order, monkeypatch) -> None:
    """Each shard stops after one answer of 3 events, every time: the bars before the cut are kept, and the next
    request reads on from them, so the same week asked again and again is counted further each time, exactly, to the
    end (and then costs no call)."""
    events = stored(table_name, make_events(DAY, count=600, uniform=True))
    settings = settings_for(table_name, None, False, READ_BUDGET_RCU=0.5, TIMESTAMPS_CANONICAL="yes",
                            DASHBOARD_DEADLINE_SECONDS=120, **settings_of(DAY))
    table = Table.open(settings)
    reporting_index_count(table, events)
    monkeypatch.setattr(index_counts, "PAGE_ITEMS", 3)
    client = create_app(settings, table=table).test_client()
    reached: list[str] = []
    for _ in range(200):
        answer = body(client.get("/api/timeline", query_string={"from": WEEK[0], "to": WEEK[1], "order": order}))
        if answer["complete"]:
            break
        through = answer["counted_through"]
        low, high = (through, WEEK[1]) if order == "desc" else (WEEK[0], through)
        assert answer["total"] == len(matching(events, low, high, {}))
        assert not reached or (through < reached[-1] if order == "desc" else through > reached[-1])
        reached.append(through)
    assert answer["complete"] and answer["total"] == len(matching(events, *WEEK, {})) and len(reached) > 7
    again = body(client.get("/api/timeline", query_string={"from": WEEK[0], "to": WEEK[1], "order": order}))
    assert again["complete"] and again["calls"] == 0 and again["from_cache"] == 7 * 86_400
