"""Reads of the events table (a page, one timestamp, one event) and the conditional insert."""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr, ConditionBase, ConditionExpressionBuilder
from boto3.dynamodb.conditions import Key as KeyCondition

from .attempts import watched
from .errors import EventExists, EventNotFound, StoreError, WriteOutcomeUnknown, call, retried
from .records import (TABLE_KEY, TIMESTAMP_ATTRIBUTE, TIMESTAMP_INDEX, Event, EventPage, PageKey, WireItem, to_plain,
                      to_wire)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def expression(condition: ConditionBase, key: bool = False) -> tuple[str, dict[str, str], dict[str, Any]]:
    """(expression, names, values) for a boto3 condition: placeholders always, so reserved words are safe."""
    built = ConditionExpressionBuilder().build_expression(condition, is_key_condition=key)
    values = to_wire(built.attribute_value_placeholders)
    return built.condition_expression, built.attribute_name_placeholders, values


class EventStore:
    """Reads and inserts the events of one table. Thread-safe: one per process."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str):
        self._dynamodb = dynamodb
        self.table_name = table_name

    def page(self, limit: int, start_key: PageKey | None = None) -> EventPage:
        """One page of the table in DynamoDB's order: exactly one Scan call."""
        request: dict[str, Any] = {"TableName": self.table_name, "Limit": limit, "ReturnConsumedCapacity": "TOTAL"}
        if start_key:
            request["ExclusiveStartKey"] = start_key
        return _to_page(call(self._dynamodb.scan, self.table_name, **request))

    def by_timestamp(self, timestamp: str, limit: int, start_key: PageKey | None = None) -> EventPage:
        """One page of the events at one stored timestamp, through the index: exactly one Query call."""
        condition, names, values = expression(KeyCondition(TIMESTAMP_ATTRIBUTE).eq(timestamp), key=True)
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": TIMESTAMP_INDEX,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "Limit": limit,
            "ReturnConsumedCapacity": "TOTAL",
        }
        if start_key:
            request["ExclusiveStartKey"] = start_key
        return _to_page(call(self._dynamodb.query, self.table_name, **request))

    def get(self, event_id: str) -> Event:
        response = call(self._dynamodb.get_item, self.table_name, TableName=self.table_name,
                        Key={TABLE_KEY: {"S": event_id}}, ConsistentRead=True)
        item = response.get("Item")
        if not item:
            raise EventNotFound(f"no event with id {event_id!r} in table {self.table_name}")
        return Event(item)

    def put_new(self, values: Mapping[str, Any]) -> Event:
        """Write an event only if its id is new: an existing event is never overwritten.

        When an attempt's answer was lost and botocore retried, the retry's condition fails on the item
        this very submit wrote; when the last answer was lost, the write may have happened. Either way
        the item is read back (consistently): the same content is this write, another is a real
        duplicate, and a read that fails leaves the outcome unknown (WriteOutcomeUnknown).
        """
        item = to_wire(dict(values))
        event_id = str(values.get(TABLE_KEY))
        condition, names, _ = expression(Attr(TABLE_KEY).not_exists())
        try:
            with watched() as attempts:
                call(self._dynamodb.put_item, self.table_name, TableName=self.table_name, Item=item,
                     ConditionExpression=condition, ExpressionAttributeNames=names)
        except StoreError as error:
            duplicate = error.code == "ConditionalCheckFailedException"
            if not (duplicate and retried(error)) and not attempts.answer_lost:
                if duplicate:
                    raise EventExists(f"an event with id {event_id!r} already exists; nothing was written",
                                      error.code) from error.__cause__
                raise
            return self._read_back(item, event_id, error)
        return Event(item)

    def _read_back(self, item: WireItem, event_id: str, error: StoreError) -> Event:
        try:
            stored = self.get(event_id)
        except EventNotFound:
            if error.code == "ConditionalCheckFailedException":
                raise WriteOutcomeUnknown(f"DynamoDB did not confirm the write of event {event_id!r}",
                                          error.code, event_id) from error
            raise error from error.__cause__  # the lost answer was not a write: nothing was stored
        except StoreError as unreadable:
            raise WriteOutcomeUnknown(f"DynamoDB did not confirm the write of event {event_id!r} and could not "
                                      "be asked again", unreadable.code, event_id) from error
        if to_plain(stored.item) == to_plain(item):
            return stored
        raise EventExists(f"an event with id {event_id!r} already exists; nothing was written",
                          "ConditionalCheckFailedException") from error.__cause__


def _to_page(response: Mapping[str, Any]) -> EventPage:
    consumed = response.get("ConsumedCapacity") or {}
    units = consumed.get("CapacityUnits")
    return EventPage(
        events=[Event(item) for item in response.get("Items", [])],
        next_key=response.get("LastEvaluatedKey") or None,
        consumed_rcu=float(units) if units is not None else None,
        scanned_count=int(response.get("ScannedCount", 0)),
    )
