"""What a page costs the dashboard over its DynamoDB calls, measured on dynalite: `make bench` (or `--quick`).

One run: start dynalite; create a 10,000- and a 100,000-event table and load them with the
dashboard's own `flask` commands; serve each with gunicorn as in production; time every page of
both tables against the same DynamoDB calls made straight with boto3, all in the same shuffled
rounds so that noise from other work on the machine falls on every figure alike; count each
page's calls at the wire through a proxy in a separate pass; requests per second and worker
memory; a profile of the 100-row list page; and the moto figures for comparison.
Writes bench/RESULTS.md and bench/results/latest.json.

`--quick` (a few hundred events, 3 repetitions; on the embedded moto server when dynalite is not
installed) runs in the test suite so the benchmark never rots. It checks shape, not speed.
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
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from . import backends, cases, loadreport, report, scalereport, serving, timing
from .dayranges import HEADING as DAYRANGES_HEADING
from .wire import CountingProxy

BENCH = Path(__file__).resolve().parent
ANALYSIS = BENCH / "ANALYSIS.md"  # the hand-written part of RESULTS.md, appended after the generated figures
FIRST_DAY = date(2024, 1, 1)  # the busy second searched for (13:00:00, 130 events) is on this day


@dataclass(frozen=True)
class Plan:
    sizes: tuple[int, ...]
    deep_pages: tuple[int, ...]
    repetitions: int
    warmup: int
    counted: int  # requests per page in the counting pass
    load_seconds: float
    load_threads: int
    profile_requests: int
    moto_events: int  # 0: no moto section
    moto_deep_pages: tuple[int, ...] = ()
    # Range pages make tens to hundreds of calls (fan-out), or read the whole table (scan): fewer rounds.
    range_rounds: dict[str, int] = field(default_factory=lambda: {"fanout": 15, "scan": 6})


FULL = Plan(sizes=(10_000, 100_000), deep_pages=(40, 200), repetitions=40, warmup=5, counted=3, load_seconds=8,
            load_threads=4, profile_requests=60, moto_events=1_000, moto_deep_pages=(20,))
QUICK = Plan(sizes=(300, 600), deep_pages=(3, 10), repetitions=3, warmup=1, counted=2, load_seconds=1,
             load_threads=2, profile_requests=5, moto_events=0, range_rounds={"fanout": 1, "scan": 1})


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class Served:
    """One table of one size, served by its own gunicorn (and by a second one behind the counting proxy)."""

    items: int
    direct: serving.Gunicorn
    counting: serving.Gunicorn | None
    raw: cases.Raw
    client: timing.PageClient
    cases: list[cases.Case] = field(default_factory=list)
    memory: dict[str, dict[int, float]] = field(default_factory=dict)


def serve_tables(stack: ExitStack, backend: backends.Backend, sizes: tuple[int, ...],
                 proxy: CountingProxy | None) -> list[Served]:
    """A table per size, made and loaded with the dashboard's own commands; then every gunicorn, started together."""
    tables = {items: f"bench-events-{items}" for items in sizes}

    def make_and_load(items: int) -> None:
        env = serving.dashboard_env(backend.endpoint, tables[items])
        log("  " + serving.create_table(env, pitr=backend.name != "dynalite"))
        log(f"  loading {items:,} events into {tables[items]} (seed-demo, batch writes)")
        log("  " + serving.seed(env, items, FIRST_DAY.isoformat(), 7))

    with ThreadPoolExecutor(len(sizes)) as pool:  # the tables load side by side
        list(pool.map(make_and_load, sizes))
    started = []
    for items, table in tables.items():
        direct = serving.Gunicorn(serving.dashboard_env(backend.endpoint, table))
        stack.callback(direct.stop)
        # One worker is enough to count calls, and keeps the item-count cache on one connection.
        counting = serving.Gunicorn(serving.dashboard_env(proxy.endpoint, table), workers=1) if proxy else None
        if counting:
            stack.callback(counting.stop)
        started.append((items, table, direct, counting))
    served = []
    for items, table, direct, counting in started:
        for server in filter(None, (direct, counting)):
            server.wait_until_up()
        served.append(Served(items, direct, counting, cases.Raw(backend.endpoint, table),
                             timing.PageClient(direct.port)))
        served[-1].memory["boot"] = direct.worker_rss_mb()
    return served


def count_calls(page_cases: list[cases.Case], port: int, proxy: CountingProxy, repeats: int) -> dict[str, Any]:
    """Each page's DynamoDB calls at the wire, after one warm-up request on the same connection
    (the list page's item count is DescribeTable, asked once a minute per worker); and what a listing
    page states it did (plan, calls, RCUs, items read), to be read beside the count."""
    client = timing.PageClient(port)
    counted = {}
    for case in page_cases:
        before = proxy.counter.snapshot()
        client.get(case.path)
        first = proxy.counter.since(before)
        seen = []
        for _ in range(1 if case.kind == "range" else repeats):  # a range page's calls do not vary
            before = proxy.counter.snapshot()
            answer = client.get(case.path)
            seen.append(proxy.counter.since(before))
        totals = [sum(ops.values()) for ops in seen]
        typical = statistics.mode(totals)
        counted[case.name] = {"calls": typical, "operations": next(ops for ops in seen if sum(ops.values()) == typical),
                              "per_request": seen, "warm_up_request": first,
                              "page_facts": cases.page_facts(answer.body)}
    client.close()
    return counted


def load_in_turns(served: list[Served], plan: Plan) -> dict[int, dict[str, Any]]:
    """Requests per second against each table's gunicorn, in alternating slices so noise falls on all alike."""
    mixed = {one.items: [case.path for case in one.cases if case.kind in ("list", "search", "detail")]
             + [case.path for case in one.cases if case.kind == "deep"][:1] for one in served}
    slices: dict[int, list[dict[str, Any]]] = {one.items: [] for one in served}
    for _ in range(4):
        for one in served:
            slices[one.items].append(timing.load(one.direct.port, mixed[one.items], plan.load_threads,
                                                 plan.load_seconds / 4))
    return {items: timing.combined(runs) for items, runs in slices.items()}


def status_page(client: timing.PageClient) -> dict[str, Any]:
    answer = client.get("/status")
    panel = cases.pitr_panel(answer.body)
    return {"http_status": answer.status, "pitr_panel": panel,
            "rest_rendered": "data-table-status" in answer.body and 'data-panel="indexes"' in answer.body}


def page_figures(case: cases.Case, timed: dict[str, Any], calls: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "label": case.label, "kind": case.kind, "rows": case.rows,
        "path": case.path if len(case.path) < 120 else case.path[:117] + "...",
        "raw": timed["raw"], "page": timed["page"], "bytes": timed["bytes"],
        "added_p50_ms": round(timed["page"]["p50_ms"] - timed["raw"]["p50_ms"], 2),
        # the same, in CPU time: the workers' for the page, the benchmark thread's for the raw call
        "raw_cpu": timed["raw_cpu"], "page_cpu": timed["page_cpu"],
        "added_cpu_p50_ms": round(timed["page_cpu"]["p50_ms"] - timed["raw_cpu"]["p50_ms"], 2),
        "calls": calls, "problems": timed["problems"], "rounds": timed["page"].get("n", 0),
        **({"stated": calls.get("page_facts", {})} if calls else {}),
    }


def measure(stack: ExitStack, backend: backends.Backend, plan: Plan, sizes: tuple[int, ...],
            deep: tuple[int, ...], counted: bool, ranges: bool = True) -> tuple[dict[str, Any], dict[str, str]]:
    """Every table size served side by side and timed in the same shuffled rounds; then calls, load, memory.
    Returns the figures, and the full path of each page of the largest table (deep-page URLs are long)."""
    proxy = CountingProxy(backend.endpoint).start() if counted else None
    if proxy:
        stack.callback(proxy.stop)
    served = serve_tables(stack, backend, sizes, proxy)
    for one in served:
        log(f"{one.items:,} events: collecting the URLs of pages {', '.join(map(str, deep))} by following rel=next")
        one.cases = cases.build(one.client, one.direct.workers_cpu_ns, one.raw, deep,
                                plan.range_rounds if ranges else {})
        # Both workers see every page before anything is timed or weighed.
        timing.load(one.direct.port, [case.path for case in one.cases], plan.load_threads,
                    max(plan.load_seconds / 4, 0.5))
        one.memory["warm"] = one.direct.worker_rss_mb()
    every_case = [case for one in served for case in one.cases]
    log(f"timing {len(every_case)} pages ({len(served)} table sizes) × {plan.repetitions} rounds "
        f"(+{plan.warmup} warm-up), each page against its raw call, interleaved")
    timed = dict(zip(map(id, every_case), timing.interleaved(every_case, plan.repetitions, plan.warmup), strict=True))
    measured: dict[str, Any] = {"sizes": []}
    calls: dict[int, dict[str, Any]] = {}
    if proxy:
        log("counting each page's calls at the wire")
        calls = {one.items: count_calls(one.cases, one.counting.port, proxy, plan.counted)
                 for one in served if one.counting is not None}
        log(f"{plan.load_seconds:g} s of load per table, {plan.load_threads} client threads, in turns")
        rps = load_in_turns(served, plan)
    for one in served:
        one.memory["end"] = one.direct.worker_rss_mb()
        pages = {case.name: page_figures(case, timed[id(case)], calls.get(one.items, {}).get(case.name))
                 for case in one.cases}
        measured["sizes"].append({"items": one.items, "pages": pages, **({"rps": rps[one.items]} if proxy else {})})
    measured["memory_mb"] = {str(one.items): one.memory for one in served}
    measured["status_page"] = status_page(served[-1].client)
    for one in served:
        one.client.close()
    return measured, {case.name: case.path for case in served[-1].cases}


def write_markdown(result: dict[str, Any], path: Path) -> None:
    m, b, plan = result["machine"], result["backend"], result["plan"]
    small, large = result["sizes"][0]["items"], result["sizes"][-1]["items"]
    title = "Benchmark results" + (" (quick mode: shape, not speed)" if result["mode"] == "quick" else "")
    lines = [f"# {title}", "",
             f"`{'make bench' if result['mode'] == 'full' else 'python -m bench.run --quick'}` on {result['when']}, "
             f"{result['elapsed_s']:.0f} s. Machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, "
             f"{m['platform']}; {b['name']} {b['version']}"
             + (f", moto {result['moto']['version']}" if result.get("moto") else "")
             + f". Load average {m['load_average']} at the start and {m.get('load_average_end')} at the end: other "
             "work shares this machine, so wall-clock figures carry its noise.", "",
             ("Each table is served by its own `gunicorn -c gunicorn.conf.py wsgi:app` (2 workers). Every page of "
              f"both tables is requested over a keep-alive connection in the same {plan['repetitions']} shuffled "
              f"rounds (after {plan['warmup']} warm-up rounds), each next to *raw*: the same DynamoDB call(s) made "
              "straight with boto3. *page − raw* is what the dashboard adds, wall-clock p50. *CPU: page − raw* is "
              "the same in CPU time (the workers' for the page, from /proc/PID/task/*/schedstat; the benchmark "
              "thread's for the raw call), which leaves out time spent waiting for a core. *calls* were counted "
              "by `X-Amz-Target` through a proxy, in a separate pass, after one warm-up request. Deep pages were "
              "reached by following `rel=\"next\"` from page 1."), ""]
    for size in result["sizes"]:
        lines += [f"## {b['name']}, {size['items']:,} events", ""] + report.pages_table(size["pages"]) + [""]
    if any(page["kind"] == "range" for size in result["sizes"] for page in size["pages"].values()):
        lines += ["## Range searches", "",
                  (f"The first page ({cases.RANGE_ROWS} rows) of a range around the busy second "
                   f"({cases.BUSY_SECOND}, 130 events), asked for with `plan=fanout` and with `plan=scan`: "
                   + "; ".join(f"{label} = {start} to {end}" for _, label, start, end in cases.RANGES) + ". "
                   "*Same calls, raw*: the page's DynamoDB calls made straight with boto3, the fan-out's Queries one "
                   "after another (so its time is the calls × the latency of one), the scan's segments side by side as "
                   "the dashboard reads them. *Calls at the wire* were counted through the proxy; what the page "
                   "states is read from its `data-calls`, `data-consumed-rcu` and `data-items-read`. Range pages are "
                   f"timed in fewer rounds (fan-out {plan['range_rounds']['fanout']}, scan "
                   f"{plan['range_rounds']['scan']}, after one warm-up each), so their p95 is nearly their slowest."),
                  ""] + report.range_lines(result) + [""]
    lines += [f"## From {small:,} to {large:,} events, and from page 1 to the deepest page", ""]
    lines += report.comparison_lines(result)
    lines += ["", "## Throughput and worker memory", "",
              ("A fixed-duration run per table over a mixed set of pages (list, search, detail, a deep page), the "
               "tables in turns, with client threads in the benchmark's own process: on 2 cores the clients, the "
               "workers and the backend share the CPU, so this is a floor, not a capacity."), ""]
    lines += report.load_lines(result)
    lines += ["", "## Targets", ""] + report.target_lines(result["targets"])
    if result.get("profile"):
        lines += ["", "## Where the time goes", "", f"### The 100-row list page, {large:,} events", ""]
        lines += report.profile_lines(result["profile"])
    if result.get("deep_profile"):
        lines += ["", f"### {result['deep_profile']['label']}, {large:,} events", ""]
        lines += report.profile_lines(result["deep_profile"], tops=False)
    if result.get("moto"):
        moto = result["moto"]
        lines += ["", f"## moto figures (embedded moto server {moto['version']}, {moto['items']:,} events, "
                  f"{moto['repetitions']} rounds)", "",
                  ("For comparison only: moto walks the whole table on every Scan and Query, so its *raw* column is "
                   "far slower than DynamoDB or dynalite, and its noise swamps the dashboard's own cost."), ""]
        lines += report.pages_table(moto["pages"], counted=False)
    if result["mode"] == "full" and ANALYSIS.is_file():
        lines += ["", "---", "", "# Analysis (hand-written, not generated)", "",
                  f"Written by hand in `bench/{ANALYSIS.name}` and copied here by the run: it was written about the "
                  "run named in it, and is not updated by a new run.", "", ANALYSIS.read_text().strip()]
    # `make load`, `make scale` and `make dayranges` write their own sections, last: a new benchmark keeps them.
    before = path.read_text() if path.exists() else ""
    kept = "".join("\n" + found for heading in (loadreport.HEADING, scalereport.HEADING, DAYRANGES_HEADING)
                   if (found := loadreport.section(before, heading)))
    path.write_text("\n".join(lines) + "\n" + kept)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few hundred events, 3 repetitions: shape, not speed")
    parser.add_argument("--backend", choices=("auto", "dynalite", "moto"), default="auto",
                        help="auto: dynalite when installed in bench/node_modules, else (quick only) moto")
    parser.add_argument("--results", type=Path,
                        help="where to write (default: bench/results/ and, for a full run, bench/RESULTS.md)")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    started = time.monotonic()
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        del os.environ[name]  # the benchmark never reaches a real AWS account

    name = args.backend if args.backend != "auto" else "dynalite" if backends.dynalite_installed() else "moto"
    if name == "dynalite" and not backends.dynalite_installed():
        sys.exit("dynalite is not installed: run `make bench` (it runs `npm ci` in bench/)")
    if name == "moto" and not args.quick:
        sys.exit("the full benchmark measures on dynalite: run `make bench` (it runs `npm ci` in bench/)")
    result: dict[str, Any] = {
        "mode": "quick" if args.quick else "full", "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": report.machine(), "plan": plan.__dict__, "deep_pages": list(plan.deep_pages), "sizes": [],
    }
    with ExitStack() as stack:
        backend = backends.start(name)
        stack.callback(backend.stop)
        result["backend"] = {"name": backend.name, "version": backend.version}
        log(f"{backend.name} {backend.version} at {backend.endpoint}")
        measured, paths = measure(stack, backend, plan, plan.sizes, plan.deep_pages, counted=True)
        result.update(measured)
        if plan.profile_requests and backend.name == "dynalite":
            from .profiling import profile_page
            table = f"bench-events-{plan.sizes[-1]}"
            deepest = f"page_{plan.deep_pages[-1]}"
            log(f"profiling the 100-row list page and page {plan.deep_pages[-1]} (cProfile, Flask test client)")
            result["profile"] = profile_page(backend.endpoint, table, paths["list_100"], plan.profile_requests)
            result["deep_profile"] = profile_page(backend.endpoint, table, paths[deepest], plan.profile_requests // 2)
            result["deep_profile"]["label"] = measured["sizes"][-1]["pages"][deepest]["label"]
    if plan.moto_events:
        with ExitStack() as stack:
            log(f"moto figures: {plan.moto_events:,} events on the embedded moto server")
            moto = backends.start("moto")
            stack.callback(moto.stop)
            # moto's slow scans make every round long; 30 rounds are enough for figures kept for comparison.
            moto_plan = replace(plan, repetitions=min(plan.repetitions, 30), warmup=min(plan.warmup, 3))
            on_moto, _ = measure(stack, moto, moto_plan, (plan.moto_events,), plan.moto_deep_pages, counted=False,
                                 ranges=False)
            result["moto"] = {"version": moto.version, "items": plan.moto_events, "repetitions": moto_plan.repetitions,
                              "pages": on_moto["sizes"][0]["pages"]}
    result["elapsed_s"] = round(time.monotonic() - started, 1)
    result["machine"]["load_average_end"] = [round(value, 2) for value in os.getloadavg()]
    result["targets"] = report.targets(result)

    for size in result["sizes"]:
        print(f"\n{backend.name}, {size['items']:,} events\n" + "\n".join(report.pages_table(size["pages"])))
    print("\nrange searches, first page\n" + "\n".join(report.range_lines(result)))
    print("\n" + "\n".join(report.comparison_lines(result)) + "\n\n" + "\n".join(report.load_lines(result)))
    if result.get("moto"):
        print(f"\nmoto figures, {result['moto']['items']:,} events\n"
              + "\n".join(report.pages_table(result["moto"]["pages"], counted=False)))
    print("\n" + "\n".join(report.target_lines(result["targets"])))

    out = args.results or BENCH / "results"
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / ("quick.json" if args.quick else "latest.json")
    json_path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    # A quick run writes its own write-up beside its JSON and never touches the committed RESULTS.md.
    markdown = out / "quick.md" if args.quick else BENCH / "RESULTS.md" if args.results is None else out / "RESULTS.md"
    write_markdown(result, markdown)
    written = [json_path, markdown]
    print(f"\nwrote {', '.join(str(path) for path in written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
