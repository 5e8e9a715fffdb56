"""The only package that talks to DynamoDB: events, status and (for the CLI) admin, on one set of clients.

Everything it hands out is a plain record; views never see boto3 shapes or exceptions. The web
app imports `Table` and the records and errors from here, never `admin`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from dashboard.settings.config import Settings
from dashboard.settings.time_index import TimeIndexConfig

from . import breaker, deadline
from .backfillsample import BackfillSample
from .clients import Clients, build_clients
from .countcache import CountCache, SecondsCache
from .counts import CountReader, Counts
from .deletes import DeleteReport, DeleteResult, TestEventDeleter
from .errors import (
    RETRY_AFTER_SECONDS,
    AccessDenied,
    BackendUnavailable,
    DeadlineExceeded,
    EventExists,
    EventNotFound,
    Rejected,
    StoreError,
    TableMissing,
    Throttled,
    Unsupported,
    WriteOutcomeUnknown,
)
from .events import EventStore
from .expiry import ExpiryReader, Removal
from .freshness import FreshnessReader, Newest
from .identity import TableIdentity
from .index_ranges import IndexRangeReader, IndexState
from .keypasses import KeyPasses
from .ranges import RangeReader
from .records import TIMESTAMP_INDEX, EventPage, Filters, Keyset, ReadBudget, Span
from .s3_exports import S3Exporter
from .status import StatusReader
from .sweeps import Sweeper
from .table_records import TableStatus
from .time_index import index_coverage, mismatch
from .windows import WindowItems, WindowReader

__all__ = [
    "RETRY_AFTER_SECONDS", "TIMESTAMP_INDEX", "AccessDenied", "BackendUnavailable", "Clients", "CountCache",
    "CountReader", "Counts", "DeadlineExceeded", "DeleteReport", "DeleteResult", "ExpiryReader", "KeyPasses",
    "Removal",
    "TestEventDeleter", "EventExists", "EventNotFound", "EventPage", "EventStore", "Filters", "FreshnessReader",
    "IndexRangeReader", "IndexState", "Keyset", "Newest", "RangeReader", "ReadBudget",
    "Rejected", "SecondsCache", "Span", "StatusReader", "StoreError", "Table", "TableIdentity", "TableMissing",
    "TableStatus", "Throttled", "Unsupported", "WindowItems", "WindowReader", "WriteOutcomeUnknown", "breaker",
    "build_clients", "deadline",
]


@dataclass(frozen=True)
class Table:
    """One events table as the web app sees it: its events, its time ranges and its health, on shared clients."""

    name: str
    clients: Clients
    events: EventStore
    status: StatusReader
    ranges: RangeReader
    counts: CountReader
    sweeps: Sweeper  # a downloaded file's Scan pass over a range
    s3_exports: S3Exporter  # DynamoDB's own export of the table to S3
    # Its account and region, learnt from the ARN that any DescribeTable of the table returns.
    identity: TableIdentity
    deletes: TestEventDeleter  # conditional deletes of the dashboard's own test events
    expiry: ExpiryReader  # the TTL attribute, and when DynamoDB will remove an event
    # The newest event and the last minutes' count, newest second first (store/freshness.py).
    freshness: FreshnessReader
    windows: WindowReader  # a window's events for its breakdown (top values, lag)
    # Ranges through the optional time-sorted index (TIME_INDEX; store/index_ranges.py); None when not configured.
    index_ranges: IndexRangeReader | None = None
    # A settled range's keys, gathered by a Scan pass several pages' requests share (questions/pagereads.py).
    passes: KeyPasses | None = None

    # Items without time_bucket, found by a Scan a minute (store/backfillsample.py); None when no index is configured.
    backfill_sample: BackfillSample | None = None

    def time_index(self, sampled: bool = True) -> IndexState:
        """Whether the configured time index can serve ranges now, and how much of the table it holds: from the
        DescribeTable the table's figures are read with (reused for a minute) and, unless `sampled` is False or the
        ItemCounts already say the index is short, the backfill sample (one Scan call a minute); and, without a call,
        whether the freshness check found events without time_bucket among the newest within the last minute."""
        if self.index_ranges is None:
            return IndexState(None, "no time index is configured (TIME_INDEX)")
        described = self.status.described_table()
        if described is None:
            return IndexState(None, "DescribeTable did not answer: the time index is not used until it does")
        problem = mismatch(self.index_ranges.config, described)
        if problem is not None:
            return IndexState(None, problem)
        state = IndexState(self.index_ranges, None, *index_coverage(self.index_ranges.config, described))
        if self.backfill_sample is not None:
            state = replace(state, unkeyed_lately=self.backfill_sample.unkeyed_lately())
        if not sampled or state.counted_short or self.backfill_sample is None:
            return state
        found = self.backfill_sample.latest(state.table_items)
        return replace(state, sampled=found.sampled, sampled_unbackfilled=found.unbackfilled) if found else state

    def note_unkeyed(self, count: int) -> None:
        """What the freshness check found: events of the last seconds without time_bucket (kept a minute, no call)."""
        if self.backfill_sample is not None:
            self.backfill_sample.note_unkeyed(count)

    @classmethod
    def open(cls, settings: Settings) -> Table:
        cache = CountCache(settings.counts_cache_seconds, settings.counts_settled_seconds, settings.counts_cache_size)
        return cls.on(build_clients(settings), settings.table_name, settings.timestamps_canonical, cache,
                      settings.time_index)

    @classmethod
    def on(cls, clients: Clients, name: str, timestamps_canonical: str = "auto",
           counts_cache: CountCache | None = None, time_index: TimeIndexConfig | None = None) -> Table:
        ranges = RangeReader(clients.dynamodb, name, timestamps_canonical)
        events = EventStore(clients.dynamodb, name)
        counts_cache = counts_cache if counts_cache is not None else CountCache()
        # A breakdown keeps a tally a second, larger than a count: a tenth as many seconds.
        tallies: SecondsCache[object] = SecondsCache(counts_cache.ttl_seconds, counts_cache.settled_seconds,
                                                     counts_cache.size // 10)
        return cls(name, clients, events, StatusReader(clients, name), ranges,
                   CountReader(clients.dynamodb, name, ranges.pool, counts_cache, ranges.pace),
                   Sweeper(clients.dynamodb, name),
                   S3Exporter(clients.dynamodb, name),
                   TableIdentity(clients.dynamodb, name),
                   deletes=TestEventDeleter(clients.dynamodb, name, events),
                   expiry=ExpiryReader(clients.dynamodb, name),
                   freshness=FreshnessReader(clients.dynamodb, name, ranges.pool),
                   windows=WindowReader(clients.dynamodb, name, ranges.pool, tallies),
                   index_ranges=(IndexRangeReader(clients.dynamodb, name, time_index, ranges.pool,
                                                  SecondsCache(counts_cache.ttl_seconds, counts_cache.settled_seconds,
                                                               math.ceil(counts_cache.size / 100)))
                                 if time_index else None),
                   passes=KeyPasses(clients.dynamodb, name),
                   backfill_sample=BackfillSample(clients.dynamodb, name) if time_index else None)
