"""A range page through the optional time-sorted index (plan=index), where the table has it and it can serve.

Preferred over fan-out and the Scan whenever it serves: a page costs one Query per shard of each bucket it
reads. It needs canonical timestamps (its sort key is the stored string), as fan-out does; events not yet
backfilled are not in it (by DynamoDB's ItemCounts or the backfill sample, store/backfillsample.py), which the page
says, with the plans that still read them.
"""
from __future__ import annotations

from dashboard.formats import times
from dashboard.settings.time_index import TimeIndexConfig
from dashboard.store import EventPage, Filters, IndexState, Keyset, ReadBudget, Span, Table
from dashboard.store.time_index import buckets

from . import plans


def index_state(table: Table, requested: str | None, fanout_allowed: bool) -> tuple[IndexState | None, str | None]:
    """(the index to read this range with, or None; why plan=index cannot be used, when it was asked for)."""
    if requested not in (None, plans.INDEX):
        return None, None
    state = table.time_index(sampled=fanout_allowed)  # the backfill sample is of no use where the index is not
    if state.reader is None:
        return None, (f"plan=index cannot be used: {state.problem}" if requested == plans.INDEX else None)
    if not fanout_allowed:
        why = ("plan=index cannot be used on this table: stored timestamps are not all canonical whole seconds "
               "(the index sorts them as text); use plan=scan")
        return None, why if requested == plans.INDEX else None
    return state, None


def for_page(table: Table, requested: str | None,
             fanout_allowed: bool) -> tuple[IndexState | None, str | None, str | None]:
    """As `index_state`, for a range page, and when the index serves but is not used, why not: a writer that does
    not add time_bucket yet (the freshness check found some of its newest events within the last minute) leaves
    the newest events, which a page shows first, out of the index. Asked for by plan=index, it is still read."""
    state, refusal = index_state(table, requested, fanout_allowed)
    if state is None or state.reader is None or requested == plans.INDEX or not state.unkeyed_lately:
        return state, refusal, None
    return None, None, f"the time index {state.reader.config.name} is not used: {_unkeyed(state)}"


def _reach(state: IndexState, span: Span) -> tuple[TimeIndexConfig, int, int]:
    """The index's settings, how many of its buckets a span touches, and the Queries that takes (one per shard)."""
    assert state.reader is not None
    config = state.reader.config
    touched = len(buckets(times.parse(span.start), times.parse(span.end), config))
    return config, touched, config.shards * touched


def read_page(state: IndexState, span: Span, limit: int, after: Keyset | None, filters: Filters,
              budget: ReadBudget) -> tuple[EventPage, plans.Choice]:
    config, touched, calls = _reach(state, span)
    reason = (f"the time index {config.name}: a Query per shard ({config.shards}) of each {config.bucket} bucket "
              f"read, at most {touched} buckets")
    if state.counted_short:
        reason += (f"; it holds about {state.index_items:,} of the table's {state.table_items:,} events (DynamoDB's "
                   "approximate counts): events without time_bucket are read by plan=fanout or plan=scan")
    elif state.incomplete:
        reason += (f"; it is not complete: {_found(state)}: events without time_bucket are read by plan=fanout or "
                   "plan=scan")
    estimate = plans.Estimate(plans.INDEX, calls * plans.RCU_PER_STEP, calls)
    assert state.reader is not None
    page = state.reader.page(span, limit, after, filters, budget)
    return page, plans.Choice(plans.INDEX, reason, estimate, None)


def for_whole_range(table: Table, requested: str | None,
                    fanout_allowed: bool) -> tuple[IndexState | None, str | None, str | None]:
    """The index to read a whole range with (its timeline and total, top values, a file), or None; why plan=index
    cannot be used, when it was asked for; and, when the index serves but is not used, why not.

    These answers are of every event of the range: while the index holds fewer events than the table (DynamoDB's
    approximate counts: items not yet backfilled) or the backfill sample found an event without time_bucket, they
    are read by the old plans, plan=index or not, and say so.
    """
    state, refusal = index_state(table, requested, fanout_allowed)
    if state is None or not state.incomplete:
        return state, refusal, None
    name = state.reader.config.name if state.reader else ""
    if not state.counted_short:
        return None, None, (f"the time index {name} is not complete: {_found(state)}: read without it, so that none "
                            "is missed")
    return None, None, (f"the time index {name} holds about "
                        f"{state.index_items:,} of the table's {state.table_items:,} events (DynamoDB's approximate "
                        "counts; the rest not yet backfilled): read without it, so that none is missed")


def _found(state: IndexState) -> str:
    """What the backfill sample (store/backfillsample.py) and the freshness check found, where it is why the index
    is not complete (with the ItemCounts not short, one of them found an event without time_bucket)."""
    found = []
    if state.sampled_unbackfilled:
        found.append(f"a sample of {state.sampled or 0:,} events found {state.sampled_unbackfilled or 0:,} without "
                     "time_bucket (not yet backfilled)")
    if state.unkeyed_lately:
        found.append(_unkeyed(state))
    return "; ".join(found)


def _unkeyed(state: IndexState) -> str:
    count = state.unkeyed_lately or 0
    return (f"the freshness check found {count:,} event{'' if count == 1 else 's'} of the last seconds without "
            "time_bucket (a writer does not add it yet)")


def whole_range_choice(state: IndexState, span: Span) -> plans.Choice:
    """What reading a whole range through the index costs at least: a Query per shard of each bucket."""
    config, touched, calls = _reach(state, span)
    reason = (f"the time index {config.name}: a Query per shard ({config.shards}) of each of the {touched} "
              f"{config.bucket} buckets, reading only what is counted, a megabyte a call")
    return plans.Choice(plans.INDEX, reason, plans.Estimate(plans.INDEX, calls * plans.RCU_PER_STEP, calls), None)
