"""bench/scale.py's table: N events over 30 days ending now, every one keyed for the time index, loaded once.

The events are the demo's (dashboard.app.demo.demo_events: realistic S3 shapes, three burst seconds a day),
one demo day per day of the 30, each shifted so that the 30 days end at the moment of the load; each gets its
`time_bucket` with `dashboard.store.time_index.keyed` (daily buckets, 4 shards), as a writer adds it. They are
written with several threads of BatchWriteItem (25 items each, UnprocessedItems retried) into a dynalite whose
LevelDB directory is kept under /tmp: a marker file there says which days are loaded, so a run that stops part
way resumes at the next day, and the next run finds the table full and only tops it up (events from the newest
to now, at the same rate) so that "now" still has fresh events.
"""
from __future__ import annotations

import json
import queue
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dashboard.app.demo import demo_events, live_events
from dashboard.formats.times import format_stored
from dashboard.settings.time_index import TimeIndexConfig
from dashboard.store.records import to_wire
from dashboard.store.time_index import keyed

DAYS = 30
INDEX = TimeIndexConfig("time-index", "day", 4)
BATCH = 25  # BatchWriteItem's limit
RATE_SAMPLE = 20_000  # the load rate is measured on the first this many items


def data_dir(items: int) -> Path:
    return Path(f"/tmp/bench-scale-dynalite-{items}")


@dataclass
class Marker:
    """What the kept dynalite directory holds: `marker.json` beside LevelDB's files."""

    path: Path
    table: str
    items: int
    end: str  # the load's "now": the 30 days end here (stored form)
    days_done: list[int] = field(default_factory=list)
    load: dict[str, Any] = field(default_factory=dict)  # rates and seconds of the loads made
    topped_up: int = 0  # events written since by top_up

    @classmethod
    def read_or_new(cls, path: Path, table: str, items: int) -> Marker:
        if path.is_file():
            found = json.loads(path.read_text())
            if found.get("table") == table and found.get("items") == items:
                return cls(path, **{name: value for name, value in found.items() if name != "path"})
        return cls(path, table, items, format_stored(datetime.now(UTC).replace(microsecond=0)))

    @property
    def loaded(self) -> bool:
        return sorted(self.days_done) == list(range(DAYS))

    def save(self) -> None:
        fields = {name: value for name, value in vars(self).items() if name != "path"}
        self.path.write_text(json.dumps(fields, indent=2) + "\n")


def per_day(items: int) -> list[int]:
    """How many events each of the 30 days holds: an even share, the remainder on the last days."""
    share, extra = divmod(items, DAYS)
    return [share + (1 if day >= DAYS - extra else 0) for day in range(DAYS)]


def shifted(stamp: str, seconds: int) -> str:
    return format_stored(datetime.fromisoformat(stamp) + timedelta(seconds=seconds))


def day_events(end: datetime, day: int, count: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Day `day` (0 = the oldest) of the 30 ending at `end`: a demo day of `count` events, moved from midnight to
    the same time of day as `end` (so the 30 days end just before it), keyed for the time index."""
    first = end - timedelta(days=DAYS - day)
    midnight = datetime(first.year, first.month, first.day, tzinfo=UTC)
    shift = int((first - midnight).total_seconds())
    for event in demo_events(count, midnight.date(), seed + day):
        event["timestamp"] = shifted(event["timestamp"], shift)
        event["processed_at"] = shifted(event["processed_at"], shift)
        yield keyed(event, INDEX)


class Writer:
    """BatchWriteItem of 25 from `threads` threads; UnprocessedItems go back in until written."""

    def __init__(self, dynamodb: Any, table: str, threads: int) -> None:
        self.dynamodb = dynamodb
        self.table = table
        self.threads = threads
        self.written = 0
        self.retried = 0
        self._lock = threading.Lock()

    def write(self, items: Iterator[dict[str, Any]], progress: Callable[[int], None] | None = None) -> int:
        batches: queue.Queue[list[dict[str, Any]] | None] = queue.Queue(maxsize=self.threads * 4)
        failures: list[BaseException] = []

        def work() -> None:
            while (batch := batches.get()) is not None:
                try:
                    self._batch(batch)
                except BaseException as error:  # reported by write(), after the others stop
                    failures.append(error)
                if progress is not None:
                    progress(self.written)

        workers = [threading.Thread(target=work, daemon=True) for _ in range(self.threads)]
        for worker in workers:
            worker.start()
        batch: list[dict[str, Any]] = []
        for item in items:
            batch.append({"PutRequest": {"Item": to_wire(item)}})
            if len(batch) == BATCH:
                batches.put(batch)
                batch = []
            if failures:
                break
        if batch:
            batches.put(batch)
        for _ in workers:
            batches.put(None)
        for worker in workers:
            worker.join()
        if failures:
            raise failures[0]
        return self.written

    def _batch(self, batch: list[dict[str, Any]]) -> None:
        pending: dict[str, Any] = {self.table: batch}
        for attempt in range(20):
            answer = self.dynamodb.batch_write_item(RequestItems=pending)
            pending = answer.get("UnprocessedItems") or {}
            if not pending:
                with self._lock:
                    self.written += len(batch)
                return
            with self._lock:
                self.retried += len(pending[self.table])
            time.sleep(min(2.0, 0.05 * 2 ** attempt))
        raise RuntimeError(f"{len(pending[self.table])} items still unprocessed after 20 attempts")


def load(marker: Marker, dynamodb: Any, threads: int, log: Callable[[str], None]) -> None:
    """Every day not yet loaded, oldest first; the rate of the first RATE_SAMPLE items measured on the way."""
    end = datetime.fromisoformat(marker.end)
    counts = per_day(marker.items)
    writer = Writer(dynamodb, marker.table, threads)
    started = time.monotonic()
    sample: dict[str, float] = {}

    def progress(written: int) -> None:
        if written >= min(RATE_SAMPLE, marker.items) and not sample:
            sample["seconds"] = time.monotonic() - started
            sample["items"] = written
            log(f"load rate on the first {written:,} items: {written / sample['seconds']:,.0f} items/s "
                f"({threads} threads of BatchWriteItem)")

    for day in range(DAYS):
        if day in marker.days_done:
            continue
        before, day_started = writer.written, time.monotonic()
        writer.write(day_events(end, day, counts[day]), progress)
        marker.days_done.append(day)
        # Across runs (a load that stopped part way goes on at its next day): items written, seconds spent.
        marker.load["written"] = marker.load.get("written", 0) + writer.written - before
        marker.load["seconds"] = round(marker.load.get("seconds", 0) + time.monotonic() - day_started, 1)
        marker.load["rate"] = round(marker.load["written"] / max(marker.load["seconds"], 0.1))
        if sample and "first_items" not in marker.load:
            marker.load.update(first_items=int(sample["items"]), first_seconds=round(sample["seconds"], 1),
                               first_rate=round(sample["items"] / sample["seconds"]))
        marker.load["threads"] = threads
        marker.load["unprocessed_retried"] = marker.load.get("unprocessed_retried", 0) + writer.retried
        writer.retried = 0
        marker.save()
        elapsed = time.monotonic() - started
        log(f"day {day + 1}/{DAYS} loaded: {writer.written:,} items in {elapsed:,.0f} s "
            f"({writer.written / elapsed:,.0f}/s)")


def top_up(marker: Marker, dynamodb: Any, newest: str, now: datetime, log: Callable[[str], None]) -> int:
    """Events from just after `newest` to `now` at the table's mean rate (`make run`'s trickle shape, ids
    demo-live-...): a table loaded earlier still ends at the present, as a live pipeline's does."""
    last = datetime.fromisoformat(newest)
    gap = int((now - last).total_seconds())
    rate = marker.items / (DAYS * 86400)
    count = round(gap * rate)
    if count < 1:
        return 0
    rng = random.Random(int(now.timestamp()))  # never an earlier top-up's seed: its ids would be written again
    moments = sorted(last + timedelta(seconds=rng.randint(1, gap)) for _ in range(count))
    moments[-1] = now - timedelta(seconds=1)  # the newest event a second ago: the freshness line has one to find
    events = (keyed(event, INDEX) for moment in moments for event in live_events(moment, 1, rng))
    written = Writer(dynamodb, marker.table, 2).write(events)
    marker.topped_up += written
    marker.save()
    log(f"topped up: {written:,} events from {newest} to {format_stored(moments[-1])} ({rate:.2f}/s, as the load)")
    return written

