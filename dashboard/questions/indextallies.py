"""A breakdown's window through the time index: its events read per bucket and shard (store/index_counts.py) and
tallied per bar of the count timeline as each answer comes, so that no event is held (the lag bars are these tallies,
the window's tally their sum).
"""
from __future__ import annotations

from dashboard.store import Filters, IndexRangeReader, ReadBudget, Span, WindowItems, index_counts

from . import tallies
from .tallies import Tally
from .timeline import Bucket


def read(reader: IndexRangeReader, span: Span, names: tuple[str, ...], fields: tuple[str, ...],
         filters: Filters | None, budget: ReadBudget,
         bucket: Bucket) -> tuple[WindowItems, Tally, list[str], list[Tally]]:
    """(what was read, the tally of every event read, each bar's first second in the window, each bar's tally), bars
    holding events, in time order. Incomplete, the events read are those of the window's first bars in reading order."""
    folding = index_counts.Folding(bucket.seconds, lambda events: tallies.tally(events, fields), Tally.add, names)
    made, bars = index_counts.window(reader, span, folding, filters, budget)
    per_bar: list[Tally] = list(bars.values())
    return made, tallies.total(per_bar, fields), list(bars), per_bar
