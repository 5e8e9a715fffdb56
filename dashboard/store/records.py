"""Plain records the store hands out (Event, EventPage, TableStatus ...): never boto3 shapes."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

if TYPE_CHECKING:
    from .metrics import CapacityMetrics

TABLE_KEY = "event_id"
TIMESTAMP_INDEX = "timestamp-index"
TIMESTAMP_ATTRIBUTE = "timestamp"

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


@dataclass(frozen=True)
class EventPage:
    events: list[Event]
    # DynamoDB's LastEvaluatedKey: None when the listing has no more pages.
    next_key: PageKey | None
    consumed_rcu: float | None
    scanned_count: int


# ---------------------------------------------------------------------------- status


@dataclass(frozen=True)
class Unavailable:
    """Why one status panel could not be read: the others still render."""

    reason: str  # "denied", "unsupported", "timeout" or "error"
    message: str


@dataclass(frozen=True)
class IndexStatus:
    name: str
    status: str
    key_schema: list[tuple[str, str]]
    projection: str
    item_count: int | None
    size_bytes: int | None
    read_capacity: int | None
    write_capacity: int | None
    backfilling: bool = False


@dataclass(frozen=True)
class TableDescription:
    name: str
    status: str
    arn: str | None
    created_at: datetime | None
    key_schema: list[tuple[str, str]]
    attribute_types: dict[str, str]
    item_count: int | None
    size_bytes: int | None
    billing_mode: str
    read_capacity: int | None
    write_capacity: int | None
    indexes: list[IndexStatus]
    sse_status: str
    sse_type: str | None
    kms_key: str | None
    stream_enabled: bool
    stream_view_type: str | None
    table_class: str
    deletion_protection: bool | None
    raw: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class PitrStatus:
    status: str  # ENABLED, DISABLED or UNKNOWN
    earliest_restorable: datetime | None = None
    latest_restorable: datetime | None = None
    backups_status: str | None = None
    unavailable: Unavailable | None = None


@dataclass(frozen=True)
class TtlStatus:
    status: str  # ENABLED, DISABLED, ENABLING, DISABLING or UNKNOWN
    attribute: str | None = None
    unavailable: Unavailable | None = None


@dataclass(frozen=True)
class ScalingTarget:
    resource: str
    dimension: str  # as application-autoscaling names it: dynamodb:table:ReadCapacityUnits
    min_capacity: int
    max_capacity: int
    target_utilization: float | None


@dataclass(frozen=True)
class AutoScalingStatus:
    targets: list[ScalingTarget]
    unavailable: Unavailable | None = None


@dataclass(frozen=True)
class TableStatus:
    table_name: str
    description: TableDescription | None
    description_unavailable: Unavailable | None
    pitr: PitrStatus
    ttl: TtlStatus
    autoscaling: AutoScalingStatus
    # CloudWatch's series over the window the page asked for; None when nobody asked.
    metrics: CapacityMetrics | None = None
