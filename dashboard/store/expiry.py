"""The table's TTL attribute (DescribeTimeToLive, remembered for a minute) and when DynamoDB will remove one event.

The insert form offers an expiry only where TTL is on; a test event's page asks, as a fragment of its own, when
its TTL attribute says DynamoDB will remove it (one consistent GetItem of its id and that attribute: a page opened
right after the insert finds it).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from .errors import EventNotFound, StoreError, call
from .records import TABLE_KEY, TIMESTAMP_ATTRIBUTE

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# TTL is switched on or off rarely (and takes up to an hour to take effect in DynamoDB): asking once a minute is plenty.
TTL_CACHE_SECONDS = 60.0
# A TTL on one of these would have the form overwrite the event's own key or time: never offered.
_NOT_AN_EXPIRY = frozenset({TABLE_KEY, TIMESTAMP_ATTRIBUTE})


@dataclass(frozen=True)
class Removal:
    """When DynamoDB will remove one event: its TTL attribute's epoch seconds (None: it has no usable value)."""

    attribute: str
    epoch: int | None
    consumed_rcu: float | None
    calls: int = 1


class ExpiryReader:
    """The TTL attribute of one table, and one event's expiry. Thread-safe: one per process."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str, clock: Callable[[], float] = time.monotonic):
        self._dynamodb = dynamodb
        self.table_name = table_name
        self._clock = clock
        self._lock = threading.Lock()
        self._known: tuple[float, str | None] | None = None

    def attribute(self) -> str | None:
        """The attribute DynamoDB expires items on, when TTL is ENABLED; None when it is off or cannot be asked.

        Remembered for TTL_CACHE_SECONDS, a failure as long as an answer (so a denied DescribeTimeToLive costs one
        call a minute, and the form then simply offers no expiry).
        """
        now = self._clock()
        with self._lock:
            known = self._known
        if known is not None and now - known[0] < TTL_CACHE_SECONDS:
            return known[1]
        try:
            description = call(self._dynamodb.describe_time_to_live, self.table_name,
                               TableName=self.table_name).get("TimeToLiveDescription", {})
            enabled = description.get("TimeToLiveStatus") == "ENABLED"
            name = str(description.get("AttributeName") or "") if enabled else ""
            found = name if name and name not in _NOT_AN_EXPIRY else None
        except StoreError:
            found = None
        with self._lock:
            self._known = (now, found)
        return found

    def removal(self, event_id: str) -> Removal | None:
        """When the TTL attribute says DynamoDB will remove the event; None when TTL is off. Raises EventNotFound."""
        name = self.attribute()
        if name is None:
            return None
        response = call(self._dynamodb.get_item, self.table_name, TableName=self.table_name,
                        Key={TABLE_KEY: {"S": event_id}}, ProjectionExpression="#id, #ttl",
                        ExpressionAttributeNames={"#id": TABLE_KEY, "#ttl": name}, ConsistentRead=True,
                        ReturnConsumedCapacity="TOTAL")
        if "Item" not in response:
            raise EventNotFound(f"no event with id {event_id!r} in table {self.table_name}")
        units = (response.get("ConsumedCapacity") or {}).get("CapacityUnits")
        return Removal(name, _epoch(response["Item"].get(name, {}).get("N")),
                       float(units) if units is not None else None)


def _epoch(number: str | None) -> int | None:
    """Epoch seconds from a stored Number; DynamoDB ignores a TTL that is not a Number (None here too)."""
    if number is None:
        return None
    try:
        return int(Decimal(number))
    except (InvalidOperation, ValueError, OverflowError):
        return None
