"""The embedded local DynamoDB (moto's server mode, over real HTTP) and its demo data; used only when asked for.

`make run` is `python -m dashboard.local`: nothing here runs when the dashboard is pointed at AWS.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Iterator

from . import times
from .config import DEFAULT_TABLE, LOCAL_REGION

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
    day = day or (datetime.now(timezone.utc) - timedelta(days=1)).date()
    start = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    burst_total = sum(size for _, size in BURSTS)
    offsets = [rng.randrange(86400) for _ in range(max(count - burst_total, 0))]
    for second, size in BURSTS:
        offsets += [second] * size
    names, weights = zip(*_EVENT_NAMES)
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


def start_server(host: str = "127.0.0.1", port: int = 0) -> tuple[Any, str]:
    """moto's DynamoDB in a thread of this process, answering over HTTP on loopback."""
    from moto.moto_server.threaded_moto_server import MotoRequestHandler
    from moto.server import ThreadedMotoServer

    # One access-log line per DynamoDB call would drown the dashboard's own log.
    MotoRequestHandler.log_request = lambda *args, **kwargs: None  # type: ignore[method-assign]
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    return server, f"http://{bound_host}:{bound_port}"


def local_environment(endpoint: str) -> dict[str, str]:
    """What points boto3 at the embedded server: its endpoint and throwaway credentials."""
    return {
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING": endpoint,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_REGION": LOCAL_REGION,
        "AWS_DEFAULT_REGION": LOCAL_REGION,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the events dashboard on an embedded local DynamoDB with demo data.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 5000)))
    parser.add_argument("--db-port", type=int, default=0, help="port of the embedded DynamoDB (0: any free one)")
    parser.add_argument("--events", type=int, default=2400, help="how many demo events to write")
    args = parser.parse_args(argv)

    server, endpoint = start_server(port=args.db_port)
    os.environ.update(local_environment(endpoint))
    os.environ.setdefault("EVENTS_TABLE", DEFAULT_TABLE)

    from . import Settings, create_app
    from .store.admin import TableAdmin

    # Local mode is this entry point, never a variable: it alone may run without SECRET_KEY and sign-in.
    app = create_app(Settings.from_env(local=True))
    admin = TableAdmin(app.extensions["events_table"].clients, app.config["SETTINGS"].table_name)
    admin.create_table()
    written = admin.put_many(demo_events(args.events))
    # moto loads each service on its first request (auto-scaling takes seconds): before the first page's deadline.
    app.extensions["events_table"].status.status()
    print(f"Embedded DynamoDB at {endpoint}: table {admin.table_name} with {written} demo events.", flush=True)
    print(f"Dashboard on http://{args.host}:{args.port}  (local demo data; Ctrl-C stops both)", flush=True)
    try:
        app.run(host=args.host, port=args.port, debug=False, threaded=True, use_reloader=False)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
