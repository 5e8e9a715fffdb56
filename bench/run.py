"""What a dashboard page costs on top of DynamoDB: `make bench` writes bench/results/latest.json.

Both sides run against the same embedded moto server over HTTP: the backend's own latency is the
same Scan/Query/GetItem made straight with boto3; the page's latency is the full request through
the Flask app (parsing, cursor signing, the store, rendering). The difference is the dashboard's cost.
Bounded: a fixed number of rounds, loopback only.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "60"))
EVENTS = int(os.environ.get("BENCH_EVENTS", "2400"))
RESULTS = Path(__file__).resolve().parent / "results"


def measure(action, rounds: int = ROUNDS) -> dict[str, float]:
    for _ in range(3):  # warm caches and connections
        action()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[int(len(samples) * 0.95) - 1], 2),
        "mean_ms": round(statistics.fmean(samples), 2),
        "rounds": rounds,
    }


def main() -> int:
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        del os.environ[name]
    from dashboard import create_app
    from dashboard.config import Settings
    from dashboard.local import demo_events, local_environment, start_server

    server, endpoint = start_server()
    os.environ.update(local_environment(endpoint))
    settings = Settings.from_env({"EVENTS_TABLE": "bench-events", "SECRET_KEY": "bench-secret-0123456789"})
    app = create_app(settings)
    from dashboard.store.admin import TableAdmin

    table = app.extensions["events_table"]
    admin = TableAdmin(table.clients, table.name)
    admin.create_table()
    admin.put_many(demo_events(EVENTS, date(2024, 1, 1)))
    client = app.test_client()
    dynamodb = table.clients.dynamodb
    store = table.events
    some_id = store.page(1).events[0].event_id
    busy = "2024-01-01T13:00:00Z"

    cases = {
        "list_page_25": (
            lambda: dynamodb.scan(TableName=store.table_name, Limit=25, ReturnConsumedCapacity="TOTAL"),
            lambda: client.get("/events?limit=25"),
        ),
        "list_page_100": (
            lambda: dynamodb.scan(TableName=store.table_name, Limit=100, ReturnConsumedCapacity="TOTAL"),
            lambda: client.get("/events?limit=100"),
        ),
        "timestamp_search_25": (
            lambda: store.by_timestamp(busy, 25),
            lambda: client.get(f"/events?timestamp={busy}&limit=25"),
        ),
        "detail": (
            lambda: dynamodb.get_item(TableName=store.table_name, Key={"event_id": {"S": some_id}},
                                      ConsistentRead=True),
            lambda: client.get(f"/events/{some_id}"),
        ),
        "api_page_25": (
            lambda: dynamodb.scan(TableName=store.table_name, Limit=25, ReturnConsumedCapacity="TOTAL"),
            lambda: client.get("/api/events?limit=25"),
        ),
    }
    results = {}
    for name, (backend, page) in cases.items():
        backend_figures, page_figures = measure(backend), measure(page)
        results[name] = {
            "backend": backend_figures,
            "page": page_figures,
            "dashboard_overhead_p50_ms": round(page_figures["p50_ms"] - backend_figures["p50_ms"], 2),
        }
        print(f"{name:22} backend p50 {backend_figures['p50_ms']:7.2f} ms   page p50 {page_figures['p50_ms']:7.2f} ms"
              f"   overhead {results[name]['dashboard_overhead_p50_ms']:6.2f} ms", flush=True)
    server.stop()
    RESULTS.mkdir(exist_ok=True)
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "events_in_table": EVENTS,
        "backend": "moto server over HTTP on loopback (scans walk the whole table: slower than DynamoDB)",
        "results": results,
    }
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {RESULTS / 'latest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
