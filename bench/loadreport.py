"""`make load` written up: latency percentiles, and the load section of bench/RESULTS.md that `make bench` keeps."""
from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

HEADING = "## Load and faults (`make load`)"


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000, 1)

    return {"n": len(ordered), "p50_ms": at(0.5), "p95_ms": at(0.95), "p99_ms": at(0.99),
            "max_ms": round(ordered[-1] * 1000, 1), "mean_ms": round(statistics.fmean(ordered) * 1000, 1)}


def markdown(result: dict[str, Any]) -> list[str]:
    """The load section: what ran, the errors, latency per fault, and each worker's memory after the warm-up."""
    cycles, memory = result["cycles"], result["memory"]
    lines = [HEADING, "",
             (f"{result['clients']} clients (a pause of 0–{2 * result['think_seconds']:g} s between requests) against "
              f"gunicorn, 2 workers × 16 threads, with HTTP Basic sign-in. The fault proxy cycles through every fault "
              f"with a healthy spell before each ({cycles['seconds_each']:g} s a cycle): {cycles['warm_up']} "
              f"cycle{'' if cycles['warm_up'] == 1 else 's'} of warm-up, then {cycles['measured']} measured. "
              f"Load average {result['load_average']['start']} at the start, "
              f"{result['load_average']['end']} at the end: other work shares this 2-core machine, so the latencies "
              "carry its noise."), "",
             (f"**{result['requests']:,} requests ({result['requests_in_warm_up']:,} in the warm-up), "
              f"{result['errors']} error{'' if result['errors'] == 1 else 's'}** "
              f"({result['errors_in_warm_up']} in the warm-up)"
              + (": " + ", ".join(f"{kind} × {count}" for kind, count in result["errors_by_kind"].items())
                 if result["errors"] else "")
              + f"; {result['recovering_503s']} answers were 503 while the breaker waited to ask again."), ""]
    if result["warm_up_missed"]:
        lines += [f"Not met in the warm-up: {', '.join(result['warm_up_missed'])}.", ""]
    lines += ["| fault in force | requests | p50 ms | p95 ms | p99 ms | max ms |", "|---|---:|---:|---:|---:|---:|"]
    for fault, figures in result["latency_by_fault"].items():
        lines.append(f"| {fault} | {figures['n']} | {figures['p50_ms']} | {figures['p95_ms']} | {figures['p99_ms']} | "
                     f"{figures['max_ms']} |")
    lines += ["", (f"Memory is *flat* when every worker's RSS grows by less than {memory['flat_growth_mb']:g} MB from "
                   f"the end of the warm-up to the end of the run and by less than {memory['flat_last_cycle_mb']:g} MB "
                   "over the last cycle, once the warm-up has filled the allocator's caches (bench/memory.py); the "
                   "slope is the least-squares fit over the measured cycles, against time and against requests served. "
                   f"Memory: **{'flat' if memory['flat'] else 'NOT flat'}**."), "",
              "| worker | after warm-up | end | growth | last cycle | MB/min | MB per 1,000 requests | threads "
              "| rise a cycle, MB (warm-up / measured) |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for pid, worker in memory["workers"].items():
        lines.append(f"| {pid} | {worker['warm_mb']:.1f} MB | {worker['end_mb']:.1f} MB | "
                     f"{worker['growth_mb']:+.2f} MB | {worker['last_cycle_mb']:+.2f} MB | "
                     f"{worker['mb_per_minute']:+.3f} | "
                     f"{worker['mb_per_1000_requests']:+.3f} | {worker['threads_warm']} → {worker['threads_end']} | "
                     f"{_rises(worker['rise_per_cycle_mb'], memory['warm_up_cycles'])} |")
    return lines


def _rises(rises: list[float], warm_up: int) -> str:
    def mb(values: list[float]) -> str:
        return " ".join(f"{value:+.2f}" for value in values)

    return f"{mb(rises[:warm_up])} / {mb(rises[warm_up:])}"


def section(text: str, heading: str = HEADING) -> str:
    """The section of a RESULTS.md under `heading` (the load section unless told), from its heading to the next
    `## ` one (empty when there is none)."""
    start = text.find("\n" + heading + "\n")
    if start < 0:
        return ""
    end = text.find("\n## ", start + len(heading) + 2)
    return text[start + 1:end + 1 if end >= 0 else len(text)].rstrip("\n") + "\n"


def write_section(path: Path, lines: list[str], heading: str = HEADING) -> None:
    """Put a section (`lines`, starting with `heading`) in RESULTS.md, in place of the one before it or at the end.
    `make load` writes the load section, `make scale` the scale section; `make bench` keeps both."""
    text = path.read_text() if path.exists() else ""
    old, new = section(text, heading), "\n".join(lines) + "\n"
    path.write_text(text.replace(old, new) if old else text.rstrip("\n") + "\n\n" + new)
