"""What a read of several calls spends (calls, RCUs, items) against a budget, and the filters as conditions."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import reduce
from typing import Any

from boto3.dynamodb.conditions import Attr, ConditionBase

from .conditions import all_of
from .records import INSERTED_HERE, TEST_MARK, Filters, ReadBudget


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

    def seconds_left(self) -> float | None:
        """Seconds of the budget's time still unspent (None without a budget)."""
        return None if self._budget is None else self._budget.seconds - (self._clock() - self._started)

    def spent(self) -> bool:
        if self._budget is None:
            return False
        with self._lock:
            rcu = self.rcu or 0.0
        return rcu >= self._budget.rcu or self._clock() - self._started >= self._budget.seconds
