"""The only package that talks to DynamoDB: events, status and (for the CLI) admin, on one set of clients.

Everything it hands out is a plain record; views never see boto3 shapes or exceptions. The web
app imports `Table` and the records and errors from here, never `admin`.
"""
from __future__ import annotations

from dataclasses import dataclass

from dashboard.settings.config import Settings

from . import breaker, deadline
from .clients import Clients, build_clients
from .counts import CountCache, CountReader, Counts, SecondsCache
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
from .identity import TableIdentity
from .ranges import RangeReader
from .records import TIMESTAMP_INDEX, EventPage, Filters, Keyset, ReadBudget, Span
from .s3_exports import S3Exporter
from .status import StatusReader
from .sweeps import Sweeper
from .table_records import TableStatus
from .windows import WindowItems, WindowReader

__all__ = [
    "RETRY_AFTER_SECONDS", "TIMESTAMP_INDEX", "AccessDenied", "BackendUnavailable", "Clients", "CountCache",
    "CountReader", "Counts", "DeadlineExceeded",
    "EventExists", "EventNotFound", "EventPage", "EventStore", "Filters", "Keyset", "RangeReader", "ReadBudget",
    "Rejected", "SecondsCache", "Span", "StatusReader", "StoreError", "Table", "TableIdentity", "TableMissing",
    "TableStatus",
    "Throttled", "Unsupported", "WindowItems", "WindowReader", "WriteOutcomeUnknown", "breaker", "build_clients",
    "deadline",
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
    windows: WindowReader  # a window's events for its breakdown (top values, lag)

    @classmethod
    def open(cls, settings: Settings) -> Table:
        cache = CountCache(settings.counts_cache_seconds, settings.counts_settled_seconds, settings.counts_cache_size)
        return cls.on(build_clients(settings), settings.table_name, settings.timestamps_canonical, cache)

    @classmethod
    def on(cls, clients: Clients, name: str, timestamps_canonical: str = "auto",
           counts_cache: CountCache | None = None) -> Table:
        ranges = RangeReader(clients.dynamodb, name, timestamps_canonical)
        counts_cache = counts_cache if counts_cache is not None else CountCache()
        # A breakdown keeps a tally a second, larger than a count: a tenth as many seconds.
        tallies: SecondsCache[object] = SecondsCache(counts_cache.ttl_seconds, counts_cache.settled_seconds,
                                                     counts_cache.size // 10)
        return cls(name, clients, EventStore(clients.dynamodb, name), StatusReader(clients, name), ranges,
                   CountReader(clients.dynamodb, name, ranges.pool, counts_cache), Sweeper(clients.dynamodb, name),
                   S3Exporter(clients.dynamodb, name),
                   TableIdentity(clients.dynamodb, name), WindowReader(clients.dynamodb, name, ranges.pool, tallies))
