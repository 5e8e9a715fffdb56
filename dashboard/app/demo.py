"""Realistic demo data: events shaped like the spec's data model, and CloudWatch samples to go with them."""
from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from dashboard.formats import times
from dashboard.store.admin import MetricSample
from dashboard.store.records import TIMESTAMP_INDEX

_BUCKETS = ("devops-studio-uploads", "devops-studio-logs", "devops-studio-media", "partner-drop-eu")
_FILES = (
    ("reports/{y}/{m}/daily-{n}.csv", "text/csv"),
    ("logs/app/{y}/{m}/{d}/part-{n}.json.gz", "application/gzip"),
    ("images/products/{n}.jpg", "image/jpeg"),
    ("images/thumbs/{n}.png", "image/png"),
    ("docs/contracts/contract {n}.pdf", "application/pdf"),
    ("exports/orders-{n}.parquet", "application/octet-stream"),
    ("notes/{n}.txt", "text/plain"),
)
_EVENT_NAMES = (
    ("ObjectCreated:Put", 60), ("ObjectCreated:CompleteMultipartUpload", 8), ("ObjectCreated:Copy", 6),
    ("ObjectCreated:Post", 4), ("ObjectRemoved:Delete", 12), ("ObjectRemoved:DeleteMarkerCreated", 3),
    ("ObjectRestore:Completed", 2),
)
# Seconds that hold more events than one page (even at the largest page size): bursts from a batch job.
BURSTS = ((9 * 3600 + 15 * 60, 60), (13 * 3600, 130), (17 * 3600 + 42 * 60 + 7, 40))


def demo_events(count: int = 2400, day: date | None = None, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Realistic S3 events over one UTC day, deterministic for a given seed and day.

    `count` includes the burst seconds; a few events carry maps, lists, sets, binary, booleans
    and nulls, as pipelines add them, so every DynamoDB type appears on a detail page.
    """
    rng = random.Random(seed)
    day = day or (datetime.now(UTC) - timedelta(days=1)).date()
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    burst_total = sum(size for _, size in BURSTS)
    offsets = [rng.randrange(86400) for _ in range(max(count - burst_total, 0))]
    for second, size in BURSTS:
        offsets += [second] * size
    names, weights = zip(*_EVENT_NAMES, strict=True)
    for n, offset in enumerate(offsets[:count]):
        moment = start + timedelta(seconds=offset)
        pattern, content_type = rng.choice(_FILES)
        key = pattern.format(y=moment.year, m=f"{moment.month:02}", d=f"{moment.day:02}", n=rng.randrange(10**6))
        event_name = rng.choices(names, weights)[0]
        lag = rng.choice((0, 0, 1, 1, 1, 2, 3)) if rng.random() > 0.02 else rng.randrange(30, 900)
        event: dict[str, Any] = {
            "event_id": f"s3-{rng.getrandbits(64):016x}",
            "event_type": "s3",
            "source": rng.choice(_BUCKETS),
            "key": key,
            "event_name": event_name,
            "content_type": content_type,
            "timestamp": times.format_stored(moment),
            "processed_at": times.format_stored(moment + timedelta(seconds=lag)),
        }
        if not event_name.startswith("ObjectRemoved"):
            event["size"] = rng.choice((0, rng.randrange(1, 4096), rng.randrange(4096, 50 * 2**20),
                                        rng.randrange(50 * 2**20, 6 * 2**30)))
        if n % 97 == 0:
            event["metadata"] = {"uploader": rng.choice(("ci", "alice", "batch-7")),
                                 "retries": rng.randrange(4), "checksum_ok": rng.random() > 0.1,
                                 "etag": f"{rng.getrandbits(128):032x}", "region": None}
            event["tags"] = {"demo", rng.choice(("pii", "public", "internal"))}
            event["versions"] = ["v1", Decimal("2.5"), {"note": ""}]
            event["digest"] = rng.getrandbits(64).to_bytes(8, "big")
            event["ratio"] = Decimal("0.12345678901234567890123456789012345678")
        yield event


# What `make run` keeps writing while it runs, so that a newcomer sees a live pipeline: clearly demo data.
LIVE_SOURCE = "demo-live-trickle"
LIVE_ID_PREFIX = "demo-live-"


def live_events(moment: datetime, count: int, rng: random.Random) -> list[dict[str, Any]]:
    """`count` demo events at the second of `moment`, from the bucket `demo-live-trickle`, ids `demo-live-…`."""
    names, weights = zip(*_EVENT_NAMES, strict=True)
    stamp = times.format_stored(moment)
    made = []
    for _ in range(count):
        pattern, content_type = rng.choice(_FILES)
        event_name = rng.choices(names, weights)[0]
        event: dict[str, Any] = {
            "event_id": f"{LIVE_ID_PREFIX}{rng.getrandbits(64):016x}",
            "event_type": "s3",
            "source": LIVE_SOURCE,
            "key": pattern.format(y=moment.year, m=f"{moment.month:02}", d=f"{moment.day:02}", n=rng.randrange(10**6)),
            "event_name": event_name,
            "content_type": content_type,
            "timestamp": stamp,
            "processed_at": times.format_stored(moment + timedelta(seconds=rng.choice((0, 1, 1, 2)))),
        }
        if not event_name.startswith("ObjectRemoved"):
            event["size"] = rng.randrange(1, 50 * 2**20)
        made.append(event)
    return made


def trickle_size(rng: random.Random) -> int:
    """Events written in one second of the trickle: a few a second, now and then a burst of a batch job."""
    return rng.randrange(20, 41) if rng.random() < 0.01 else rng.choice((0, 1, 1, 2, 2, 3, 4, 5))


def _granularity(moment: datetime, now: datetime) -> int:
    """Seconds per demo sample at a moment: the finest period any window shows it at (1 min, 5 min, 1 h).

    Finer samples would only cost moto time: its GetMetricData walks every sample in the window per period.
    """
    age = now - moment
    return 60 if age <= timedelta(hours=1) else 300 if age <= timedelta(hours=24) else 3600


def _bucket(moment: datetime, now: datetime) -> datetime:
    step = _granularity(moment, now)
    return datetime.fromtimestamp(int(moment.timestamp()) // step * step, UTC)


def demo_metrics(events: Iterable[dict[str, Any]], now: datetime | None = None, seed: int = 7) -> list[MetricSample]:
    """CloudWatch samples to go with the demo events: their writes, a quiet day of reads, one throttled burst.

    Writes are the events themselves (1 WCU each, on the table and on timestamp-index); reads come in
    office hours and in the last hour; the largest burst second is throttled, as on-demand tables are
    when traffic jumps past twice its previous peak.
    """

    now = now or datetime.now(UTC)
    rng = random.Random(seed)
    moments = [times.parse(str(event["timestamp"])) for event in events]
    if not moments:
        return []
    samples: list[MetricSample] = []
    for at, count in sorted(Counter(_bucket(moment, now) for moment in moments).items()):
        samples += [MetricSample("ConsumedWriteCapacityUnits", at, count),
                    MetricSample("ConsumedWriteCapacityUnits", at, count, index=TIMESTAMP_INDEX)]
    day_start = min(moments).replace(hour=0, minute=0, second=0)
    # Reads from the demo day on, never from further back than the longest window shows.
    at = max(day_start, _bucket(now - timedelta(days=7), now))
    while at < now:
        step = _granularity(at, now)
        if 8 <= at.hour < 18 or now - at <= timedelta(hours=1):
            samples.append(MetricSample("ConsumedReadCapacityUnits", at, round(rng.uniform(0.5, 6) * step / 60, 1)))
            if step < 3600 and rng.random() < 0.3:
                samples.append(MetricSample("ConsumedReadCapacityUnits", at, rng.randrange(5, 40),
                                            index=TIMESTAMP_INDEX))
        if step == 60 or at.minute == 0:
            samples += [
                MetricSample("SuccessfulRequestLatency", at, round(rng.uniform(3, 9), 2), operation="Query"),
                MetricSample("SuccessfulRequestLatency", at, round(rng.uniform(1.5, 4), 2), operation="GetItem")]
        at += timedelta(seconds=step)
    second, size = max(BURSTS, key=lambda burst: burst[1])
    burst = day_start + timedelta(seconds=second)
    samples += [MetricSample("WriteThrottleEvents", burst, size * 2 // 3),
                MetricSample("WriteThrottleEvents", burst, size // 2, index=TIMESTAMP_INDEX),
                MetricSample("ThrottledRequests", burst, 4, operation="BatchWriteItem")]
    return samples
