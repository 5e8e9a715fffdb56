"""Which way to read a time range costs less: one Query per second (fan-out) or a Scan of the table (pure)."""
from __future__ import annotations

import math
from dataclasses import dataclass

FANOUT = "fanout"
SCAN = "scan"
PLANS = (FANOUT, SCAN)
# An eventually consistent read is billed 0.5 RCU per 4 KB read, and never less than one step,
# even for a Query that finds nothing.
RCU_PER_STEP = 0.5
STEP_BYTES = 4096
# One Scan answer stops at 1 MB read.
CALL_BYTES = 1024 * 1024
# DescribeTable's TableSizeBytes lags (about six hours) and is 0 on some stand-ins: an item
# counts at least this much, the project's events being a few hundred bytes each.
MIN_ITEM_BYTES = 400


@dataclass(frozen=True)
class Estimate:
    plan: str
    rcu: float
    calls: int


@dataclass(frozen=True)
class Choice:
    plan: str
    reason: str
    fanout: Estimate
    scan: Estimate | None  # None when the table's size is not known


def fanout_estimate(seconds: int) -> Estimate:
    """Every second of the range is one Query, each at least one minimum read."""
    return Estimate(FANOUT, seconds * RCU_PER_STEP, seconds)


def scan_estimate(item_count: int, size_bytes: int | None) -> Estimate:
    """A Scan reads the whole table, whatever it keeps, in 4 KB steps and 1 MB calls."""
    size = max(size_bytes or 0, item_count * MIN_ITEM_BYTES)
    return Estimate(SCAN, max(1, math.ceil(size / STEP_BYTES)) * RCU_PER_STEP, max(1, math.ceil(size / CALL_BYTES)))


def choose(seconds: int, item_count: int | None, size_bytes: int | None, fanout_allowed: bool,
           requested: str | None = None) -> Choice:
    """The plan for a range: the one asked for, else the cheaper in RCUs (fan-out only where it is exact).

    A `requested` fan-out that is not allowed is the caller's to refuse: it is returned as chosen.
    """
    fanout = fanout_estimate(seconds)
    scan = scan_estimate(item_count, size_bytes) if item_count is not None else None
    if requested in PLANS:
        return Choice(requested, "asked for with plan=", fanout, scan)
    if not fanout_allowed:
        return Choice(SCAN, "stored timestamps are not all canonical whole seconds", fanout, scan)
    if scan is None:
        return Choice(FANOUT, "the table's size is unknown", fanout, scan)
    if item_count == 0:
        # DescribeTable's ItemCount is refreshed about every six hours: a table filled since says 0 items, and
        # taking that at its word would Scan the whole table for every page of a one-minute range.
        return Choice(FANOUT, "DescribeTable reports 0 items (refreshed about every six hours): size taken as unknown",
                      fanout, scan)
    if scan.rcu < fanout.rcu:
        return Choice(SCAN, "a Scan of the whole table reads less than a Query per second", fanout, scan)
    return Choice(FANOUT, "a Query per second reads less than a Scan of the whole table", fanout, scan)
