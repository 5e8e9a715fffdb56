"""Ranges through the time index (store/index_ranges.py) against brute force: both orders, paged to the end,
across shards, midnight and a whole week, with filters, and with items not yet backfilled."""
from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

from dashboard.settings.time_index import TimeIndexConfig
from dashboard.store import Filters, Keyset, ReadBudget, Span, Table
from dashboard.store.index_ranges import IndexRangeReader
from dashboard.store.time_index import time_bucket
from tests.conftest import admin, put_items, read_calls, settings_for, unique_table

DAY = TimeIndexConfig("time-index", "day", 4)
HOUR = TimeIndexConfig("time-index", "hour", 3)


def week_of_events(seed: int, count: int, config: TimeIndexConfig, backfilled: float = 1.0) -> list[dict]:
    rng = random.Random(seed)
    events = []
    for n in range(count):
        day = rng.randrange(1, 8)
        # Many events around midnight and a burst second, so that buckets' edges and ties are exercised.
        hour, minute, second = rng.choice([(23, 59, rng.randrange(50, 60)), (0, 0, rng.randrange(0, 10)),
                                           (12, 0, 0), (rng.randrange(24), rng.randrange(60), rng.randrange(60))])
        stamp = f"2024-01-{day:02}T{hour:02}:{minute:02}:{second:02}Z"
        event: dict[str, str | None] = {"event_id": f"e-{n:05}", "timestamp": stamp,
                                        "source": rng.choice(["a", "b", "c"])}
        if rng.random() < backfilled:
            event["time_bucket"] = time_bucket(f"e-{n:05}", stamp, config)
        events.append(event)
    return events


@pytest.fixture
def indexed(mocked_aws: None) -> Table:
    table = Table.open(settings_for(unique_table()))
    admin(table).create_table(wait=False, time_index="time-index")
    return table


def truth(events: list[dict], span: Span, filters: Filters | None = None, indexed_only: bool = True) -> list[str]:
    chosen = [event for event in events
              if span.start <= event["timestamp"] <= span.end and (not indexed_only or "time_bucket" in event)
              and (not filters or not filters.source or event["source"] == filters.source)]
    chosen.sort(key=lambda event: (event["timestamp"], event["event_id"]), reverse=span.descending)
    return [event["event_id"] for event in chosen]


def read_all(reader: IndexRangeReader, span: Span, limit: int, filters: Filters | None = None,
             budget: ReadBudget | None = None) -> Iterator[list[str]]:
    after: Keyset | None = None
    for _ in range(10_000):
        page = reader.page(span, limit, after, filters, budget)
        assert len(page.events) <= limit
        yield [event.event_id for event in page.events]
        if page.next_key is None:
            return
        assert isinstance(page.next_key, Keyset)
        after = page.next_key
    raise AssertionError("never ended")


@pytest.mark.parametrize("config", [DAY, HOUR], ids=["day", "hour"])
@pytest.mark.parametrize("descending", [False, True], ids=["oldest-first", "newest-first"])
@pytest.mark.parametrize("limit", [7, 100])
def test_a_range_paged_to_the_end_is_every_event_in_order(indexed: Table, config: TimeIndexConfig,
                                                          descending: bool, limit: int) -> None:
    events = week_of_events(3, 150, config)
    put_items(indexed, events)
    reader = IndexRangeReader(indexed.clients.dynamodb, indexed.name, config, indexed.ranges.pool)
    for span in (Span("2024-01-01T00:00:00Z", "2024-01-07T23:59:59Z", descending),
                 Span("2024-01-03T23:59:55Z", "2024-01-04T00:00:05Z", descending),
                 Span("2024-01-05T12:00:00Z", "2024-01-05T12:00:00Z", descending)):
        pages = list(read_all(reader, span, limit))
        assert [event_id for page in pages for event_id in page] == truth(events, span)


def test_filters_and_events_not_yet_backfilled(indexed: Table) -> None:
    events = week_of_events(5, 300, DAY, backfilled=0.5)
    put_items(indexed, events)
    reader = IndexRangeReader(indexed.clients.dynamodb, indexed.name, DAY, indexed.ranges.pool)
    span = Span("2024-01-02T00:00:00Z", "2024-01-06T23:59:59Z", True)
    filters = Filters(source="b")
    found = [event_id for page in read_all(reader, span, 10, filters) for event_id in page]
    assert found == truth(events, span, filters)
    assert len(found) < len(truth(events, span, filters, indexed_only=False))


def test_a_burst_second_larger_than_a_page_keeps_every_tie(indexed: Table) -> None:
    burst: list[dict[str, str | None]] = [{"event_id": f"b-{n:03}", "timestamp": "2024-01-03T12:00:00Z"}
                                          for n in range(130)]
    for event in burst:
        event["time_bucket"] = time_bucket(str(event["event_id"]), event["timestamp"], DAY)
    put_items(indexed, burst)
    reader = IndexRangeReader(indexed.clients.dynamodb, indexed.name, DAY, indexed.ranges.pool)
    for descending in (False, True):
        span = Span("2024-01-03T00:00:00Z", "2024-01-03T23:59:59Z", descending)
        pages = list(read_all(reader, span, 25))
        assert [event_id for page in pages for event_id in page] == truth(burst, span)


def test_a_week_first_page_costs_at_most_shards_times_buckets_queries(indexed: Table) -> None:
    events = week_of_events(7, 200, DAY)
    put_items(indexed, events)
    reader = IndexRangeReader(indexed.clients.dynamodb, indexed.name, DAY, indexed.ranges.pool)
    calls = read_calls(indexed)
    page = reader.page(Span("2023-12-25T00:00:00Z", "2024-01-07T23:59:59Z", True), 25)
    expected = truth(events, Span("2023-12-25T00:00:00Z", "2024-01-07T23:59:59Z", True))
    assert [event.event_id for event in page.events] == expected[:25]
    # Newest day first until the page and one event more are found: a Query per shard of each day read (and a
    # shard's second page where a burst second's ties straddle its first), never more than N x buckets + 1.
    by_id = {event["event_id"]: event for event in events}
    days_read = {str(by_id[event_id]["timestamp"])[:10] for event_id in expected[:26]}
    assert calls.count("Query") == page.calls
    assert DAY.shards * len(days_read) <= page.calls <= DAY.shards * 14 + 1


def test_an_empty_window_costs_one_query_per_shard_and_bucket(indexed: Table) -> None:
    reader = IndexRangeReader(indexed.clients.dynamodb, indexed.name, DAY, indexed.ranges.pool)
    calls = read_calls(indexed)
    page = reader.page(Span("2030-01-01T00:00:00Z", "2030-01-03T23:59:59Z"), 25)
    assert page.events == [] and page.next_key is None
    assert calls.count("Query") == 3 * DAY.shards


def test_a_spent_budget_stops_at_a_bucket_edge_and_continues_exactly(indexed: Table) -> None:
    events = week_of_events(9, 200, DAY)
    put_items(indexed, events)
    reader = IndexRangeReader(indexed.clients.dynamodb, indexed.name, DAY, indexed.ranges.pool)
    span = Span("2024-01-01T00:00:00Z", "2024-01-07T23:59:59Z")
    spent = ReadBudget(seconds=0, rcu=1_000_000)
    first = reader.page(span, 100, None, Filters(source="zzz"), spent)
    assert first.budget_spent and first.events == []
    assert first.next_key == Keyset("2024-01-01T23:59:59Z")
    pages = list(read_all(reader, span, 100, Filters(source="c"), spent))
    assert [event_id for page in pages for event_id in page] == truth(events, span, Filters(source="c"))
