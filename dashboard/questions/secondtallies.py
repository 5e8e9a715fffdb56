"""A breakdown's window second by second, without the time index: each second's tally, settled ones cached.

By fan-out (a Query a second) the seconds are walked lazily, as the reads go, and counted from the first up to the
first gap; by a parallel Scan, the seconds that hold events. Neither holds every second of the window at once: a
week is 604,800 of them, which a worker once built as a list and a dict on every request (about 100 MB).
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dashboard.store import Filters, ReadBudget, Span, Table, WindowItems
from dashboard.store.ranges import seconds_to_read

from . import tallies
from .tallies import Tally
from .timeline import epoch

Found = tuple[WindowItems, list[str], list[Tally], int]  # what was read, the seconds counted, their tallies, cached
# What the cache holds for a second without events: most seconds of a quiet table, each an empty tally of its own
# (about 0.9 KB) before.
EMPTY = ("no event",)


def _kept(made: Tally) -> object:
    return made if made.counted else EMPTY


def _found(kept: object, empty: Tally) -> Tally | None:
    """A cached second's tally: `empty` (never changed, as no tally is: adding makes a new one) for EMPTY."""
    return empty if kept is EMPTY else kept  # type: ignore[return-value]


def by_fanout(table: Table, span: Span, filters: Filters, names: tuple[str, ...], fields: tuple[str, ...],
              budget: ReadBudget, scope: str) -> Found:
    """The seconds counted from the window's first in reading order, cached or read, up to the first gap."""
    cache, empty = table.windows.cache, tallies.tally([], fields)
    walked: list[tuple[str, Any]] = []

    def not_cached() -> Iterator[str]:
        for second in seconds_to_read(span, None):
            walked.append((second, _found(cache.get((scope, filters, second)), empty)))
            if walked[-1][1] is None:
                yield second

    read = table.windows.by_seconds(not_cached(), names, filters, budget)
    per_second = {second: tallies.tally(events, fields) for second, events in read.per_second.items()}
    every: list[str] = []
    counted: list[Tally] = []
    for second, known in walked:
        found = known if known is not None else per_second.get(second)
        if found is None:
            break
        every.append(second)
        counted.append(found)
    for second, made in per_second.items():
        cache.put((scope, filters, second), _kept(made))
    return read, every, counted, sum(known is not None for _, known in walked[:len(counted)])


def by_scan(table: Table, span: Span, filters: Filters, names: tuple[str, ...], fields: tuple[str, ...],
            budget: ReadBudget, allowed: bool, scope: str) -> Found:
    """The seconds that hold events, by a parallel Scan (or all from the cache). Settled seconds' tallies are cached
    where the window fits the cache; a longer one is neither looked up nor kept second by second."""
    cache, empty = table.windows.cache, tallies.tally([], fields)
    fits = epoch(span.end) - epoch(span.start) + 1 <= cache.size
    every: list[str] = []
    if fits:
        every = list(seconds_to_read(span, None))
        known: list[Any] = []
        for second in every:
            known.append(_found(cache.get((scope, filters, second)), empty))
            if known[-1] is None:
                break
        if len(known) == len(every) and known[-1] is not None:
            return WindowItems({}, [], True, None, 0, None, 0, "scan"), every, known, len(every)
    read = table.windows.by_scan(span, names, filters, budget, allowed)
    per_second = {second: tallies.tally(events, fields) for second, events in read.per_second.items()
                  if span.start <= second <= span.end}
    if fits and read.complete and allowed:  # only then is every event placed on the second the index holds it at
        for second in every:
            cache.put((scope, filters, second), _kept(per_second.get(second, empty)))
    ordered = sorted(per_second, reverse=span.descending)
    return read, ordered, [per_second[second] for second in ordered], 0
