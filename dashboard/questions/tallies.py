"""What a breakdown counts in the events it read, pure: values per field, sizes in power-of-two buckets, processing lag.

A Tally adds up: one per second is kept (and cached, for settled seconds), the window's is their sum.
Percentiles are nearest-rank over the lags themselves (no histogram, no estimate): p99 of 146 lags is the
145th smallest.
"""
from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from dashboard.formats import present, times

SIZE = "size"
# Power-of-two buckets for `size`: (lowest, label, the query box's term for "only this"; "-" before it is "all but
# this", which keeps the events without a size or with one that is not a number).
SIZE_BUCKETS = (
    (0, "< 1 KiB", "size:[0 TO 1KiB}"),
    (2 ** 10, "1 KiB – 64 KiB", "size:[1KiB TO 64KiB}"),
    (2 ** 16, "64 KiB – 1 MiB", "size:[64KiB TO 1MiB}"),
    (2 ** 20, "1 MiB – 16 MiB", "size:[1MiB TO 16MiB}"),
    (2 ** 24, "16 MiB – 1 GiB", "size:[16MiB TO 1GiB}"),
    (2 ** 30, "≥ 1 GiB", "size>=1GiB"),
)
NOT_A_NUMBER = "not a number"
SLOWEST = 5


class Slow(NamedTuple):
    lag: float
    event_id: str
    timestamp: str


def size_bucket(value: Any) -> str | None:
    """The label of the bucket a stored size falls in; None when absent, NOT_A_NUMBER when not a Number."""
    if value is None:
        return None
    if not isinstance(value, Decimal) or value < 0:
        return NOT_A_NUMBER
    label = SIZE_BUCKETS[0][1]
    for lowest, name, _ in SIZE_BUCKETS:
        if value >= lowest:
            label = name
    return label


def bucket_terms(label: str) -> str | None:
    """The term that asks for one size bucket (its "only this"; with "-" before it, "all but this")."""
    return next((terms for _, name, terms in SIZE_BUCKETS if name == label), None)


def value_key(name: str, value: Any) -> Any:
    """What a value is counted as: itself when a String, Number or bool (None when absent), else its JSON text."""
    if name == SIZE:
        return size_bucket(value)
    if value is None or isinstance(value, (str, Decimal, bool)):
        return value
    return present.dumps(value)


@dataclass
class Tally:
    counted: int = 0
    values: dict[str, Counter[Any]] = field(default_factory=dict)
    lags: list[float] = field(default_factory=list)
    without_processed_at: int = 0
    slowest: list[Slow] = field(default_factory=list)

    def add(self, other: Tally) -> Tally:
        """This tally plus another, as a new one (a cached second's tally is never changed)."""
        values = {name: Counter(counts) for name, counts in self.values.items()}
        for name, counts in other.values.items():
            values.setdefault(name, Counter()).update(counts)
        return Tally(self.counted + other.counted, values, self.lags + other.lags,
                     self.without_processed_at + other.without_processed_at,
                     heapq.nlargest(SLOWEST, self.slowest + other.slowest))


def tally(events: Iterable[dict[str, Any]], fields: tuple[str, ...]) -> Tally:
    made = Tally(values={name: Counter() for name in fields})
    for event in events:
        made.counted += 1
        for name in fields:
            made.values[name][value_key(name, event.get(name))] += 1
        lag = times.lag_seconds(event.get("timestamp"), event.get("processed_at"))
        if lag is None:
            made.without_processed_at += 1
        else:
            made.lags.append(lag)
            made.slowest.append(Slow(lag, str(event.get("event_id")), str(event.get("timestamp"))))
    made.slowest = heapq.nlargest(SLOWEST, made.slowest)
    return made


def total(tallies: Iterable[Tally], fields: tuple[str, ...]) -> Tally:
    """The sum of many tallies, added into one new tally (not a new one for each, as `Tally.add` would make: a
    window of thousands of seconds copied its growing counters thousands of times)."""
    summed = Tally(values={name: Counter() for name in fields})
    slowest: list[Slow] = []
    for each in tallies:
        summed.counted += each.counted
        for name, counts in each.values.items():
            summed.values.setdefault(name, Counter()).update(counts)
        summed.lags.extend(each.lags)
        summed.without_processed_at += each.without_processed_at
        slowest = heapq.nlargest(SLOWEST, slowest + each.slowest) if each.slowest else slowest
    summed.slowest = slowest
    return summed


def percentile(ordered: list[float], share: float) -> float | None:
    """Nearest rank: the smallest lag at or above `share` of them (ordered ascending); None without lags."""
    if not ordered:
        return None
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


@dataclass(frozen=True)
class Lag:
    p50: float | None
    p95: float | None
    p99: float | None
    max: float | None
    counted: int
    without_processed_at: int
    slowest: list[Slow]


def lag_of(made: Tally) -> Lag:
    ordered = sorted(made.lags)
    return Lag(percentile(ordered, 0.5), percentile(ordered, 0.95), percentile(ordered, 0.99),
               ordered[-1] if ordered else None, len(ordered), made.without_processed_at, made.slowest)


@dataclass(frozen=True)
class Value:
    value: Any  # None: the attribute is absent
    count: int


@dataclass(frozen=True)
class FieldValues:
    name: str
    values: list[Value]  # the top values, most frequent first (ties by their text)
    other: int  # events with any value beyond the top ones
    distinct: int


def top_values(made: Tally, name: str, top: int) -> FieldValues:
    counts = made.values.get(name, Counter())
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], str(pair[0])))
    shown = [Value(value, count) for value, count in ranked[:top]]
    return FieldValues(name, shown, sum(count for _, count in ranked[top:]), len(counts))
