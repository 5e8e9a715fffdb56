"""bench/scale.py written up: a line a case while it runs, the targets, and the scale section of bench/RESULTS.md."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from . import loadreport

HEADING = "## Scale: the time index on a large table (`make scale`)"
RESULTS_MD = Path(__file__).resolve().parent / "RESULTS.md"
# Issue 26's "Must show": with the index, a 7-day range's first page and the newest event each in at most
# N × buckets + 1 Queries (4 shards × 8 daily buckets + 1) and within 100 ms p50 on dynalite.
MAX_CALLS = 4 * 8 + 1
MAX_P50_MS = 100.0
# Worker memory across the repetitions, as `make bench`'s own memory target.
MAX_RSS_GROWTH_MB = 10.0
# Flat once warm: the peak of the later passes of every request stays within this of the earlier passes' peak. A
# pass is a dozen requests, one of which (a week's top values) allocates about 10 MB while it runs, so RSS moves a
# few MB from pass to pass by where that lands; a growing worker raises its peak pass after pass.
MAX_PEAK_RISE_MB = 1.0
CONFIGS = {"index": "with TIME_INDEX=time-index", "no_index": "without TIME_INDEX (the same table)"}


def one_line(case: dict[str, Any]) -> str:
    if case.get("not_on_this_branch"):
        return "404: not on this branch"
    first, page, raw = case.get("first", {}), case.get("page", {}), case.get("raw", {})
    return (f"{case.get('status')} plan={first.get('plan')} calls {case.get('calls_first')}/{case.get('calls_warm')} "
            f"rcu={first.get('rcu')} complete={first.get('complete')} p50={page.get('p50_ms')} ms; raw "
            f"{raw.get('calls')} calls p50={raw.get('p50_ms', raw.get('not_run'))}")


def queries(case: dict[str, Any]) -> tuple[int, int]:
    """The Queries at the wire, first request and after: what the target counts (the first request of a worker also
    makes its DescribeTable and, where it looks, the backfill sample's Scan, each once a minute)."""
    return (int((case.get("operations_first") or {}).get("Query", 0)),
            int((case.get("operations_warm") or {}).get("Query", 0)))


def _queries_value(case: dict[str, Any]) -> str:
    first, after = queries(case)
    other = {name: count for name, count in (case.get("operations_first") or {}).items() if name != "Query"}
    besides = f" (and {', '.join(f'{count} {name}' for name, count in other.items())} once)" if other else ""
    return f"{first} first{besides}, {after} after"


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if "index" in result["configs"]:
        found += _index_targets(result["configs"]["index"]["cases"])
    return found + _memory_targets(result)


def _index_targets(indexed: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for name, label in (("events_7d", "7-day range, first page"), ("freshness", "newest event (/api/freshness)")):
        case = indexed[name]
        p50 = case["page"].get("p50_ms")
        found.append({"target": f"{label} with the index: at most {MAX_CALLS} Queries at the wire",
                      "value": _queries_value(case), "passed": max(queries(case)) <= MAX_CALLS})
        found.append({"target": f"{label} with the index: p50 within {MAX_P50_MS:g} ms", "value": f"{p50} ms",
                      "passed": p50 is not None and p50 <= MAX_P50_MS})
    empty = indexed.get("events_7d_empty")
    if empty is not None:
        found.append({"target": f"7-day range with no event (every partition read) with the index: at most "
                                f"{MAX_CALLS} Queries at the wire",
                      "value": _queries_value(empty), "passed": max(queries(empty)) <= MAX_CALLS})
        found.append({"target": f"7-day range with no event with the index: p50 within {MAX_P50_MS:g} ms",
                      "value": f"{empty['page'].get('p50_ms')} ms",
                      "passed": (empty["page"].get("p50_ms") or MAX_P50_MS + 1) <= MAX_P50_MS})
    for short in ("1h", "1d", "7d"):
        case = indexed[f"events_{short}"]
        first = case["first"]
        full = first.get("rows") == 25 or (first.get("rows") is not None and not first.get("more"))
        found.append({"target": f"{short} range's first page with the index: plan=index, full (25 rows, or the whole "
                                "window when it holds fewer), complete",
                      "value": f"plan={first.get('plan')}, {first.get('rows')} rows, complete={first.get('complete')}",
                      "passed": case["status"] == 200 and first.get("plan") == "index" and full
                      and bool(first.get("complete"))})
    return found


def _memory_targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for label, config in result["configs"].items():
        rss = config["rss_mb"]
        before, after = rss["before"], rss["after"]
        growth = _growth(before, after)
        cycles = rss.get("cycles") or []
        levels = ""
        if cycles:
            levels = (f"; after the timed requests {_mb(rss['measured'])}, then after each of {len(cycles)} more "
                      f"passes of every request {' → '.join(_mb(cycle) for cycle in cycles)}")
        found.append({"target": f"worker memory {CONFIGS[label]}: grows less than {MAX_RSS_GROWTH_MB:g} MB over the "
                                "repetitions (after a warm-up pass of every request)",
                      "value": f"{_mb(rss.get('start', {}))} at start, {_mb(before)} after the warm-up{levels}; "
                               f"{_mb(after)} at the end ({growth:+.1f} MB)",
                      "passed": bool(before) and growth < MAX_RSS_GROWTH_MB})
        if len(cycles) >= 4:
            found.append(_flat(f"worker memory {CONFIGS[label]}: flat once warm,", "passes of every request", cycles,
                               f"growth in each request's timed part: {_by_case(config)}"))
        heap = (config.get("python_heap_mb") or {}).get("cycles") or []
        if len(heap) >= 4:  # --traced: what Python itself holds, beside the RSS that malloc's high-water marks lift
            found.append(_flat(f"Python heap {CONFIGS[label]} (tracemalloc):", "passes", heap,
                               f"after the warm-up {_mb(config['python_heap_mb']['before'])}, then after each pass "
                               f"{' → '.join(_mb(cycle) for cycle in heap)}"))
    return found


def _flat(what: str, passes: str, readings: list[dict[Any, float]], detail: str) -> dict[str, Any]:
    """Flat once warm: the peak over the last half of the readings less than MAX_PEAK_RISE_MB above the first half's."""
    half = len(readings) // 2
    first, last = _peaks(readings[:half]), _peaks(readings[half:])
    rise = max(_growth(first, last), 0.0)
    return {"target": f"{what} its peak over the last {len(readings) - half} {passes} less than "
                      f"{MAX_PEAK_RISE_MB:g} MB above its peak over the {half} before",
            "value": f"{rise:+.1f} MB ({_mb(first)} then {_mb(last)}); {detail}", "passed": rise < MAX_PEAK_RISE_MB}


def _peaks(readings: list[dict[Any, float]]) -> dict[Any, float]:
    """Each worker's highest RSS over some readings."""
    return {pid: max(reading.get(pid, 0.0) for reading in readings) for pid in readings[0]}


def _by_case(config: dict[str, Any]) -> str:
    """How much the worker grew while each request was measured, where it grew by 0.5 MB or more."""
    previous, grew = config["rss_mb"]["before"], []
    for name, case in config["cases"].items():
        now = case.get("rss_after_mb")
        if not now:
            continue
        if (growth := _growth(previous, now)) >= 0.5:
            grew.append(f"{name} {growth:+.1f} MB")
        previous = now
    return ", ".join(grew) or "none by 0.5 MB or more"


def _growth(before: dict[Any, float], after: dict[Any, float]) -> float:
    """The most any worker grew between two readings."""
    return max((after.get(pid, 0) - mb for pid, mb in before.items()), default=0.0)


def _mb(rss: dict[Any, float]) -> str:
    return ", ".join(f"{mb:.1f} MB" for mb in rss.values()) or "?"


def _number(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}".rstrip("0").rstrip(".") if digits else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _complete(first: dict[str, Any]) -> str:
    if first.get("complete") is None:
        return "–"
    extra = ""
    if "rows" in first:
        extra = f", {first['rows']} rows"
    elif first.get("total") is not None:
        extra = f", total {first['total']:,}"
    elif first.get("last_5m") is not None:
        extra = f", {first['last_5m']} in 5 min"
    return ("yes" if first["complete"] else "**no**") + extra


def _raw(case: dict[str, Any]) -> tuple[str, str]:
    raw = case.get("raw")
    if not raw:
        return "–", "–"
    if raw.get("not_run"):
        estimate = raw.get("estimated_p50_ms")
        return (f"{raw['calls']:,} (not run)",
                f"≈ {estimate / 1000:,.0f} s (est.)" if estimate else "–")
    stopped = ", stopped there" if raw.get("stopped_at_max_calls") else ""
    calls, p50 = f"{raw['calls']:,} ({_number(raw['rcu'])} RCU{stopped})", f"{raw['p50_ms']:,.1f} ms"
    if worst := case.get("raw_every_partition"):
        calls += f"; every partition: {worst['calls']:,} ({_number(worst['rcu'])} RCU)"
        p50 += f"; {worst['p50_ms']:,.1f} ms"
    return calls, p50


def table(config: dict[str, Any]) -> list[str]:
    lines = ["| request | plan | calls at the wire, first / after | RCU | complete | page p50 (CPU) | raw calls "
             "| raw p50 |", "|---|---|---:|---:|---|---:|---:|---:|"]
    for case in config["cases"].values():
        if case.get("not_on_this_branch"):
            lines.append(f"| {case['label']} | not on this branch (404) | | | | | | |")
            continue
        first = case["first"]
        operations = ", ".join(f"{count} {name}" for name, count in case["operations_first"].items())
        raw_calls, raw_p50 = _raw(case)
        status = "" if case["status"] == 200 else f" ({case['status']})"
        page = f"{case['page']['p50_ms']:,.1f} ms ({case['page_cpu']['p50_ms']:,.1f})"
        lines.append(f"| {case['label']}{status} | {first.get('plan') or '–'} | {case['calls_first']:,} "
                     f"({operations}) / {case['calls_warm']:,.0f} | {_number(first.get('rcu'))} | {_complete(first)} | "
                     f"{page} | {raw_calls} | {raw_p50} |")
    return lines


def markdown(result: dict[str, Any]) -> list[str]:
    table_facts, load = result["table"], result["table"].get("load", {})
    index = table_facts["index"]
    lines = [HEADING, "",
             (f"Run {result['when']} on {result['backend']['name']} {result['backend']['version']}, "
              f"{result['cores']} cores shared with other work (load average {result['load_average']['start']} at the "
              f"start, {result['load_average'].get('end')} at the end), {result['seconds']:,} s. "
              f"**{result['items']:,} events** over {table_facts['days']} days up to {table_facts['end']} in one table "
              f"with `{index['name']}` ({index['bucket']} buckets, {index['shards']} shards, every event keyed), plus "
              f"{table_facts['topped_up']:,} written since to bring it up to the run and "
              f"{table_facts.get('trickled', 0):,} trickled while measuring; newest event {table_facts['newest']}."),
             ""]
    if load:
        lines += [(f"Loaded with {load.get('threads')} threads of BatchWriteItem (25 items each): "
                   f"{load.get('first_rate', '?'):,} items/s on the first {load.get('first_items', 0):,}, "
                   f"{load.get('rate', '?'):,} items/s over the whole load ({load.get('seconds', 0):,.0f} s; "
                   f"{load.get('unprocessed_retried', 0):,} UnprocessedItems retried). The dynalite directory "
                   f"({result['backend']['data']}) is kept, so the next run skips the load."), ""]
    lines += [(f"Each request: the calls counted at the wire on the counting gunicorn's first request and the "
               "median of the two after it; RCU, plan and completeness as the answer states them (first request); "
               f"page p50 over {result['rounds']} requests to a gunicorn of its own (1 worker), with the worker's CPU "
               "time in brackets (it leaves out waiting for a core other work holds; dynalite's own time is not in "
               "it); raw: the same reads with plain boto3 (through the index: a `BETWEEN` Query per shard of each "
               "bucket read, the shards side by side, and the worst case of every partition of the window, N × buckets "
               "Queries of 26 events, 8 at a time; without: a Query per second, newest first, in waves doubling "
               "up to 8 side by side, stopping at 4,000 Queries as the dashboard's read budget would; timelines: a "
               "COUNT Query per partition or per second, 8 at a time; top values: those reads again with the "
               "breakdown's projection, every event's fields and lag tallied in Python, stopping at the read "
               "budget's 2,000 RCU or 4,000 Queries as the dashboard does, which has a 3-second deadline as well)."),
              ""]
    for label, config in result["configs"].items():
        heading = CONFIGS[label]
        lines += [f"### {heading[0].upper()}{heading[1:]}", "", *table(config), ""]
    passed = sum(target["passed"] for target in result["targets"])
    lines += [f"### Targets: {passed} of {len(result['targets'])} pass", "", "| target | measured | |", "|---|---|---|"]
    lines += [f"| {target['target']} | {target['value']} | {'PASS' if target['passed'] else '**FAIL**'} |"
              for target in result["targets"]]
    return lines


def write(result: dict[str, Any], path: Path = RESULTS_MD) -> None:
    """The scale section of bench/RESULTS.md, in place of the one before it (`make bench` keeps it)."""
    loadreport.write_section(path, markdown(result), HEADING)
