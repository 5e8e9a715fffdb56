"""Plain records of events the store hands out (Event, EventPage, Filters ...): never boto3 shapes.

The table's own state (TableStatus, CapacityMetrics ...) is in table_records.py."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from .conditions import Condition

TABLE_KEY = "event_id"
TIMESTAMP_INDEX = "timestamp-index"
TIMESTAMP_ATTRIBUTE = "timestamp"
# The mark of an event inserted through the dashboard's form (Boolean true), and who inserted it: the only events
# the dashboard ever deletes (store/deletes.py makes every delete conditional on the mark).
TEST_MARK = "dashboard_test"
INSERTED_BY = "inserted_by"
# Filters.inserted: only the events that carry the mark.
INSERTED_HERE = "dashboard"

# DynamoDB JSON as the SDK sends it: {"name": {"S": "value"}, ...}.
WireItem = dict[str, Any]
PageKey = dict[str, Any]


class _ExactDeserializer(TypeDeserializer):
    """boto3's deserializer, but numbers keep every digit they were stored with and binary is bytes."""

    def _deserialize_n(self, value: str) -> Decimal:
        return Decimal(value)

    def _deserialize_ns(self, value: Iterable[str]) -> set[Decimal]:
        return {Decimal(v) for v in value}

    def _deserialize_b(self, value: bytes) -> bytes:
        return bytes(value)

    def _deserialize_bs(self, value: Iterable[bytes]) -> set[bytes]:
        return {bytes(v) for v in value}


_DESERIALIZER = _ExactDeserializer()
_SERIALIZER = TypeSerializer()


def to_plain(item: WireItem) -> dict[str, Any]:
    """A stored item as Python values: str, Decimal, bytes, bool, None, set, list, dict."""
    return {name: _DESERIALIZER.deserialize(value) for name, value in item.items()}


def to_wire(values: dict[str, Any]) -> WireItem:
    """Python values as a DynamoDB item (the reverse of to_plain)."""
    return {name: _SERIALIZER.serialize(value) for name, value in values.items()}


@dataclass(frozen=True)
class Event:
    """One stored event, kept exactly as DynamoDB returned it."""

    item: WireItem

    @property
    def event_id(self) -> str:
        typed = self.item.get(TABLE_KEY, {})
        return str(next(iter(typed.values()), ""))

    @cached_property
    def values(self) -> dict[str, Any]:
        return to_plain(self.item)

    def get(self, name: str) -> Any:
        return self.values.get(name)

    def values_of(self, names: Iterable[str]) -> dict[str, Any]:
        """Only these attributes as Python values (absent ones left out), exactly as `values` gives them: a list
        shows a few columns, and converting every attribute of every item would cost more than the rest."""
        item = self.item
        # A string needs no conversion: the common case is read straight from its wire value.
        return {name: typed["S"] if "S" in typed else _DESERIALIZER.deserialize(typed)
                for name in names if (typed := item.get(name)) is not None}


@dataclass(frozen=True, order=True)
class Keyset:
    """A place in (timestamp, event_id) order: the last event shown, or a whole second read (event_id None)."""

    timestamp: str  # the stored UTC form, YYYY-MM-DDTHH:MM:SSZ
    event_id: str | None = None


@dataclass(frozen=True)
class Filters:
    """Equality on three attributes and a prefix of `key`: empty fields do not filter.

    `inserted` is INSERTED_HERE to keep only the test events inserted through the dashboard (TEST_MARK);
    `conditions` are the query box's (`q`, store/conditions.py), all of which must hold as well.
    """

    event_type: str = ""
    source: str = ""
    event_name: str = ""
    key_prefix: str = ""
    inserted: str = ""
    conditions: tuple[Condition, ...] = ()

    def __bool__(self) -> bool:
        return any((self.event_type, self.source, self.event_name, self.key_prefix, self.inserted, self.conditions))

    def equalities(self) -> dict[str, str]:
        fields = {"event_type": self.event_type, "source": self.source, "event_name": self.event_name}
        return {name: value for name, value in fields.items() if value}


@dataclass(frozen=True)
class Span:
    """An inclusive range of seconds in stored UTC form, read oldest first unless `descending`."""

    start: str
    end: str
    descending: bool = False


@dataclass(frozen=True)
class ReadBudget:
    """What one page may spend before it stops and offers Continue: wall time and read units."""

    seconds: float
    rcu: float


@dataclass(frozen=True)
class EventPage:
    events: list[Event]
    # Where the next page starts: DynamoDB's LastEvaluatedKey (or the key of the last event shown)
    # for scans and queries, a Keyset for ranges; None when the listing has no more pages.
    next_key: PageKey | Keyset | None
    consumed_rcu: float | None
    scanned_count: int  # items DynamoDB read for this page, before any filter
    calls: int = 1
    plan: str = "scan"  # scan, query, fanout or range-scan
    budget_spent: bool = False  # the page stopped on its read budget, not because it was full


# ---------------------------------------------------------------------------- status
