"""The recent past on a large table: the landing page (/) and the freshness read (/api/freshness), quiet and busy.

`python -m bench.recent` (dynalite, 100,000 events) or `--quick` (2,000 events; moto when dynalite is absent).
The table holds a demo day long past; "quiet" is the last hour with no event, "busy" the same table after an hour
of events up to now (3 a second) while a trickle keeps writing. Each page is asked through a counting proxy (calls
at the wire, the first request apart: the freshness read remembers settled seconds per process) and timed on its
own gunicorn (p50), beside the same calls made with plain boto3 (the raw side, written here from the API).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from dashboard.app.demo import live_events
from dashboard.formats.times import format_stored
from dashboard.local.server import Trickle
from dashboard.settings.config import Settings
from dashboard.store import Table
from dashboard.store.admin import TableAdmin

from . import backends, serving, timing
from .cases import Raw
from .wire import CountingProxy

RESULTS = Path(__file__).resolve().parent / "results"
LANDING_SECONDS = 15 * 60
BUSY_PER_SECOND = 3


def log(message: str) -> None:
    print(f"[bench.recent {time.strftime('%H:%M:%S')}] {message}", flush=True)


def admin_for(endpoint: str, table: str) -> TableAdmin:
    settings = Settings.from_env({**serving.dashboard_env(endpoint, table), "DASHBOARD_AUTH": "off"})
    return TableAdmin(Table.open(settings).clients, table)


def second_query(raw: Raw, second: str) -> int:
    """One second on the index, ids only, every answer of it: what the freshness read and fan-out ask per second."""
    request: dict[str, Any] = {"TableName": raw.table, "IndexName": "timestamp-index",
                               "KeyConditionExpression": "#t = :t", "ExpressionAttributeNames": {"#t": "timestamp"},
                               "ExpressionAttributeValues": {":t": {"S": second}}, "ReturnConsumedCapacity": "TOTAL"}
    found = 0
    while True:
        answer = raw.dynamodb.query(**request)
        found += len(answer["Items"])
        if "LastEvaluatedKey" not in answer:
            return found
        request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]


def seconds_back(count: int) -> list[str]:
    now = datetime.now(UTC).replace(microsecond=0)
    return [format_stored(now - timedelta(seconds=n)) for n in range(count)]


def raw_landing(raw: Raw, rows: int = 25) -> None:
    """The landing page's calls: the last 15 minutes newest first, a Query per second until 25 rows, one after
    another (its time is the calls × one call's latency); an empty window adds one Scan page."""
    found = 0
    for second in seconds_back(LANDING_SECONDS):
        found += second_query(raw, second)
        if found >= rows:
            return
    raw.scan(rows)


def raw_freshness(raw: Raw, seconds: int) -> None:
    """The freshness read's Queries, `seconds` of them newest first, 8 at a time as the dashboard's waves."""
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda second: second_query(raw, second), seconds_back(seconds)))


def measure(label: str, client: timing.PageClient, counting: timing.PageClient, proxy: CountingProxy, raw: Raw,
            rounds: int) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, path in (("landing", "/"), ("freshness", "/api/freshness")):
        first, cold, warm_calls = proxy.calls_first_and_after(partial(counting.get, path))
        client.get(path)  # the timed gunicorn's own first read, not timed
        page = [timing.timed(partial(client.get, path)) for _ in range(rounds)]
        if name == "landing":
            raws = [timing.timed(lambda: raw_landing(raw)) for _ in range(max(3, rounds // 4))]
        else:
            # Warm: the seconds since the last read and those not settled then (store/freshness.py SETTLE_SECONDS).
            raws = [timing.timed(lambda: raw_freshness(raw, 16)) for _ in range(max(3, rounds // 4))]
        body = json.loads(first.body) if name == "freshness" and first.body.startswith("{") else {}
        found[name] = {
            "status": first.status, "calls_first": sum(cold.values()), "operations_first": cold,
            "calls_warm": statistics.median(warm_calls), "page_p50_ms": timing.summary(page).get("p50_ms"),
            "raw_p50_ms": timing.summary(raws).get("p50_ms"),
            **({"fresh": body.get("fresh"), "last_5m": body.get("last_5m"), "reason": body.get("reason")}
               if body else {}),
        }
        log(f"{label} {name}: {found[name]}")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 events, a few rounds: shape, not speed")
    parser.add_argument("--backend", choices=("auto", "dynalite", "moto"), default="auto")
    args = parser.parse_args(argv)
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        del os.environ[name]
    backend_name = (args.backend if args.backend != "auto"
                    else "dynalite" if backends.dynalite_installed() else "moto")
    items, rounds = (2_000, 5) if args.quick else (100_000, 30)
    table = f"bench-recent-{items}"
    result: dict[str, Any] = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "items": items,
                              "mode": "quick" if args.quick else "full"}
    with ExitStack() as stack:
        backend = backends.start(backend_name)
        stack.callback(backend.stop)
        result["backend"] = {"name": backend.name, "version": backend.version}
        env = serving.dashboard_env(backend.endpoint, table)
        log(f"{backend.name}: {serving.create_table(env, pitr=False)}; loading {items:,} events of 2024-01-01")
        serving.seed(env, items, "2024-01-01", 7)
        proxy = CountingProxy(backend.endpoint).start()
        stack.callback(proxy.stop)
        direct = serving.Gunicorn(env, workers=1)
        stack.callback(direct.stop)
        counted = serving.Gunicorn(serving.dashboard_env(proxy.endpoint, table), workers=1)
        stack.callback(counted.stop)
        direct.wait_until_up()
        counted.wait_until_up()
        client, counting, raw = timing.PageClient(direct.port), timing.PageClient(counted.port), Raw(backend.endpoint,
                                                                                                      table)
        result["quiet"] = measure("quiet", client, counting, proxy, raw, rounds)
        admin = admin_for(backend.endpoint, table)
        rng = random.Random(3)
        now = datetime.now(UTC)
        hour = [event for n in range(3600) for event in live_events(now - timedelta(seconds=n), BUSY_PER_SECOND, rng)]
        log(f"busy: writing {len(hour):,} events over the last hour, then a trickle while measuring")
        admin.put_many(hour)
        trickle = Trickle(admin).start()
        stack.callback(trickle.stop)
        result["busy"] = measure("busy", client, counting, proxy, raw, rounds)
        client.close()
        counting.close()
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / ("recent-quick.json" if args.quick else "recent.json")
    out.write_text(json.dumps(result, indent=2) + "\n")
    log(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
