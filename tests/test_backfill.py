"""`flask backfill-time-index`: every item gets its time_bucket once, nothing else changes, a stop resumes."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from dashboard.app import create_app
from dashboard.settings.time_index import TimeIndexConfig
from dashboard.store import Table
from dashboard.store.backfill import Backfill, Checkpoint, RateLimit
from dashboard.store.records import to_plain
from dashboard.store.time_index import time_bucket
from tests.conftest import put_items, settings_for

CONFIG = TimeIndexConfig("time-index", "day", 4)
UNLIMITED = 1_000_000.0


def events(count: int) -> list[dict]:
    # Over two days and around midnight, so that both day buckets and every shard are written.
    return [{"event_id": f"e-{n:04}", "timestamp": f"2024-01-0{1 + n % 2}T{n % 24:02}:00:{n % 60:02}Z",
             "event_type": "s3", "size": n} for n in range(count)]


def every_item(table: Table) -> dict[str, dict]:
    items: dict[str, dict] = {}
    start: dict | None = None
    while True:
        more: dict = {"ExclusiveStartKey": start} if start else {}
        page = table.clients.dynamodb.scan(TableName=table.name, **more)
        items.update({item["event_id"]["S"]: to_plain(item) for item in page["Items"]})
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def updates(table: Table) -> Counter:
    """UpdateItem calls per event id, counted at the wire by botocore."""
    seen: Counter = Counter()
    table.clients.dynamodb.meta.events.register(
        "provide-client-params.dynamodb.UpdateItem", lambda params, **_: seen.update([params["Key"]["event_id"]["S"]]))
    return seen


def run(table: Table, path: Path, segments: int = 4, stop_after: int | None = None) -> Backfill:
    job = Backfill(table.clients.dynamodb, table.name, CONFIG)
    if stop_after is not None:
        written: list[str] = []

        def stop(params, **_) -> None:
            written.append(params["Key"]["event_id"]["S"])
            if len(written) >= stop_after:
                job.stop.set()
        table.clients.dynamodb.meta.events.register("provide-client-params.dynamodb.UpdateItem", stop)
    job.run(Checkpoint.load(path, table.name, CONFIG.name, segments), path, RateLimit(UNLIMITED))
    return job


def test_every_item_gets_its_time_bucket_once_and_nothing_else_changes(table: Table, tmp_path: Path) -> None:
    original = events(300)
    put_items(table, original)
    put_items(table, [{"event_id": "no-time", "event_type": "s3"}])
    counted = updates(table)
    run(table, tmp_path / "checkpoint.json")
    after = every_item(table)
    for event in original:
        assert after[event["event_id"]] == {**event, "time_bucket": time_bucket(event["event_id"], event["timestamp"],
                                                                                 CONFIG)}
    assert after["no-time"] == {"event_id": "no-time", "event_type": "s3"}
    assert counted == Counter({event["event_id"]: 1 for event in original})
    assert {value["time_bucket"].split("#")[1] for value in after.values() if "time_bucket" in value} == \
        {"0", "1", "2", "3"}


def test_a_second_run_writes_nothing(table: Table, tmp_path: Path) -> None:
    put_items(table, events(60))
    run(table, tmp_path / "first.json")
    counted = updates(table)
    run(table, tmp_path / "second.json")
    assert counted == Counter()


def test_a_stopped_backfill_resumes_and_writes_each_item_once(table: Table, tmp_path: Path) -> None:
    original = events(400)
    put_items(table, original)
    path = tmp_path / "checkpoint.json"
    counted = updates(table)
    run(table, path, segments=2, stop_after=50)
    saved = json.loads(path.read_text())
    assert 50 <= saved["progress"]["written"] < 400
    assert sum(counted.values()) < 400
    run(table, path, segments=2)
    assert counted == Counter({event["event_id"]: 1 for event in original})
    assert all("time_bucket" in value for value in every_item(table).values())


def test_an_item_changed_meanwhile_is_left_alone_and_a_deleted_one_stays_deleted(table: Table, tmp_path: Path) -> None:
    put_items(table, events(20))
    client = table.clients.dynamodb

    def meddle(params, **_) -> None:
        event_id = params["Key"]["event_id"]["S"]
        if event_id == "e-0003":  # the pipeline rewrote it with another time
            client.meta.events.unregister("provide-client-params.dynamodb.UpdateItem", meddle)
            put_items(table, [{"event_id": "e-0003", "timestamp": "2025-05-05T05:05:05Z"}])
            client.delete_item(TableName=table.name, Key={"event_id": {"S": "e-0004"}})
            client.meta.events.register("provide-client-params.dynamodb.UpdateItem", meddle)
    client.meta.events.register("provide-client-params.dynamodb.UpdateItem", meddle)
    job_path = tmp_path / "checkpoint.json"
    run(table, job_path, segments=1)
    after = every_item(table)
    assert after["e-0003"] == {"event_id": "e-0003", "timestamp": "2025-05-05T05:05:05Z"}
    # e-0004 may have been written before it was deleted; it is never brought back by the backfill.
    assert "e-0004" not in after


def test_the_rate_limit_holds_write_units_per_second() -> None:
    slept: list[float] = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds
    limit = RateLimit(100, clock=lambda: now[0], sleep=sleep)
    for _ in range(250):
        limit.spend(1)
    # The first second's 100 units at once, then 150 more at 100 a second.
    assert sum(slept) == pytest.approx(1.5, abs=0.05)


def test_the_command_estimates_then_backfills(table: Table, tmp_path: Path, monkeypatch) -> None:
    put_items(table, events(30))
    app = create_app(settings_for(table.name, TIME_INDEX="time-index"), table=table)
    runner = app.test_cli_runner()
    monkeypatch.chdir(tmp_path)
    dry = runner.invoke(args=["backfill-time-index", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "index time-index (day buckets, 4 shards)" in dry.output
    assert all("time_bucket" not in value for value in every_item(table).values())
    done = runner.invoke(args=["backfill-time-index", "--segments", "2"])
    assert done.exit_code == 0, done.output
    assert "Done: scanned 30: wrote 30" in done.output
    assert not list(tmp_path.glob(".backfill-*.json"))


def test_the_command_without_a_configured_index_says_what_to_set(table: Table) -> None:
    app = create_app(settings_for(table.name), table=table)
    result = app.test_cli_runner().invoke(args=["backfill-time-index"])
    assert result.exit_code != 0
    assert "set TIME_INDEX" in result.output


def test_create_table_with_the_time_index(mocked_aws: None) -> None:
    from tests.conftest import unique_table
    name = unique_table()
    app = create_app(settings_for(name, TIME_INDEX="time-index", TIME_INDEX_SHARDS="8"))
    result = app.test_cli_runner().invoke(args=["create-table", "--no-pitr", "--time-index"])
    assert result.exit_code == 0, result.output
    described = app.extensions["events_table"].clients.dynamodb.describe_table(TableName=name)["Table"]
    [index] = [index for index in described["GlobalSecondaryIndexes"] if index["IndexName"] == "time-index"]
    assert index["KeySchema"] == [{"AttributeName": "time_bucket", "KeyType": "HASH"},
                                  {"AttributeName": "timestamp", "KeyType": "RANGE"}]
