"""Deletes of test events, only ever conditional on their mark in DynamoDB itself: a pipeline event is never deleted.

Each delete is one `DeleteItem` with a `ConditionExpression` that `dashboard_test` is a Boolean true (never a read
then a delete, which another writer could race), asking for the item back when the condition fails
(`ReturnValuesOnConditionCheckFailure=ALL_OLD`): an item in that answer exists and is not a test event (refused),
none means there is no such event (missing). Many ids are deleted by such calls side by side: `BatchWriteItem`
takes no condition, and one failed condition in a `TransactWriteItems` would cancel the others with it.

A lost answer is handled as inserts handle it (events.put_new): when botocore retried after an attempt whose
answer was lost, the retry's condition fails on the item that attempt deleted; when the last answer was lost the
delete may have happened. The item is then read back (consistently): gone is deleted, still there is not, and a
read that fails leaves the outcome unknown ("may have been deleted").
"""
from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .attempts import watched
from .deadline import carried
from .errors import EventNotFound, StoreError, call
from .events import EventStore, expression
from .reading import marked_condition
from .records import TABLE_KEY, TEST_MARK, Event

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# The most ids one request may delete, and how many of its DeleteItem calls run at once (each process).
MAX_DELETE_IDS = 1000
DELETE_WORKERS = 8

DELETED, REFUSED, MISSING, UNKNOWN, FAILED = "deleted", "refused", "missing", "unknown", "failed"
OUTCOMES = (DELETED, REFUSED, MISSING, UNKNOWN, FAILED)
NOT_A_TEST_EVENT = "not a dashboard test event: only events inserted through the dashboard's form can be deleted"


@dataclass(frozen=True)
class DeleteResult:
    """What came of deleting one id: deleted, refused (not a test event), missing, unknown (the answer was lost
    and could not be checked: it may have been deleted) or failed (DynamoDB did not do it; `reason` says why)."""

    event_id: str
    outcome: str
    reason: str = ""


@dataclass(frozen=True)
class DeleteReport:
    """Every id's result, in the order asked (each id once)."""

    results: list[DeleteResult] = field(default_factory=list)

    def ids(self, outcome: str) -> list[str]:
        return [result.event_id for result in self.results if result.outcome == outcome]

    def of(self, outcome: str) -> list[DeleteResult]:
        return [result for result in self.results if result.outcome == outcome]

    def counts(self) -> dict[str, int]:
        return {outcome: len(self.of(outcome)) for outcome in OUTCOMES}

    @property
    def nothing_settled(self) -> bool:
        """Every id failed: DynamoDB did not answer for any of them (the request is worth repeating as a whole)."""
        return bool(self.results) and all(result.outcome == FAILED for result in self.results)


def is_test_event(event: Event) -> bool:
    return event.item.get(TEST_MARK) == {"BOOL": True}


class TestEventDeleter:
    """Deletes the test events of one table, one or many ids a request. Thread-safe: one per process."""

    __test__ = False  # not a pytest test class, whatever its name says

    def __init__(self, dynamodb: DynamoDBClient, table_name: str, events: EventStore):
        self._dynamodb = dynamodb
        self.table_name = table_name
        self._events = events
        condition, self._names, self._values = expression(marked_condition())
        self._condition = condition
        # Its own threads: a bulk delete's thousand calls must not queue ahead of other requests' range reads.
        self._pool = ThreadPoolExecutor(max_workers=DELETE_WORKERS, thread_name_prefix="test-event-delete")

    def delete(self, event_id: str) -> DeleteResult:
        """Delete one test event; never raises for what DynamoDB answers (the result says it)."""
        request: dict[str, Any] = {
            "TableName": self.table_name, "Key": {TABLE_KEY: {"S": event_id}},
            "ConditionExpression": self._condition, "ExpressionAttributeNames": self._names,
            "ExpressionAttributeValues": self._values, "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        try:
            with watched() as attempts:
                call(self._dynamodb.delete_item, self.table_name, **request)
        except StoreError as error:
            if error.code == "ConditionalCheckFailedException":
                if _old_item(error):
                    return DeleteResult(event_id, REFUSED, NOT_A_TEST_EVENT)
                if attempts.answer_lost:
                    return DeleteResult(event_id, DELETED)  # gone: the attempt whose answer was lost deleted it
                return DeleteResult(event_id, MISSING, f"no event with id {event_id!r}")
            if attempts.answer_lost:
                return self._read_back(event_id, error)
            return DeleteResult(event_id, FAILED, f"{error.message}; not deleted")
        return DeleteResult(event_id, DELETED)

    def delete_many(self, event_ids: Iterable[str]) -> DeleteReport:
        """Delete each id (each once, in the order given) by conditional DeleteItem calls side by side.

        Every call keeps the request's deadline (a call it leaves no time for fails before it is sent: not deleted).
        """
        unique = list(dict.fromkeys(event_ids))
        if len(unique) > MAX_DELETE_IDS:
            raise ValueError(f"at most {MAX_DELETE_IDS} ids a request, not {len(unique)}")
        futures = [self._pool.submit(carried(self.delete), event_id) for event_id in unique]
        return DeleteReport([future.result() for future in futures])

    def _read_back(self, event_id: str, error: StoreError) -> DeleteResult:
        try:
            stored = self._events.get(event_id)
        except EventNotFound:
            return DeleteResult(event_id, DELETED)
        except StoreError:
            return DeleteResult(event_id, UNKNOWN, "DynamoDB did not confirm the delete and could not be asked "
                                                   "again: the event may have been deleted")
        if not is_test_event(stored):
            return DeleteResult(event_id, REFUSED, NOT_A_TEST_EVENT)
        return DeleteResult(event_id, FAILED, f"{error.message}; not deleted (it is still there)")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _old_item(error: StoreError) -> dict[str, Any] | None:
    """The item a failed condition was checked against (ALL_OLD), from the SDK's error answer; None when none."""
    response = getattr(error.__cause__, "response", None) or {}
    item = response.get("Item")
    return item if isinstance(item, dict) and item else None
