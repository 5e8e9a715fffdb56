"""The only package that talks to DynamoDB: events, status and (for the CLI) admin, on one set of clients.

Everything it hands out is a plain record; views never see boto3 shapes or exceptions. The web
app imports `Table` and the records and errors from here, never `admin`.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..config import Settings
from . import breaker, deadline
from .clients import Clients, build_clients
from .errors import (RETRY_AFTER_SECONDS, AccessDenied, BackendUnavailable, DeadlineExceeded, EventExists,
                     EventNotFound, Rejected, StoreError, TableMissing, Throttled, Unsupported, WriteOutcomeUnknown)
from .events import EventStore
from .records import (TABLE_KEY, TIMESTAMP_ATTRIBUTE, TIMESTAMP_INDEX, Event, EventPage, PageKey, TableStatus,
                      WireItem)
from .status import StatusReader

__all__ = [
    "RETRY_AFTER_SECONDS", "TABLE_KEY", "TIMESTAMP_ATTRIBUTE", "TIMESTAMP_INDEX",
    "AccessDenied", "BackendUnavailable", "Clients", "DeadlineExceeded", "breaker", "deadline", "Event", "EventExists", "EventNotFound", "EventPage",
    "EventStore", "PageKey", "Rejected", "StatusReader", "StoreError", "Table", "TableMissing", "TableStatus",
    "Throttled", "Unsupported", "WireItem", "WriteOutcomeUnknown", "build_clients",
]


@dataclass(frozen=True)
class Table:
    """One events table as the web app sees it: its events and its health, on shared clients."""

    name: str
    clients: Clients
    events: EventStore
    status: StatusReader

    @classmethod
    def open(cls, settings: Settings) -> Table:
        return cls.on(build_clients(settings), settings.table_name)

    @classmethod
    def on(cls, clients: Clients, name: str) -> Table:
        return cls(name, clients, EventStore(clients.dynamodb, name), StatusReader(clients, name))
