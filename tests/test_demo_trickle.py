"""make run's trickle (issue 23): a few clearly marked demo events a second while it runs, yesterday's kept."""
import random
import time
from datetime import UTC, datetime

from dashboard.app.demo import LIVE_ID_PREFIX, LIVE_SOURCE, live_events, trickle_size
from dashboard.local.server import Trickle
from dashboard.store import Table
from tests.conftest import admin, put_items, settings_for, unique_table


def test_live_demo_events_are_of_their_second_and_clearly_demo_data():
    moment = datetime(2026, 12, 6, 13, 2, 11, 500000, tzinfo=UTC)
    events = live_events(moment, 5, random.Random(1))
    assert len(events) == 5 and len({event["event_id"] for event in events}) == 5
    assert all(event["timestamp"] == "2026-12-06T13:02:11Z" and event["source"] == LIVE_SOURCE
               and event["event_id"].startswith(LIVE_ID_PREFIX) for event in events)


def test_the_trickle_is_a_few_a_second_with_bursts():
    sizes = [trickle_size(random.Random(seed)) for seed in range(2000)]
    assert max(sizes) >= 20 and 1 <= sum(sizes) / len(sizes) <= 4


def test_the_trickle_keeps_writing_while_it_runs_and_leaves_the_history(moto_endpoint):
    table = Table.open(settings_for(unique_table(), moto_endpoint))
    admin(table).create_table(point_in_time_recovery=False)
    put_items(table, [{"event_id": "yesterday", "timestamp": "2024-01-01T00:00:00Z"}])
    trickle = Trickle(admin(table), seed=5).start()
    try:
        time.sleep(4.2)
    finally:
        trickle.stop()
    items = table.clients.dynamodb.scan(TableName=table.name)["Items"]
    live = [item for item in items if item["event_id"]["S"].startswith(LIVE_ID_PREFIX)]
    assert trickle.written == len(live) >= 1
    assert any(item["event_id"]["S"] == "yesterday" for item in items)
