"""Which way to read a time range costs less: one Query per second (fan-out) or a Scan of the table (pure).

`choose` prices a whole range (what counting it reads); `choose_page` prices the page being read: the
seconds of Queries it needs where the table holds events this densely, against one Scan pass, each
timed at the pace this backend's calls have been taking (store/pace.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

FANOUT = "fanout"
SCAN = "scan"
PLANS = (FANOUT, SCAN)
# Through the optional time-sorted index (questions/indexreads.py): chosen before both where it serves.
INDEX = "index"
# An eventually consistent read is billed 0.5 RCU per 4 KB read, and never less than one step,
# even for a Query that finds nothing.
RCU_PER_STEP = 0.5
STEP_BYTES = 4096
# One Scan answer stops at 1 MB read.
CALL_BYTES = 1024 * 1024
# DescribeTable's TableSizeBytes lags (about six hours) and is 0 on some stand-ins: an item
# counts at least this much, the project's events being a few hundred bytes each.
MIN_ITEM_BYTES = 400
# A Scan pass of a range page asks DynamoDB for a window of the range expected to hold this many pages' events:
# more costs no more reads (the pass reads the whole table anyway), only transfer; fewer would end pages short.
WINDOW_PAGES = 2


@dataclass(frozen=True)
class Estimate:
    plan: str
    rcu: float
    calls: int
    seconds: float | None = None  # wall time at this backend's pace; None when not known


@dataclass(frozen=True)
class Choice:
    plan: str
    reason: str
    fanout: Estimate
    scan: Estimate | None  # None when the table's size is not known
    window_seconds: int | None = None  # a Scan pass of a page: the seconds of the range it asks for
    fits: bool = True  # the plan is expected to fill the page within the read budget (else it reads what it allows)


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


def expected_events(seconds: list[str], sample_size: int, whole_table: bool, item_count: int | None,
                    low: str, high: str) -> float | None:
    """Events expected from `low` to `high` (stored seconds, inclusive), from the sampled events' `seconds` (those
    that match the filters): exact when the sample is the whole table; None when the table's size is unknown."""
    inside = sum(1 for second in seconds if low <= second <= high)
    if whole_table:
        return float(inside)
    if not item_count or not sample_size:
        return None
    return item_count * inside / sample_size


def fanout_page_estimate(seconds_left: int, limit: int, expected: float | None,
                         query_seconds: float | None) -> Estimate:
    """The seconds of Queries that fill a page (limit + 1 events, to know whether another page follows)."""
    needed = seconds_left
    if expected:
        needed = min(seconds_left, max(1, math.ceil((limit + 1) * seconds_left / expected)))
    return Estimate(FANOUT, needed * RCU_PER_STEP, needed, None if query_seconds is None else needed * query_seconds)


def window_seconds(seconds_left: int, limit: int, expected: float | None) -> int:
    """The seconds a Scan pass asks for: room for WINDOW_PAGES pages as dense as expected, else all that is left."""
    if not expected:
        return seconds_left
    return min(seconds_left, max(1, math.ceil(seconds_left * WINDOW_PAGES * (limit + 1) / expected)))


def choose_page(seconds_left: int, limit: int, expected: float | None, item_count: int | None,
                size_bytes: int | None, fanout_allowed: bool, requested: str | None, query_seconds: float | None,
                scan_call_seconds: float | None, budget_seconds: float, budget_rcu: float,
                deadline_seconds: float | None) -> Choice:
    """The plan for the page being read: the cheaper in RCUs of those that fill it within the read budget.

    A Query per second stops at the budget (its page shows what it found, and Continue); a Scan pass cannot
    stop before it has read the whole table, so it is chosen only when its time fits the budget's seconds
    and the deadline (its RCUs are what the whole table costs, as they always were for this plan). When
    neither fills the page in time, the Queries read what the budget allows.
    """
    fanout = fanout_page_estimate(seconds_left, limit, expected, query_seconds)
    scan = None
    if item_count is not None:
        whole = scan_estimate(item_count, size_bytes)
        scan = Estimate(SCAN, whole.rcu, whole.calls,
                        None if scan_call_seconds is None else whole.calls * scan_call_seconds)
    window = window_seconds(seconds_left, limit, expected)

    def chosen(plan: str, reason: str, fits: bool = True) -> Choice:
        return Choice(plan, reason, fanout, scan, window if plan == SCAN else None, fits)

    if requested in PLANS:
        return chosen(requested or FANOUT, "asked for with plan=")
    if not fanout_allowed:
        return chosen(SCAN, "stored timestamps are not all canonical whole seconds")
    if scan is None:
        return chosen(FANOUT, "the table's size is unknown")
    if item_count == 0:
        return chosen(FANOUT, "DescribeTable reports 0 items (refreshed about every six hours): size taken as unknown")
    time_left = budget_seconds if deadline_seconds is None else min(budget_seconds, deadline_seconds)
    queries_fit = fanout.rcu <= budget_rcu and (fanout.seconds is None or fanout.seconds <= budget_seconds)
    scan_fits = scan.seconds is not None and scan.seconds <= time_left
    queries = f"the ~{fanout.calls:,} Queries this page needs"
    if queries_fit and (not scan_fits or fanout.rcu <= scan.rcu):
        return chosen(FANOUT, f"{queries} read less than a Scan of the whole table" if scan_fits
                      else f"{queries} fit the read budget; a Scan of the whole table would not")
    if scan_fits:
        return chosen(SCAN, f"a Scan of the whole table reads less than {queries}" if queries_fit
                      else f"a Scan of the whole table fits the read budget; {queries} would not")
    return chosen(FANOUT, f"neither {queries} nor a Scan of the whole table fit the read budget: the Queries "
                          "read what it allows, and Continue reads on", fits=False)
