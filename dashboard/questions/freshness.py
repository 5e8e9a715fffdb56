"""Is the pipeline alive: when the newest event arrived, how many arrived in the last 5 minutes, and whether that
is fresh enough for a probe (`max_age`). Read on its own request (GET /freshness, /api/freshness), never a page's.

The reading is the store's one question (`Table.freshness.newest`): a later time-sorted index answers it there.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from dashboard.formats import times
from dashboard.store import Newest, ReadBudget, Table
from dashboard.store.time_index import TIME_BUCKET_ATTRIBUTE

from .listing import BadParameter

RECENT_SECONDS = 300  # "how many arrived in the last 5 minutes"
LOOK_BACK_SECONDS = 3600  # how far back the newest event is looked for: "no event in the last 60 min"
MAX_LOOK_BACK_SECONDS = 86400  # a max_age longer than the look-back widens it, up to a day
DEFAULT_MAX_AGE = "15m"


def parse_max_age(raw: str | None) -> int:
    """`max_age` in relative time's units (30s, 10m, 2h), default 15m; anything else is a 400."""
    text = (raw or "").strip() or DEFAULT_MAX_AGE
    try:
        seconds = times.duration_seconds(text, "max_age")
    except times.TimestampError as error:
        raise BadParameter(str(error)) from None
    if not 1 <= seconds <= MAX_LOOK_BACK_SECONDS:
        raise BadParameter(f"max_age must be from 1s to {MAX_LOOK_BACK_SECONDS // 3600}h, not {raw!r}")
    return seconds


@dataclass(frozen=True)
class Freshness:
    found: Newest
    now: datetime
    max_age_seconds: int
    time_index: str | None = None  # the time index it was read through; None: timestamp-index, second by second
    # Why the configured time index was not used, where it serves: events of the last seconds without its key.
    index_not_used: str | None = None

    @property
    def age_seconds(self) -> int | None:
        if self.found.newest is None:
            return None
        return max(0, int((self.now - times.parse(self.found.newest.timestamp)).total_seconds()))

    @property
    def fresh(self) -> bool:
        age = self.age_seconds
        return age is not None and age <= self.max_age_seconds

    @property
    def age_text(self) -> str:
        """'12 s ago', 'just now' (a second that has not ended yet)."""
        age = self.age_seconds
        return "" if age is None else "just now" if age < 1 else f"{duration(age)} ago"

    @property
    def reason(self) -> str | None:
        """Why it is not fresh, as a finding; None when it is."""
        if self.fresh:
            return None
        found = self.found
        if found.newest is None:
            if found.budget_spent:
                return (f"no event in the last {duration(found.looked_back_seconds)}, as far as the read budget went "
                        "(the rest of the look-back was not read)")
            return f"no event in the last {duration(found.looked_back_seconds)}"
        return (f"the newest event is {duration(self.age_seconds or 0)} old, older than max_age "
                f"{duration(self.max_age_seconds)}")


def duration(seconds: int) -> str:
    """12 s, 5 min, 2 h, 3 d: whole units where they divide, for findings."""
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size} {unit}"
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds} s"


def read(table: Table, now: datetime, budget: ReadBudget, max_age_seconds: int | None = None) -> Freshness:
    """The freshness of one table at `now`: the newest event within the look-back (at least max_age), the last
    5 minutes' count, within the read budget."""
    max_age = max_age_seconds if max_age_seconds is not None else times.duration_seconds(DEFAULT_MAX_AGE)
    look_back = min(max(LOOK_BACK_SECONDS, max_age), MAX_LOOK_BACK_SECONDS)
    index = table.time_index(sampled=False)  # the backfill sample is of the whole table: the last seconds here
    # Through the time index where it serves (docs/time-index.md): a few Queries whatever the look-back, and the last
    # seconds on timestamp-index, for events whose writer does not add time_bucket yet: the index misses them, and
    # the newest events are what this line is for. Where there are any, it is read as without the index.
    if index.reader is None or not table.ranges.fanout_allowed()[0]:
        return Freshness(table.freshness.newest(now, RECENT_SECONDS, look_back, budget), now, max_age)
    through_index = index.reader.newest(now, RECENT_SECONDS, look_back, budget)
    unkeyed = table.freshness.unkeyed(now, TIME_BUCKET_ATTRIBUTE, budget=budget)
    table.note_unkeyed(unkeyed.count)  # range pages read without the index for the next minute where there are any
    checked = replace(through_index, calls=through_index.calls + unkeyed.calls,
                      consumed_rcu=_sum(through_index.consumed_rcu, unkeyed.consumed_rcu))
    if not unkeyed.count:
        return Freshness(checked, now, max_age, index.reader.config.name)
    found = table.freshness.newest(now, RECENT_SECONDS, look_back, budget)
    why = (f"{unkeyed.count:,} event{'' if unkeyed.count == 1 else 's'} of the last {unkeyed.seconds} s "
           f"{'has' if unkeyed.count == 1 else 'have'} no {TIME_BUCKET_ATTRIBUTE} (a writer does not add it yet), so "
           f"the time index {index.reader.config.name} misses them: read on timestamp-index instead")
    return Freshness(replace(found, calls=found.calls + checked.calls,
                             consumed_rcu=_sum(found.consumed_rcu, checked.consumed_rcu)), now, max_age, None, why)


def _sum(first: float | None, second: float | None) -> float | None:
    return None if first is None and second is None else (first or 0.0) + (second or 0.0)


def document(freshness: Freshness) -> dict[str, Any]:
    """/api/freshness: the same figures the line states, and why it is not fresh."""
    found = freshness.found
    answer: dict[str, Any] = {
        "fresh": freshness.fresh,
        "newest": found.newest.timestamp if found.newest else None,
        "newest_event_id": found.newest.event_id if found.newest else None,
        "age_seconds": freshness.age_seconds,
        "max_age_seconds": freshness.max_age_seconds,
        "looked_back_seconds": found.looked_back_seconds,
        "last_5m": found.recent_count,
        "last_5m_complete": found.looked_back_seconds >= found.recent_seconds,
        "calls": found.calls,
        "consumed_capacity": found.consumed_rcu,
        "seconds_from_memory": found.from_memory,
        "budget_spent": found.budget_spent,
        "read_at": found.read_at,
        "time_index": freshness.time_index,
        "time_index_not_used": freshness.index_not_used,
    }
    if not freshness.fresh:
        answer["reason"] = freshness.reason
    return answer
