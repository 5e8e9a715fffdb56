"""What a read of several calls spends (calls, RCUs, items) against a budget, and the filters as conditions."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import reduce
from typing import TYPE_CHECKING, Any, TypeVar

from boto3.dynamodb.conditions import Attr, ConditionBase

from . import deadline
from .conditions import all_of
from .errors import DeadlineExceeded, call
from .records import INSERTED_HERE, TEST_MARK, Filters, ReadBudget

if TYPE_CHECKING:
    from .pace import Pace

T = TypeVar("T")
# A call (or a wave) is started only when the request's deadline leaves this many times as long as the last one took.
ROOM = 1.5
# A request's Scan segment asks at most this many items in its first call while this process has timed none.
FIRST_CALL_ITEMS = 100
# A sized Scan call is expected to take at most this share of what is left of the deadline: small enough that the
# next one still has room, large enough that a pass is not spent on the per-call cost.
CALL_SHARE = 0.25


def marked_condition() -> ConditionBase:
    """The event carries the test mark: a Boolean true (a string "true" or a Number 1 is not the mark)."""
    return Attr(TEST_MARK).attribute_type("BOOL") & Attr(TEST_MARK).eq(True)


def filter_condition(filters: Filters | None) -> ConditionBase | None:
    """The FilterExpression for the filters: values always go in as expression values, never into the text."""
    if not filters:
        return None
    parts: list[ConditionBase] = [Attr(name).eq(value) for name, value in filters.equalities().items()]
    if filters.key_prefix:
        parts.append(Attr("key").begins_with(filters.key_prefix))
    if filters.inserted == INSERTED_HERE:
        parts.append(marked_condition())
    if (typed := all_of(filters.conditions)) is not None:
        parts.append(typed)
    return reduce(lambda left, right: left & right, parts) if parts else None


class Meter:
    """Adds up what one page's calls cost, from any thread, and says when its budget is spent."""

    def __init__(self, budget: ReadBudget | None = None, clock: Callable[[], float] = time.monotonic):
        self._budget = budget
        self._clock = clock
        self._started = clock()
        self._lock = threading.Lock()
        self.calls = 0
        self.rcu: float | None = None
        self.items_read = 0

    def record(self, response: dict[str, Any]) -> dict[str, Any]:
        units = (response.get("ConsumedCapacity") or {}).get("CapacityUnits")
        with self._lock:
            self.calls += 1
            self.items_read += int(response.get("ScannedCount", 0))
            if units is not None:
                self.rcu = (self.rcu or 0.0) + float(units)
        return response

    def count(self, query: Callable[..., Any], table_name: str, request: dict[str, Any]) -> int:
        """A Select=COUNT Query read to its end, each answer recorded: the events it counted."""
        count = 0
        start: dict[str, Any] | None = None
        while True:
            more = {"ExclusiveStartKey": start} if start else {}
            response = self.record(call(query, table_name, **request, **more))
            count += int(response.get("Count", 0))
            start = response.get("LastEvaluatedKey")
            if not start:
                return count

    def seconds_left(self) -> float | None:
        """Seconds of the budget's time still unspent (None without a budget)."""
        return None if self._budget is None else self._budget.seconds - (self._clock() - self._started)

    def spent(self) -> bool:
        if self._budget is None:
            return False
        with self._lock:
            rcu = self.rcu or 0.0
        return rcu >= self._budget.rcu or self._clock() - self._started >= self._budget.seconds


class CallSize:
    """The Limit of each Scan call of one segment in a request: no call is sent that the deadline would cut off.

    A call the deadline cuts off is not taken back: the backend reads it all the same (and DynamoDB bills it) after
    the request has answered, and on a backend that works through calls one at a time (moto, about 4 s for a 1 MB
    call of a 20,000-event table) every other request's calls wait behind it, for seconds after the request ended.
    So each call asks for what CALL_SHARE of the time left holds (`most` at most) at the pace the last one read, the
    first at the pace this process's Scan calls have read (`pace`; FIRST_CALL_ITEMS before any), and once the time
    left cannot hold a call as long as the last one (ROOM times over), none is sent (DeadlineExceeded). On DynamoDB
    or dynalite (milliseconds a call) every call after the first is a full 1 MB one. Outside a request (no deadline)
    calls are not limited. Not thread-safe: one per segment.
    """

    def __init__(self, what: str, most: int | None = None, pace: Pace | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self._what, self._most, self._pace, self._clock = what, most, pace, clock
        rate = pace.scan_items_per_call_second() if pace else None
        left = deadline.remaining()
        first = max(FIRST_CALL_ITEMS, int(rate * left * CALL_SHARE)) if rate and left is not None else FIRST_CALL_ITEMS
        self._limit = first if most is None else min(most, first)
        self._took: float | None = None
        self._last = 0  # items the last call read

    def read(self, send: Callable[[dict[str, int]], T]) -> T:
        """`send({"Limit": n})` (or `send({})` outside a request), timed; `send` answers DynamoDB's response."""
        limit = self._next()
        started = self._clock()
        answer = send(limit)
        self._took = self._clock() - started
        self._last = int(answer.get("ScannedCount", 0)) if isinstance(answer, dict) else 0
        if self._pace and self._last and "Limit" in limit:
            self._pace.scan_called(self._last, self._took)
        return answer

    def _next(self) -> dict[str, int]:
        left = deadline.remaining()
        if left is None:
            return {} if self._most is None else {"Limit": self._most}
        if self._took is not None:
            if left < ROOM * self._took:
                raise DeadlineExceeded(f"DynamoDB did not answer {self._what} in time", "DeadlineExceeded")
            grown = max(FIRST_CALL_ITEMS, int(self._last * left * CALL_SHARE / max(self._took, 1e-3)))
            self._limit = grown if self._most is None else min(self._most, grown)
        return {"Limit": self._limit}
