"""Worker memory through a load run: each worker's RSS and threads from /proc, and whether it stays flat.

Flat, as `make load` judges it, for every worker, after a warm-up that has asked every page under every
fault once: the RSS grows by less than FLAT_GROWTH_MB from the end of the warm-up to the end of the run,
and by less than FLAT_LAST_CYCLE_MB over the last fault cycle (no upward trend at the end). The slope
(least squares, MB a minute and MB per 1,000 requests the worker's process served) is reported beside it.
Python's own allocations are found with tracemalloc (LOAD_TRACEMALLOC=1, bench/traced_gunicorn.py), whose
snapshots `snapshot_diff` compares.
"""
from __future__ import annotations

import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .serving import children, rss_mb

FLAT_GROWTH_MB = 2.0
FLAT_LAST_CYCLE_MB = 0.5


def threads(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


@dataclass
class Reading:
    """Every worker at one moment of the run."""

    seconds: float  # since the run started
    requests: int  # answered (or given up on) so far, by both workers
    rss_mb: dict[int, float]
    threads: dict[int, int]
    cycle: int  # the fault cycle it was taken in; 0 is the warm-up


def read_workers(master: int, started: float, requests: int, cycle: int) -> Reading:
    rss, counts = {}, {}
    for worker in children(master):
        megabytes, count = rss_mb(worker), threads(worker)
        if megabytes is not None and count is not None:
            rss[worker], counts[worker] = round(megabytes, 2), count
    return Reading(round(time.monotonic() - started, 1), requests, rss, counts, cycle)


def slope(xs: list[float], ys: list[float]) -> float:
    """The least-squares slope of ys over xs (0 when xs do not vary)."""
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread if spread else 0.0


def verdict(readings: list[Reading]) -> dict[str, Any]:
    """Growth after the warm-up, slope and last-cycle rise of each worker, and whether memory stayed flat."""
    measured = [reading for reading in readings if reading.cycle > 0]
    last_cycle = max((reading.cycle for reading in measured), default=0)
    workers: dict[str, Any] = {}
    for pid in sorted(measured[0].rss_mb if measured else {}):
        mine = [reading for reading in measured if pid in reading.rss_mb]
        if len(mine) < 2:
            continue
        rss = [reading.rss_mb[pid] for reading in mine]
        # A reading is labelled with the cycle starting as it is taken: the first of the last cycle is where it began.
        last_began = next(reading for reading in mine if reading.cycle == last_cycle).rss_mb[pid]
        growth, last_rise = rss[-1] - rss[0], rss[-1] - last_began
        workers[str(pid)] = {
            "warm_mb": rss[0], "end_mb": rss[-1], "peak_mb": max(rss),
            "growth_mb": round(growth, 2), "last_cycle_mb": round(last_rise, 2),
            "mb_per_minute": round(60 * slope([reading.seconds for reading in mine], rss), 3),
            "mb_per_1000_requests": round(1000 * slope([float(reading.requests) for reading in mine], rss), 3),
            "threads_warm": mine[0].threads[pid], "threads_end": mine[-1].threads[pid],
            "flat": growth < FLAT_GROWTH_MB and last_rise < FLAT_LAST_CYCLE_MB,
        }
    return {"flat_growth_mb": FLAT_GROWTH_MB, "flat_last_cycle_mb": FLAT_LAST_CYCLE_MB,
            "flat": bool(workers) and all(worker["flat"] for worker in workers.values()), "workers": workers}


def snapshot_diff(before: Path, after: Path, top: int = 25) -> list[str]:
    """What grew in the traced Python heap between two snapshots: by line, then the largest by traceback."""
    ignored = [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen importlib*")]
    first = tracemalloc.Snapshot.load(str(before)).filter_traces(ignored)
    second = tracemalloc.Snapshot.load(str(after)).filter_traces(ignored)
    total = [sum(stat.size for stat in snapshot.statistics("filename")) / 2**20 for snapshot in (first, second)]
    lines = [f"traced Python heap: {total[0]:.2f} MB -> {total[1]:.2f} MB ({total[1] - total[0]:+.2f} MB)", "",
             "by line:"]
    lines += [f"  {stat}" for stat in second.compare_to(first, "lineno")[:top]]
    lines += ["", "by traceback (largest growth first):"]
    for stat in [stat for stat in second.compare_to(first, "traceback") if stat.size_diff > 0][:5]:
        lines.append(f"  {stat.size_diff / 1024:+.1f} KiB in {stat.count_diff:+d} blocks:")
        lines += [f"      {line}" for line in stat.traceback.format(limit=8)]
    return lines
