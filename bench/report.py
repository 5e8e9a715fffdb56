"""The benchmark's verdicts and its write-up: targets checked against the figures, tables for the console and
RESULTS.md."""
from __future__ import annotations

import os
import platform
from typing import Any

# page - raw p50 budgets, by page kind and size (the targets)
ADDED_BUDGET_MS = {"list_25": 3.0, "search_25": 3.0, "detail": 3.0, "list_100": 6.0, "search_100": 6.0}
DEEP_BUDGET_MS = 3.0
STATUS_BUDGET_MS = 20.0
ONE_CALL_KINDS = ("list", "deep", "search", "detail")
DEEP_RATIO, SIZE_RATIO, MEMORY_MB, RUNTIME_S = 1.2, 1.2, 10.0, 600.0
# Range pages (the range issue): page p50 of a one-minute range, of the first page of a 15-minute one.
RANGE_BUDGET_MS = {"1m": 150.0, "15m": 1000.0}
RANGE_OPERATION = {"fanout": "Query", "scan": "Scan"}


def _range_name(name: str) -> tuple[str, str]:
    """'range_15m_fanout' -> ('15m', 'fanout')."""
    _, span, plan = name.split("_")
    return span, plan


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "load_average": [round(value, 2) for value in os.getloadavg()]}


def _budget(name: str, kind: str) -> float | None:
    return DEEP_BUDGET_MS if kind == "deep" else ADDED_BUDGET_MS.get(name)


def _verdict(target: str, measured: str, passed: bool) -> dict[str, Any]:
    return {"target": target, "measured": measured, "pass": bool(passed)}


def growth_mb(before: dict[Any, float], after: dict[Any, float]) -> float | None:
    """The largest growth of any worker present in both snapshots (a restarted worker is not compared)."""
    common = set(map(str, before)) & set(map(str, after))
    if not common:
        return None
    before_by, after_by = {str(k): v for k, v in before.items()}, {str(k): v for k, v in after.items()}
    return round(max(after_by[pid] - before_by[pid] for pid in common), 1)


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    verdicts = []
    sizes = result["sizes"]
    for size in sizes:
        items, pages = size["items"], size["pages"]
        tag = f"{items:,} items"
        for name, page in pages.items():
            budget = _budget(name, page["kind"])
            if budget is not None:
                verdicts.append(_verdict(f"{page['label']}: page − raw p50 ≤ {budget:g} ms ({tag})",
                                         f"{page['added_p50_ms']:.2f} ms (CPU {page['added_cpu_p50_ms']:+.2f} ms)",
                                         page["added_p50_ms"] <= budget))
            if page["kind"] == "status":
                p50 = page["page"]["p50_ms"]
                verdicts.append(_verdict(f"status page p50 ≤ {STATUS_BUDGET_MS:g} ms in all ({tag})", f"{p50:.2f} ms",
                                         p50 <= STATUS_BUDGET_MS))
            if page["kind"] == "range":
                verdicts += _range_verdicts(name, page, tag)
            if page["kind"] in ONE_CALL_KINDS:
                calls = page["calls"]["calls"]
                verdicts.append(_verdict(f"{page['label']}: exactly one DynamoDB call ({tag})",
                                         f"{calls} ({_ops(page['calls']['operations'])})", calls == 1))
        deep = [name for name, page in pages.items() if page["kind"] == "deep"]
        if deep and "list_25" in pages:
            deepest = max(deep, key=lambda name: int(name.split("_")[1]))
            ratio, cpu = _ratios(pages["list_25"], pages[deepest])
            verdicts.append(_verdict(f"{pages[deepest]['label']} within {DEEP_RATIO}× of page 1 ({tag})",
                                     f"{ratio:.3f}× (CPU {cpu:.2f}×)", ratio <= DEEP_RATIO))
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        for name, page in large["pages"].items():
            # A range page reads by its range (fan-out) or the whole table (scan): the range table shows both sizes.
            if name in small["pages"] and page["kind"] != "range":
                ratio, cpu = _ratios(small["pages"][name], page)
                verdicts.append(_verdict(f"{page['label']}: {large['items']:,} items within {SIZE_RATIO}× of "
                                         f"{small['items']:,}", f"{ratio:.3f}× (CPU {cpu:.2f}×)", ratio <= SIZE_RATIO))
    memory = {int(items): snapshots for items, snapshots in result["memory_mb"].items()}
    if len(memory) >= 2:
        small, large = min(memory), max(memory)
        grown = round(max(memory[large]["end"].values()) - max(memory[small]["end"].values()), 1)
        verdicts.append(_verdict(f"worker memory grows < {MEMORY_MB:g} MB from the {small:,} to the {large:,} table "
                                 "(largest worker after the same run)", f"{grown:+.1f} MB", grown < MEMORY_MB))
    worst = None
    for snapshots in memory.values():
        grown = growth_mb(snapshots.get("warm", {}), snapshots.get("end", {}))
        if grown is not None and (worst is None or grown > worst):
            worst = grown
    verdicts.append(_verdict(f"worker memory grows < {MEMORY_MB:g} MB across the run (warmed up → end, any worker)",
                             "no worker in both snapshots" if worst is None else f"{worst:+.1f} MB",
                             worst is not None and worst < MEMORY_MB))
    status = result.get("status_page") or {}
    if result["backend"]["name"] == "dynalite":
        panel = status.get("pitr_panel", "")
        said = panel.split(". ")[0].rstrip(".") + "." if panel else "(no PITR panel)"
        verdicts.append(_verdict("status page renders with PITR shown as unsupported (dynalite has no PITR API)",
                                 f"HTTP {status.get('http_status')}; PITR panel: “{said}”",
                                 status.get("http_status") == 200 and "unsupported" in panel
                                 and status.get("rest_rendered", False)))
    verdicts.append(_verdict(f"the benchmark runs in under {RUNTIME_S / 60:g} minutes (this run; a fresh clone adds "
                             "the virtualenv and npm ci)", f"{result['elapsed_s']:.0f} s",
                             result["elapsed_s"] < RUNTIME_S))
    return verdicts


def _range_verdicts(name: str, page: dict[str, Any], tag: str) -> list[dict[str, Any]]:
    span, plan = _range_name(name)
    verdicts = []
    if span in RANGE_BUDGET_MS:
        budget, p50 = RANGE_BUDGET_MS[span], page["page"]["p50_ms"]
        what = "page" if span == "1m" else "first page"
        verdicts.append(_verdict(f"{page['label']}: {what} p50 ≤ {budget:g} ms ({tag})", f"{p50:.1f} ms",
                                 p50 <= budget))
    calls = page.get("calls") or {}
    if calls:
        wire = calls["operations"].get(RANGE_OPERATION[plan], 0)
        stated = (page.get("stated") or {}).get("calls", "—")
        verdicts.append(_verdict(f"{page['label']}: the page states the calls counted at the wire ({tag})",
                                 f"states {stated}, wire {wire} ({_ops(calls['operations'])})", stated == str(wire)))
    return verdicts


def _ratios(before: dict[str, Any], after: dict[str, Any]) -> tuple[float, float]:
    """after ÷ before, in wall-clock page p50 (what the target judges) and in the workers' CPU p50."""
    cpu_before = before.get("page_cpu", {}).get("p50_ms") or float("nan")
    return (after["page"]["p50_ms"] / before["page"]["p50_ms"],
            after.get("page_cpu", {}).get("p50_ms", float("nan")) / cpu_before)


def _ops(operations: dict[str, int]) -> str:
    return ", ".join(f"{name}×{count}" if count > 1 else name for name, count in operations.items()) or "none"


def _ms(summary: dict[str, Any], key: str) -> str:
    return f"{summary[key]:.1f}" if key in summary else "—"


def pages_table(pages: dict[str, Any], counted: bool = True) -> list[str]:
    head = ("| page | raw p50 ms | page p50 / p95 ms | page − raw ms |" + (" calls |" if counted else "")
            + " CPU: page − raw ms | HTML |")
    lines = [head, "|---|---:|---:|---:|" + ("---|" if counted else "") + "---:|---:|"]
    for page in pages.values():
        if page["kind"] == "range":
            continue  # range_lines
        line = (f"| {page['label']} | {_ms(page['raw'], 'p50_ms')} | {_ms(page['page'], 'p50_ms')} / "
                f"{_ms(page['page'], 'p95_ms')} | {page['added_p50_ms']:+.1f} |")
        if counted:
            calls = page.get("calls") or {}
            line += f" {calls.get('calls', '—')} ({_ops(calls.get('operations', {}))}) |"
        cpu = (f"{page['page_cpu']['p50_ms']:.1f} − {page['raw_cpu']['p50_ms']:.1f} = {page['added_cpu_p50_ms']:+.1f}"
               if "added_cpu_p50_ms" in page else "—")
        lines.append(line + f" {cpu} | {page['bytes'] / 1024:.0f} KB |")
    return lines


def comparison_lines(result: dict[str, Any]) -> list[str]:
    sizes = result["sizes"]
    lines = []
    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        lines += [f"| page | page p50 at {small['items']:,} | at {large['items']:,} | ratio | CPU ratio |",
                  "|---|---:|---:|---:|---:|"]
        for name, page in large["pages"].items():
            if name in small["pages"] and page["kind"] != "range":
                ratio, cpu = _ratios(small["pages"][name], page)
                lines.append(f"| {page['label']} | {small['pages'][name]['page']['p50_ms']:.1f} ms | "
                             f"{page['page']['p50_ms']:.1f} ms | {ratio:.2f}× | {cpu:.2f}× |")
        lines.append("")
    numbers = result["deep_pages"]
    lines += ["| table | page 1 p50 | " + " | ".join(f"page {n} p50" for n in numbers)
              + " | deepest ÷ first | CPU ratio |",
              "|---|---:|" + "---:|" * len(numbers) + "---:|---:|"]
    for size in sizes:
        first, deepest = size["pages"]["list_25"], size["pages"][f"page_{numbers[-1]}"]
        ratio, cpu = _ratios(first, deepest)
        deep = [size["pages"][f"page_{n}"]["page"]["p50_ms"] for n in numbers]
        lines.append(f"| {size['items']:,} items | {first['page']['p50_ms']:.1f} ms | "
                     + " | ".join(f"{ms:.1f} ms" for ms in deep) + f" | {ratio:.2f}× | {cpu:.2f}× |")
    return lines


def range_lines(result: dict[str, Any]) -> list[str]:
    """The first page of each range under each plan, both table sizes: time, calls, RCUs, and time per call."""
    lines = ["| range, plan | events | page p50 / p95 ms | same calls, raw p50 ms | calls at the wire | "
             "the page states: calls · RCUs · items read | ms a call: page / raw | rounds |",
             "|---|---:|---:|---:|---|---|---:|---:|"]
    for size in result["sizes"]:
        for name, page in size["pages"].items():
            if page["kind"] != "range":
                continue
            calls = page.get("calls") or {}
            stated = page.get("stated") or {}
            count = calls.get("operations", {}).get(RANGE_OPERATION[_range_name(name)[1]], 0)
            per_call = (f"{page['page']['p50_ms'] / count:.2f} / {page['raw']['p50_ms'] / count:.2f}"
                        if count else "—")
            said = " · ".join(stated.get(key, "—").split(" (")[0] for key in ("calls", "consumed-rcu", "items-read"))
            if stated.get("budget_spent"):
                said += " · stopped on its read budget"
            lines.append(f"| {page['label']} | {size['items']:,} | {_ms(page['page'], 'p50_ms')} / "
                         f"{_ms(page['page'], 'p95_ms')} | {_ms(page['raw'], 'p50_ms')} | "
                         f"{calls.get('calls', '—')} ({_ops(calls.get('operations', {}))}) | {said} | {per_call} | "
                         f"{page.get('rounds', '—')} |")
    return lines


def load_lines(result: dict[str, Any]) -> list[str]:
    lines = ["| table | requests/s | client threads | p50 / p95 ms | errors |", "|---|---:|---:|---:|---:|"]
    for size in result["sizes"]:
        rps = size["rps"]
        lines.append(f"| {size['items']:,} items | {rps['rps']:.0f} | {rps['client_threads']} | "
                     f"{_ms(rps['latency'], 'p50_ms')} / {_ms(rps['latency'], 'p95_ms')} | {rps['errors']} |")
    lines += ["", "| worker memory (RSS) | worker | at boot | warmed up | end of run | growth in the run |",
              "|---|---:|---:|---:|---:|---:|"]
    for items, snapshots in result["memory_mb"].items():
        for pid, warm in snapshots.get("warm", {}).items():
            boot, end = snapshots.get("boot", {}).get(pid), snapshots.get("end", {}).get(pid)
            lines.append(f"| {int(items):,} items | {pid} | {boot if boot is not None else '—'} MB | {warm} MB | "
                         f"{end if end is not None else '—'} MB | "
                         f"{'—' if end is None else f'{end - warm:+.1f} MB'} |")
    return lines


def target_lines(verdicts: list[dict[str, Any]]) -> list[str]:
    lines = ["| target | measured | |", "|---|---|---|"]
    lines += [f"| {v['target']} | {v['measured']} | {'PASS' if v['pass'] else '**FAIL**'} |" for v in verdicts]
    passed = sum(v["pass"] for v in verdicts)
    return lines + ["", f"{passed} of {len(verdicts)} targets pass."]


def profile_lines(profile: dict[str, Any], tops: bool = True) -> list[str]:
    lines = [(f"cProfile over {profile['requests']} requests of `{profile['path']}` through the Flask test client "
              f"against the same dynalite table: {profile['unprofiled_ms_per_request']:.1f} ms a request unprofiled, "
              f"{profile['profiled_ms_per_request']:.1f} ms profiled. cProfile slows code that makes many small calls "
              "(rendering, parsing) more than waiting on a socket: read the shares as a guide, not as milliseconds."),
             "", "| where | ms a request (profiled) | share of the request |", "|---|---:|---:|"]
    for part in profile["breakdown"]:
        share = f"{part['share'] * 100:.0f} %" if part["share"] is not None else "—"
        lines.append(f"| {part['what'].replace('  of which', '… of which')} | {part['ms']:.2f} | {share} |")
    if not tops:
        return lines
    for title, rows in (("Top functions by own time", profile["top_own_time"]),
                        ("Top functions by cumulative time", profile["top_cumulative"])):
        lines += ["", f"{title} (per request, profiled):", "",
                  "| function | calls | own ms | cumulative ms |", "|---|---:|---:|---:|"]
        lines += [f"| `{row['function']}` | {row['calls_per_request']:g} | {row['own_ms']:.3f} | "
                  f"{row['cumulative_ms']:.3f} |" for row in rows]
    return lines
