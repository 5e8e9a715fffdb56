"""Issue 27's range pages on dynalite: the first page of a day-long range on 10,000 and 100,000 events, and of a
1-day and a 7-day range on a sparse table (5,000 events over 30 days), each read with the plan the page chooses.

`python -m bench.dayranges` (`make dayranges`; `--quick`: 2,000 and 5,000 events, a few rounds: shape, not speed).
The day tables hold demo days of 2024-01-01 (as `make bench`'s, seed 7); the sparse table a demo day's share of
5,000 events on each of the 30 days from 2024-01-01. dynalite's LevelDB directory is kept under /tmp with a marker
saying which tables are loaded, so a second run skips the loads. Each page is asked through a counting proxy
(the calls at the wire: the first request, which also takes the density sample and DescribeTable, and the median of
three after it) and timed on a gunicorn of its own (1 worker; p50 and p95 after one untimed request), with the plan,
RCUs, items read and rows the page states. Targets: p50 within 1 s and a full page of 25 events.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from dashboard.app.demo import demo_events
from dashboard.settings.config import Settings
from dashboard.store import Table
from dashboard.store.admin import TableAdmin

from . import backends, loadreport, serving, timing
from .cases import page_facts, rows_in
from .wire import CountingProxy

RESULTS = Path(__file__).resolve().parent / "results"
RESULTS_MD = Path(__file__).resolve().parent / "RESULTS.md"
HEADING = "## Day-long and sparse ranges (`make dayranges`)"
ROWS = 25
TARGET_MS = 1000.0
SPARSE_DAYS = 30
FIRST = date(2024, 1, 1)
DAY = ("2024-01-01T00:00:00Z", "2024-01-01T23:59:59Z")
SPARSE_RANGES = (("1 day", "2024-01-15T00:00:00Z", "2024-01-15T23:59:59Z"),
                 ("7 days", "2024-01-09T00:00:00Z", "2024-01-15T23:59:59Z"))


def log(message: str) -> None:
    print(f"[bench.dayranges {time.strftime('%H:%M:%S')}] {message}", flush=True)


def day_events(count: int) -> list[dict[str, Any]]:
    return list(demo_events(count, FIRST, seed=7))


def sparse_events(count: int) -> list[dict[str, Any]]:
    share, extra = divmod(count, SPARSE_DAYS)
    return [event for day in range(SPARSE_DAYS)
            for event in demo_events(share + (1 if day < extra else 0), FIRST + timedelta(days=day), seed=7 + day)]


def load(endpoint: str, table: str, events: list[dict[str, Any]], marker: Path) -> dict[str, Any]:
    """The table, created and loaded unless the kept directory's marker says it is already there."""
    loaded = json.loads(marker.read_text()) if marker.is_file() else {}
    if loaded.get(table) == len(events):
        log(f"{table}: {len(events):,} events already loaded")
        return {"seconds": None, "kept": True}
    settings = Settings.from_env({**serving.dashboard_env(endpoint, table), "DASHBOARD_AUTH": "off"})
    admin = TableAdmin(Table.open(settings).clients, table)
    admin.create_table(point_in_time_recovery=False)
    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(admin.put_many, [events[n::4] for n in range(4)]))
    seconds = time.monotonic() - started
    log(f"{table}: loaded {len(events):,} events in {seconds:.0f} s")
    marker.write_text(json.dumps({**loaded, table: len(events)}))
    return {"seconds": round(seconds, 1), "kept": False}


def measure_page(label: str, path: str, client: timing.PageClient, counting: timing.PageClient,
                 proxy: CountingProxy, rounds: int) -> dict[str, Any]:
    first, cold, after = proxy.calls_first_and_after(partial(counting.get, path))
    client.get(path)  # the timed gunicorn's own first request (its sample, DescribeTable): not timed
    answers = [client.get(path) for _ in range(rounds)]
    summary = timing.summary([answer.ms for answer in answers])
    facts = page_facts(first.body)
    found = {"label": label, "path": path, "status": first.status, "rows": rows_in(first.body),
             "calls_first": sum(cold.values()), "operations_first": cold, "calls_after": statistics.median(after),
             "plan": facts.get("plan"), "stated_calls": facts.get("calls"), "rcu": facts.get("consumed-rcu"),
             "items_read": facts.get("items-read"), "budget_spent": facts.get("budget_spent") == "yes",
             "statuses": sorted({answer.status for answer in answers}),
             "p50_ms": summary.get("p50_ms"), "p95_ms": summary.get("p95_ms")}
    found["full"] = found["rows"] == ROWS
    found["within_target"] = float(summary.get("p50_ms") or "inf") <= TARGET_MS
    log(f"{label}: {found}")
    return found


def serve_and_measure(stack: ExitStack, endpoint: str, table: str, pages: list[tuple[str, str]],
                      rounds: int) -> list[dict[str, Any]]:
    with ExitStack() as served:
        proxy = CountingProxy(endpoint).start()
        served.callback(proxy.stop)
        direct = serving.Gunicorn(serving.dashboard_env(endpoint, table), workers=1)
        served.callback(direct.stop)
        counted = serving.Gunicorn(serving.dashboard_env(proxy.endpoint, table), workers=1)
        served.callback(counted.stop)
        direct.wait_until_up()
        counted.wait_until_up()
        client, counting = timing.PageClient(direct.port), timing.PageClient(counted.port)
        served.callback(client.close)
        served.callback(counting.close)
        return [measure_page(label, path, client, counting, proxy, rounds) for label, path in pages]


def range_path(start: str, end: str) -> str:
    return "/events?" + urlencode({"from": start, "to": end, "limit": ROWS})


def markdown(result: dict[str, Any]) -> list[str]:
    lines = [HEADING, "",
             f"Run {result['when']} on {result['backend']['name']} {result['backend']['version']}, load average "
             f"{result['load_average'][0]} at the start, {result['load_average'][1]} at the end ({result['mode']}). "
             "Each page: the first page of the range, 25 rows, oldest first, with the plan the page chose (no "
             "`plan=`); calls counted at the wire on the first request (which also takes the density sample and "
             "DescribeTable) and the median of three after it; plan, RCUs and items read as the page states them; "
             f"p50/p95 over {result['rounds']} requests to a gunicorn of its own after one untimed request.", "",
             "| table | range | plan | calls at the wire, first / after | RCU | items read | rows | p50 / p95 | "
             "target (1 s, 25 rows) |", "|---|---|---|---:|---:|---:|---:|---:|---|"]
    for table in result["tables"]:
        for page in table["pages"]:
            operations = ", ".join(f"{count} {name}" for name, count in sorted(page["operations_first"].items()))
            verdict = "PASS" if page["full"] and page["within_target"] else "**FAIL**"
            rows = f"{page['rows']}" + (" (budget spent)" if page["budget_spent"] else "")
            lines.append(f"| {table['label']} | {page['label']} | {page['plan']} | {page['calls_first']} ({operations})"
                         f" / {page['calls_after']:g} | {page['rcu']} | {page['items_read']} | {rows} | "
                         f"{page['p50_ms']:.1f} / {page['p95_ms']:.1f} ms | {verdict} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 and 5,000 events, a few rounds: shape, not speed")
    parser.add_argument("--no-write-up", action="store_true", help="leave bench/RESULTS.md as it is")
    args = parser.parse_args(argv)
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        del os.environ[name]
    sizes, rounds = ((2_000, 5_000), 5) if args.quick else ((10_000, 100_000), 15)
    result: dict[str, Any] = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "rounds": rounds,
                              "mode": "quick" if args.quick else "full", "tables": [],
                              "load_average": [[round(value, 2) for value in os.getloadavg()]]}
    data = Path(f"/tmp/bench-dayranges-dynalite-{'quick' if args.quick else 'full'}")
    with ExitStack() as stack:
        backend = backends.start_dynalite(data)
        stack.callback(backend.stop)
        result["backend"] = {"name": backend.name, "version": backend.version}
        tables = [(f"bench-day-{size}", f"{size:,} events on 2024-01-01", partial(day_events, size),
                   [("1 day", range_path(*DAY))]) for size in sizes]
        tables.append(("bench-sparse-5000", "5,000 events over 30 days", partial(sparse_events, 5_000),
                       [(label, range_path(start, end)) for label, start, end in SPARSE_RANGES]))
        for table, label, events, pages in tables:
            loaded = load(backend.endpoint, table, events(), data / "marker.json")
            result["tables"].append({"table": table, "label": label, "load": loaded,
                                     "pages": serve_and_measure(stack, backend.endpoint, table, pages, rounds)})
    result["load_average"].append([round(value, 2) for value in os.getloadavg()])
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / ("dayranges-quick.json" if args.quick else "dayranges.json")
    out.write_text(json.dumps(result, indent=2) + "\n")
    log(f"written to {out}")
    if not args.quick and not args.no_write_up:
        loadreport.write_section(RESULTS_MD, markdown(result), HEADING)
    missed = [page["label"] for table in result["tables"] for page in table["pages"]
              if not (page["full"] and page["within_target"])]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
