"""Worker memory through a load run: each worker's RSS and threads from /proc, and whether it stays flat.

What grows in a worker that does not leak: glibc keeps a cache of freed small chunks per thread (its tcache,
up to 7 a size class in each of a worker's 42 threads), each heap keeps its high-water mark, and Python's
object arenas are not given back while any object in them lives. These fill as the traffic varies and slow
down: in two nine-cycle runs of `make load` they added up to 1.1 MB a worker a fault cycle through the sixth
(about 3,000 requests a worker) and 0.04 to 0.4 MB a cycle in the seventh to ninth, while the Python heap
(object count, pymalloc's bytes in use; sampled in one of them) did not grow. A leak keeps growing by the
same amount every cycle.

So the warm-up is WARM_UP_CYCLES fault cycles (every page under every fault, then again until those caches
are mostly full; LOAD_WARMUP_CYCLES changes it), and memory is *flat*, for every worker, when from the end
of the warm-up to the end of the run its RSS grows by less than FLAT_GROWTH_MB and over the last cycle by
less than FLAT_LAST_CYCLE_MB: the curve has levelled off. A leak of 1 KB a request (about 500 requests a
worker a cycle at 50 clients) rises 0.5 MB a cycle and fails. The rise of every cycle, warm-up included, is
reported so that the plateau can be seen, with the slope (least squares over the measured cycles, MB a
minute and MB per 1,000 requests served by both workers). Python's own allocations are found with
tracemalloc (LOAD_TRACEMALLOC=1, bench/traced_gunicorn.py), whose snapshots `snapshot_diff` compares.
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
WARM_UP_CYCLES = 6


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
    cycle: int  # the fault cycle starting as it was taken (the last reading: the last cycle); the first are warm-up


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


def cycle_rises(readings: list[Reading], pid: int) -> list[float]:
    """How much the worker's RSS rose over each cycle: from the reading that began it to the one that began the next
    (the last reading ends the last cycle)."""
    mine = [reading for reading in readings if pid in reading.rss_mb]
    began: dict[int, float] = {}
    for reading in mine:
        began.setdefault(reading.cycle, reading.rss_mb[pid])
    starts = [began[cycle] for cycle in sorted(began)]
    ends = starts[1:] + [mine[-1].rss_mb[pid]] if mine else []
    return [round(end - start, 2) for start, end in zip(starts, ends, strict=True)]


def verdict(readings: list[Reading], warm_up_cycles: int = WARM_UP_CYCLES) -> dict[str, Any]:
    """Growth after the warm-up, slope and last-cycle rise of each worker, and whether memory stayed flat."""
    measured = [reading for reading in readings if reading.cycle >= warm_up_cycles]
    workers: dict[str, Any] = {}
    for pid in sorted(measured[0].rss_mb if measured else {}):
        mine = [reading for reading in measured if pid in reading.rss_mb]
        if len(mine) < 2:
            continue
        rss = [reading.rss_mb[pid] for reading in mine]
        rises = cycle_rises(readings, pid)
        growth, last_rise = rss[-1] - rss[0], rises[-1]
        workers[str(pid)] = {
            "warm_mb": rss[0], "end_mb": rss[-1], "peak_mb": max(rss),
            "growth_mb": round(growth, 2), "last_cycle_mb": round(last_rise, 2),
            "rise_per_cycle_mb": rises,  # warm-up cycles first
            "mb_per_minute": round(60 * slope([reading.seconds for reading in mine], rss), 3),
            "mb_per_1000_requests": round(1000 * slope([float(reading.requests) for reading in mine], rss), 3),
            "threads_warm": mine[0].threads[pid], "threads_end": mine[-1].threads[pid],
            "flat": growth < FLAT_GROWTH_MB and last_rise < FLAT_LAST_CYCLE_MB,
        }
    return {"flat_growth_mb": FLAT_GROWTH_MB, "flat_last_cycle_mb": FLAT_LAST_CYCLE_MB,
            "warm_up_cycles": warm_up_cycles,
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
