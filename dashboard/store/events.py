"""Reads of the events table (a page, one timestamp, one event) and the conditional insert."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr, ConditionBase, ConditionExpressionBuilder, Key as KeyCondition

from .attempts import watched
from .errors import EventExists, EventNotFound, StoreError, WriteOutcomeUnknown, call, retried
from .reading import Meter, filter_condition
from .records import (
    TABLE_KEY,
    TIMESTAMP_ATTRIBUTE,
    TIMESTAMP_INDEX,
    Event,
    EventPage,
    Filters,
    PageKey,
    ReadBudget,
    WireItem,
    to_plain,
    to_wire,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Items evaluated per call of a filtered read: large enough that a sparse filter moves quickly,
# small enough that the budget is checked often (a call also stops at 1 MB).
FILTERED_READ_SIZE = 500


def expression(condition: ConditionBase, key: bool = False,
               builder: ConditionExpressionBuilder | None = None) -> tuple[str, dict[str, str], dict[str, Any]]:
    """(expression, names, values) for a boto3 condition: placeholders always, so reserved words are safe.

    Conditions of one request share a builder, so that their placeholders do not collide.
    """
    built = (builder or ConditionExpressionBuilder()).build_expression(condition, is_key_condition=key)
    values = to_wire(built.attribute_value_placeholders)
    return built.condition_expression, built.attribute_name_placeholders, values


def read_request(table_name: str, key_condition: ConditionBase | None = None,
                 condition: ConditionBase | None = None) -> dict[str, Any]:
    """A Scan or Query request: the key condition (a Query on the index) and a filter, as expression values."""
    request: dict[str, Any] = {"TableName": table_name, "ReturnConsumedCapacity": "TOTAL"}
    builder = ConditionExpressionBuilder()
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    if key_condition is not None:
        request["IndexName"] = TIMESTAMP_INDEX
        request["KeyConditionExpression"], more_names, more_values = expression(key_condition, True, builder)
        names.update(more_names)
        values.update(more_values)
    if condition is not None:
        request["FilterExpression"], more_names, more_values = expression(condition, builder=builder)
        names.update(more_names)
        values.update(more_values)
    if names:
        request["ExpressionAttributeNames"] = names
    if values:
        request["ExpressionAttributeValues"] = values
    return request


def second_condition(timestamp: str) -> ConditionBase:
    return KeyCondition(TIMESTAMP_ATTRIBUTE).eq(timestamp)


class EventStore:
    """Reads and inserts the events of one table. Thread-safe: one per process."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str):
        self._dynamodb = dynamodb
        self.table_name = table_name

    def page(self, limit: int, start_key: PageKey | None = None, filters: Filters | None = None,
             budget: ReadBudget | None = None) -> EventPage:
        """One page of the table in DynamoDB's order: exactly one Scan call unless filtered."""
        request = read_request(self.table_name, condition=filter_condition(filters))
        return self._read(self._dynamodb.scan, request, limit, start_key, budget, (TABLE_KEY,))

    def by_timestamp(self, timestamp: str, limit: int, start_key: PageKey | None = None,
                     filters: Filters | None = None, budget: ReadBudget | None = None) -> EventPage:
        """One page of the events at one stored timestamp, through the index: exactly one Query call unless filtered."""
        request = read_request(self.table_name, second_condition(timestamp), filter_condition(filters))
        return self._read(self._dynamodb.query, request, limit, start_key, budget, (TIMESTAMP_ATTRIBUTE, TABLE_KEY))

    def _read(self, operation: Callable[..., Any], request: dict[str, Any], limit: int, start_key: PageKey | None,
              budget: ReadBudget | None, key_names: tuple[str, ...]) -> EventPage:
        plan = "query" if "IndexName" in request else "scan"
        if "FilterExpression" not in request:
            response = call(operation, self.table_name, **request, Limit=limit,
                            **({"ExclusiveStartKey": start_key} if start_key else {}))
            return _to_page(response, plan)
        # DynamoDB applies Limit before the filter: keep reading until the page is full, the
        # listing ends or the budget is spent, so that an empty page never hides later matches.
        meter = Meter(budget)
        items: list[WireItem] = []
        next_key = start_key
        while True:
            response = meter.record(call(operation, self.table_name, **request, Limit=FILTERED_READ_SIZE,
                                         **({"ExclusiveStartKey": next_key} if next_key else {})))
            items += response.get("Items", [])
            next_key = response.get("LastEvaluatedKey") or None
            if len(items) >= limit or next_key is None or meter.spent():
                break
        if len(items) > limit:
            # The next page starts right after the last event shown, not after the last one read.
            items = items[:limit]
            next_key = {name: items[-1][name] for name in key_names}
        return EventPage(events=[Event(item) for item in items], next_key=next_key, consumed_rcu=meter.rcu,
                         scanned_count=meter.items_read, calls=meter.calls, plan=plan,
                         budget_spent=len(items) < limit and next_key is not None)

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


def _to_page(response: Mapping[str, Any], plan: str) -> EventPage:
    consumed = response.get("ConsumedCapacity") or {}
    units = consumed.get("CapacityUnits")
    return EventPage(
        events=[Event(item) for item in response.get("Items", [])],
        next_key=response.get("LastEvaluatedKey") or None,
        consumed_rcu=float(units) if units is not None else None,
        scanned_count=int(response.get("ScannedCount", 0)),
        plan=plan,
    )
