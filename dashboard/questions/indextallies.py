"""A breakdown's window through the time index: its events read per bucket and shard (store/index_counts.py), then
tallied once for the window and once per bar of the count timeline (the lag bars).

A tally per second, summed second by second, copies every lag each time (quadratic in a busy window); the index
gives the window's events at once, so each is tallied once for the whole and once for its bar.
"""
from __future__ import annotations

from dashboard.store import Filters, IndexRangeReader, ReadBudget, Span, WindowItems, index_counts

from . import tallies
from .tallies import Tally
from .timeline import Bucket, epoch


def read(reader: IndexRangeReader, span: Span, names: tuple[str, ...], fields: tuple[str, ...],
         filters: Filters | None, budget: ReadBudget,
         bucket: Bucket) -> tuple[WindowItems, Tally, list[str], list[Tally]]:
    """(what was read, the tally of every event read, each bar's first second holding events, each such bar's tally),
    bars in time order. Incomplete, the events read are those of the window's first seconds in reading order."""
    made = index_counts.window(reader, span, names, filters, budget)
    seconds = sorted(made.per_second)
    whole = tallies.tally((event for second in seconds for event in made.per_second[second]), fields)
    bars: dict[int, tuple[str, list[dict]]] = {}
    for second in seconds:
        bars.setdefault(epoch(second) // bucket.seconds, (second, []))[1].extend(made.per_second[second])
    ordered = [bars[slot] for slot in sorted(bars)]
    return made, whole, [first for first, _ in ordered], [tallies.tally(events, fields) for _, events in ordered]
