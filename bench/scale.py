"""Issue 26's scale benchmark: 1,000,000 events over 30 days on dynalite, read with the time index and without it.

`python -m bench.scale` (`make scale`) loads 1,000,000 events (`--quick`: 20,000; `--items N` for another size)
over the 30 days up to now into ONE table created with the time index (`time-index`: daily buckets, 4 shards,
every event keyed), kept under /tmp for the next run (bench/scaledata.py). Then, served by gunicorn as in
production, once with TIME_INDEX=time-index and once without it (the same table, read by fan-out or a Scan), it
asks: the landing page, the first page of a 1-hour, 1-day and 7-day range ending at the newest event, their
timelines (and top values, where this branch has them) and /api/freshness. For each: the calls counted at the
wire (bench/wire.py; the worker's first request and the ones after it), the RCUs and plan the answer states,
whether it was complete, the p50 over a few repetitions beside the same reads made with plain boto3
(bench/scaleraw.py), and the gunicorn worker's memory before and after. A trickle at the table's own mean rate
keeps writing while it measures, so that "now" stays live. Results: bench/results/scale.json (scale-quick.json),
bench/RESULTS.md's and docs/benchmarks.md's scale sections are written from it (`--no-write-up` to skip).
`--config no_index --passes 100` measures one configuration with a long tail of passes (scale-CONFIG.json);
`--traced` adds the worker's Python heap (tracemalloc) after each pass and what grew in it from before the first pass to
after the last, to tell a leak from malloc's high-water marks (scale-CONFIG-traced.json; its times are not figures).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from dashboard.app.demo import live_events
from dashboard.formats.times import format_stored
from dashboard.settings.config import Settings
from dashboard.store import Table
from dashboard.store.admin import TableAdmin
from dashboard.store.time_index import keyed

from . import backends, memory, scaledata, scalereport, serving, timing
from .cases import page_facts, rows_in
from .scaleraw import MAX_CALLS, ScaleRaw, Tally
from .wire import CountingProxy

RESULTS = Path(__file__).resolve().parent / "results"
TABLE = "bench-scale"
WINDOWS = (("1h", 3600), ("1d", 86400), ("7d", 7 * 86400))
ROWS = 25
LANDING_SECONDS = 15 * 60  # the landing page's window (questions/windows.py: now-15m to now)
# Raw per-second COUNT Queries are run for windows up to this long; longer ones are estimated from that rate.
RAW_SECONDS_RUN = 3600
# Passes of every request after the timed ones, the worker's memory taken after each (bench/scalereport.py).
MEMORY_CYCLES = 8


def log(message: str) -> None:
    print(f"[bench.scale {time.strftime('%H:%M:%S')}] {message}", flush=True)


def admin_for(endpoint: str) -> TableAdmin:
    settings = Settings.from_env({**serving.dashboard_env(endpoint, TABLE), "DASHBOARD_AUTH": "off"})
    return TableAdmin(Table.open(settings).clients, TABLE)


class Trickle:
    """Events at the table's own mean rate while measuring, keyed for the index: "now" stays live."""

    def __init__(self, raw: ScaleRaw, per_second: float) -> None:
        self.raw, self.per_second, self.written = raw, per_second, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scale-trickle", daemon=True)

    def start(self) -> Trickle:
        self._thread.start()
        return self

    def _run(self) -> None:
        import random

        # Seeded by the clock: a seed of its own each run, so that no run writes an earlier run's ids again (that
        # would move those events to now, out of the windows being measured).
        rng, owed = random.Random(time.time_ns()), 0.0
        while not self._stop.wait(1.0):
            owed += self.per_second
            count, owed = int(owed), owed - int(owed)
            events = [keyed(event, scaledata.INDEX) for event in live_events(datetime.now(UTC), count, rng)]
            if events:
                scaledata.Writer(self.raw.dynamodb, TABLE, 1).write(iter(events))
                self.written += len(events)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def newest_event(raw: ScaleRaw, now: datetime) -> str | None:
    """The newest event's timestamp, through the index: newest day first, its shards side by side."""
    for back in range(scaledata.DAYS + 2):
        day = (now - timedelta(days=back)).strftime("%Y-%m-%d")
        found = [raw._shard_page(f"{day}#{n}", f"{day}T00:00:00Z", format_stored(now), 1, Tally())
                 for n in range(scaledata.INDEX.shards)]
        stamps = [page[0][0] for page in found if page]
        if stamps:
            return max(stamps)
    return None


def prepare(backend: backends.Backend, raw: ScaleRaw, items: int, threads: int) -> tuple[scaledata.Marker, str]:
    """The table loaded (or found loaded) and topped up to now; the marker and the newest event's timestamp."""
    created = admin_for(backend.endpoint).create_table(point_in_time_recovery=False, time_index=scaledata.INDEX.name)
    marker = scaledata.Marker.read_or_new(scaledata.data_dir(items) / "marker.json", TABLE, items)
    if created and marker.days_done:  # the marker outlived its table: start again
        marker = scaledata.Marker(marker.path, TABLE, items, format_stored(datetime.now(UTC).replace(microsecond=0)))
    if marker.loaded:
        log(f"{items:,} events already loaded ({marker.end} back 30 days; {marker.topped_up:,} topped up since)")
    else:
        log(f"loading {items:,} events over 30 days to {marker.end} with {threads} threads "
            f"({len(marker.days_done)} days already there)")
        scaledata.load(marker, raw.dynamodb, threads, log)
    now = datetime.now(UTC).replace(microsecond=0)
    newest = newest_event(raw, now)
    if newest is None:
        raise RuntimeError("the time index holds no event: the table is not loaded as the marker says")
    scaledata.top_up(marker, raw.dynamodb, newest, now, log)
    return marker, newest_event(raw, datetime.now(UTC).replace(microsecond=0)) or newest


def cases(newest: str, first_day: str, raw: ScaleRaw, indexed: bool) -> list[dict[str, Any]]:
    """What is asked, with its raw reads: name, path, kind and the raw call (None: not run, with why)."""
    end = datetime.fromisoformat(newest)
    found: list[dict[str, Any]] = [{
        "name": "landing", "label": "landing page /", "path": "/", "kind": "html",
        "raw": (lambda: raw.index_page(*landing_window(), ROWS)) if indexed
        else (lambda: raw.seconds_page(*landing_window(), ROWS))}]
    for short, seconds in WINDOWS:
        start = format_stored(end - timedelta(seconds=seconds - 1))
        query = urlencode({"from": start, "to": newest, "order": "desc", "limit": ROWS})
        found.append({"name": f"events_{short}", "label": f"{short} range, first page", "kind": "events",
                      "path": f"/api/events?{query}", "window": [start, newest],
                      "raw": partial(raw.index_page if indexed else raw.seconds_page, start, newest, ROWS),
                      "raw_worst": partial(raw.index_every_partition, start, newest, ROWS) if indexed else None})
        raw_count: Callable[[], Tally] | None = partial(raw.index_count, start, newest)
        if not indexed:
            raw_count = partial(raw.seconds_count, start, newest) if seconds <= RAW_SECONDS_RUN else None
        found.append({"name": f"timeline_{short}", "label": f"{short} range, timeline", "kind": "timeline",
                      "path": f"/api/timeline?{query}", "window": [start, newest], "raw": raw_count,
                      "raw_seconds": seconds})
        found.append({"name": f"breakdown_{short}", "label": f"{short} range, top values", "kind": "breakdown",
                      "path": f"/api/breakdown?{query}", "window": [start, newest],
                      "raw": partial(raw.index_tally if indexed else raw.seconds_tally, start, newest)})
    # The worst case of a first page through the index: 7 days that end just before the first event, so that
    # every bucket is empty and every partition is read (N × 8 Queries).
    quiet_end = format_stored(datetime.fromisoformat(first_day) - timedelta(seconds=1))
    quiet_start = format_stored(datetime.fromisoformat(quiet_end) - timedelta(seconds=7 * 86400 - 1))
    query = urlencode({"from": quiet_start, "to": quiet_end, "order": "desc", "limit": ROWS})
    found.append({"name": "events_7d_empty", "label": "7d range with no event, first page", "kind": "events",
                  "path": f"/api/events?{query}", "window": [quiet_start, quiet_end],
                  "raw": partial(raw.index_page if indexed else raw.seconds_page, quiet_start, quiet_end, ROWS)})
    found.append({"name": "freshness", "label": "/api/freshness", "path": "/api/freshness", "kind": "freshness",
                  "raw": (lambda: raw.index_newest(now_stamp())) if indexed
                  else (lambda: raw.seconds_newest(now_stamp()))})
    return found


def now_stamp() -> str:
    return format_stored(datetime.now(UTC).replace(microsecond=0))


def landing_window() -> tuple[str, str]:
    now = datetime.now(UTC).replace(microsecond=0)
    return format_stored(now - timedelta(seconds=LANDING_SECONDS - 1)), format_stored(now)


def facts(kind: str, answer: timing.Answer) -> dict[str, Any]:
    """What the answer states: its plan, calls, RCUs and whether it is complete."""
    if kind == "html":
        stated = page_facts(answer.body)
        return {"plan": stated.get("plan"), "calls_stated": stated.get("calls"), "rcu": stated.get("consumed-rcu"),
                "rows": rows_in(answer.body), "complete": "budget_spent" not in stated}
    body = json.loads(answer.body) if answer.body.startswith("{") else {}
    if kind == "events":
        return {"plan": body.get("plan"), "calls_stated": body.get("calls"), "rcu": body.get("consumed_capacity"),
                "rows": len(body.get("items") or []), "complete": not body.get("budget_spent"),
                "more": bool(body.get("next_cursor")), "reason": body.get("plan_reason")}
    if kind == "timeline":
        return {"plan": body.get("plan"), "calls_stated": body.get("calls"), "rcu": body.get("consumed_capacity"),
                "total": body.get("total"), "complete": body.get("complete"),
                "seconds_counted": body.get("seconds_counted"), "reason": body.get("plan_reason")}
    if kind == "breakdown":
        return {"plan": body.get("plan"), "calls_stated": body.get("calls"), "rcu": body.get("consumed_capacity"),
                "total": body.get("counted"), "complete": body.get("complete"),
                "seconds_counted": body.get("seconds_counted"), "coverage": body.get("coverage")}
    if kind == "freshness":
        return {"plan": None, "calls_stated": body.get("calls"), "rcu": body.get("consumed_capacity"),
                "fresh": body.get("fresh"),
                "newest": body.get("newest"), "last_5m": body.get("last_5m"),
                "complete": not body.get("budget_spent") and body.get("last_5m_complete"),
                "seconds_from_memory": body.get("seconds_from_memory")}
    return {"body": answer.body[:200]}


def measure(case: dict[str, Any], client: timing.PageClient, counting: timing.PageClient, proxy: CountingProxy,
            rounds: int, server_cpu: Callable[[], int]) -> dict[str, Any]:
    """One request: its calls at the wire (first and after), what it states, its p50 and the worker's CPU time
    for it (which leaves out waiting for a core others hold), and the raw reads' p50."""
    path, kind = case["path"], case["kind"]
    before = proxy.counter.snapshot()
    first = counting.get(path)
    cold = proxy.counter.since(before)
    if kind == "breakdown" and first.status == 404:
        return {"status": 404, "not_on_this_branch": True}
    warm = []
    for _ in range(2):
        before = proxy.counter.snapshot()
        last = counting.get(path)
        warm.append(proxy.counter.since(before))
    client.get(path)  # the timed worker's own first request, not timed
    page, cpu = [], []
    for _ in range(rounds):
        before_ns = server_cpu()
        page.append(client.get(path).ms)
        cpu.append((server_cpu() - before_ns) / 1e6)
    result: dict[str, Any] = {
        "status": first.status, "calls_first": sum(cold.values()), "operations_first": cold,
        "calls_warm": statistics.median(sum(calls.values()) for calls in warm), "operations_warm": warm[-1],
        "first": facts(kind, first), "warm": facts(kind, last), "page": timing.summary(page),
        "page_cpu": timing.summary(cpu)}
    if case["raw"] is not None:
        tallies: list[Tally] = []
        raws = [timing.timed(lambda: tallies.append(case["raw"]())) for _ in range(max(1, rounds // 2))]
        tally = tallies[0]
        result["raw"] = {"calls": tally.calls, "rcu": round(tally.rcu, 1), "items": tally.items,
                         "stopped_at_max_calls": tally.calls >= MAX_CALLS, **timing.summary(raws)}
    if case.get("raw_worst") is not None:
        worst: list[Tally] = []
        times = [timing.timed(lambda: worst.append(case["raw_worst"]())) for _ in range(max(1, rounds // 2))]
        result["raw_every_partition"] = {"calls": worst[0].calls, "rcu": round(worst[0].rcu, 1),
                                         **timing.summary(times)}
    if kind == "timeline" and case["raw"] is None:
        result["raw"] = {"calls": case["raw_seconds"], "not_run": "one COUNT Query per second of the window"}
    return result


def measure_config(label: str, env: dict[str, str], proxy: CountingProxy, found: list[dict[str, Any]],
                   rounds: int, stack: ExitStack, passes: int = MEMORY_CYCLES,
                   traced_to: Path | None = None) -> dict[str, Any]:
    heap = TracedHeap(traced_to) if traced_to else None
    direct = (serving.Gunicorn({**env, **heap.env}, workers=1, config=TRACED_CONFIG) if heap
              else serving.Gunicorn(env, workers=1))
    counted = serving.Gunicorn({**env, "AWS_ENDPOINT_URL_DYNAMODB": proxy.endpoint}, workers=1)
    try:
        direct.wait_until_up(300 if heap else 60)  # importing everything under tracemalloc is slow
        counted.wait_until_up()
        client, counting = timing.PageClient(direct.port), timing.PageClient(counted.port)
        rss_start = direct.worker_rss_mb()
        for case in found:  # a warm-up pass, so that "before" is a worker that has served every request once
            client.get(case["path"])
        rss_before = direct.worker_rss_mb()
        heap_before = heap.mb(direct.pids) if heap else None
        measured: dict[str, Any] = {}
        for case in found:
            measured[case["name"]] = {"label": case["label"], "path": case["path"],
                                      **measure(case, client, counting, proxy, rounds, direct.workers_cpu_ns),
                                      "rss_after_mb": direct.worker_rss_mb()}
            log(f"{label} {case['name']}: {scalereport.one_line(measured[case['name']])}")
        rss_measured = direct.worker_rss_mb()
        # Then a few more passes of every request, the worker's memory after each: does it level off?
        rss_cycles, heap_cycles = [], []
        if heap:
            heap.snapshot(direct.pids)
        for _ in range(passes):
            for case in found:
                client.get(case["path"])
            rss_cycles.append(direct.worker_rss_mb())
            if heap:
                heap_cycles.append(heap.mb(direct.pids))
        rss_after = rss_cycles[-1] if rss_cycles else rss_measured
        grew = heap.snapshot(direct.pids) if heap else []
        client.close()
        counting.close()
    finally:
        direct.stop()
        counted.stop()
    return {"cases": measured, "rss_mb": {"start": rss_start, "before": rss_before, "measured": rss_measured,
                                          "cycles": rss_cycles, "after": rss_after},
            **({"python_heap_mb": {"before": heap_before, "cycles": heap_cycles}, "python_heap_grew": grew}
               if heap else {})}


TRACED_CONFIG = "bench/traced_gunicorn.py"


class TracedHeap:
    """With --traced: the worker runs under tracemalloc (bench/traced_gunicorn.py), which writes the Python heap it
    traces every TRACEMALLOC_SAMPLE_SECONDS to `<pid>.traced`; `mb` waits for a sample taken after the pass."""

    SAMPLE_SECONDS = 0.5

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.env = {"TRACEMALLOC_DIR": str(folder), "TRACEMALLOC_SAMPLE_SECONDS": str(self.SAMPLE_SECONDS)}
        self.taken = 0  # snapshots taken

    def mb(self, pids: list[int]) -> dict[int, float]:
        time.sleep(3 * self.SAMPLE_SECONDS)
        found = {}
        for pid in pids:
            lines = (self.folder / f"{pid}.traced").read_text().split("\n")
            last = [line for line in lines if line.strip()][-1]
            found[pid] = round(int(last.split()[1]) / 1e6, 1)
        return found

    def snapshot(self, pids: list[int]) -> list[str]:
        """A tracemalloc snapshot of each worker (SIGUSR2); from the second on, what grew since the first."""
        self.taken += 1
        for pid in pids:
            os.kill(pid, signal.SIGUSR2)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not all(self._path(pid, "done").exists() for pid in pids):
            time.sleep(0.5)
        if self.taken < 2:
            return []
        return [line for pid in pids
                for line in memory.snapshot_diff(self._path(pid, "snapshot", 1), self._path(pid, "snapshot"))]

    def _path(self, pid: int, kind: str, taken: int | None = None) -> Path:
        return self.folder / f"{pid}-{taken or self.taken}.{kind}"


def estimate_raw(result: dict[str, Any]) -> None:
    """Raw per-second timelines not run (a day is 86,400 Queries): their time at the 1-hour timeline's rate."""
    cases = result["configs"].get("no_index", {}).get("cases", {})
    hour = cases.get("timeline_1h", {}).get("raw", {})
    per_call = hour["p50_ms"] / hour["calls"] if hour.get("p50_ms") and hour.get("calls") else None
    for short, _ in WINDOWS:
        raw = cases.get(f"timeline_{short}", {}).get("raw", {})
        if raw.get("not_run") and per_call:
            raw["estimated_p50_ms"] = round(raw["calls"] * per_call)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 events, 3 rounds: a smoke run, shape not speed")
    parser.add_argument("--items", type=int, help="events to load (default 1,000,000; --quick 20,000)")
    parser.add_argument("--rounds", type=int, help="timed repetitions of each request (default 7; --quick 3)")
    parser.add_argument("--threads", type=int, default=4, help="BatchWriteItem threads while loading (default 4)")
    parser.add_argument("--fresh", action="store_true", help="drop the kept dynalite directory and load again")
    parser.add_argument("--load-only", action="store_true", help="load (or top up) the table, measure nothing")
    parser.add_argument("--config", choices=("index", "no_index"),
                        help="measure one configuration only (its JSON to scale-CONFIG.json, no write-up)")
    parser.add_argument("--passes", type=int, default=MEMORY_CYCLES,
                        help=f"passes of every request after the timed ones, memory read after each ({MEMORY_CYCLES})")
    parser.add_argument("--traced", action="store_true",
                        help="the uncounted worker under tracemalloc: its Python heap after each pass beside the RSS "
                             "(slower: for what grows, not for times; needs --config)")
    parser.add_argument("--no-write-up", action="store_true", help="the JSON only: leave the Markdown files alone")
    args = parser.parse_args(argv)
    if args.traced and not args.config:
        parser.error("--traced measures one configuration: add --config index or --config no_index")
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        del os.environ[name]
    items = args.items or (20_000 if args.quick else 1_000_000)
    rounds = args.rounds or (3 if args.quick else 7)
    if not backends.dynalite_installed():
        log("installing dynalite (npm ci in bench/)")
        backends.install_dynalite()
    data = scaledata.data_dir(items)
    if args.fresh:
        shutil.rmtree(data, ignore_errors=True)
    started = time.monotonic()
    result: dict[str, Any] = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "items": items,
                              "mode": "quick" if args.quick else "full", "rounds": rounds, "cores": os.cpu_count(),
                              "load_average": {"start": [round(n, 2) for n in os.getloadavg()]}}
    with ExitStack() as stack:
        backend = backends.start_dynalite(data)
        stack.callback(backend.stop)
        result["backend"] = {"name": backend.name, "version": backend.version, "data": str(data)}
        raw = ScaleRaw(backend.endpoint, TABLE, scaledata.INDEX.name, scaledata.INDEX.shards)
        stack.callback(raw.close)
        marker, newest = prepare(backend, raw, items, args.threads)
        result["table"] = {"name": TABLE, "index": vars(scaledata.INDEX), "days": scaledata.DAYS, "end": marker.end,
                           "loaded": items, "topped_up": marker.topped_up, "load": marker.load, "newest": newest}
        if args.load_only:
            log(f"loaded: {json.dumps(result['table'])}")
            return 0
        trickle = Trickle(raw, items / (scaledata.DAYS * 86400)).start()
        stack.callback(trickle.stop)
        proxy = CountingProxy(backend.endpoint).start()
        stack.callback(proxy.stop)
        base = serving.dashboard_env(backend.endpoint, TABLE)
        first_day = format_stored(datetime.fromisoformat(marker.end) - timedelta(days=scaledata.DAYS))
        result["configs"] = {}
        for label, indexed in (("index", True), ("no_index", False)):
            if args.config not in (None, label):
                continue
            env = {**base, "TIME_INDEX": scaledata.INDEX.name} if indexed else base
            traced_to = Path(stack.enter_context(tempfile.TemporaryDirectory())) if args.traced else None
            result["configs"][label] = measure_config(label, env, proxy, cases(newest, first_day, raw, indexed),
                                                      rounds, stack, args.passes, traced_to)
        result["table"]["trickled"] = trickle.written
    estimate_raw(result)
    result["targets"] = scalereport.targets(result)
    result["load_average"]["end"] = [round(n, 2) for n in os.getloadavg()]
    result["seconds"] = round(time.monotonic() - started)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / ("scale-quick.json" if args.quick else
                     f"scale-{args.config}{'-traced' if args.traced else ''}.json" if args.config else "scale.json")
    out.write_text(json.dumps(result, indent=2) + "\n")
    log(f"written to {out}")
    for line in scalereport.markdown(result):
        print(line)
    if not args.quick and not args.no_write_up and not args.config:
        scalereport.write(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
