"""A downloaded file's read of a time range by Scan: the table swept once, in its own order.

A range that its estimate reads with a Scan is swept once, in the table's order: reading it in time
order, as its pages do, would read the whole table again for every 100 events.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import call
from .events import read_request
from .ranges import in_range, ordered_key, range_condition  # the scan plan's own tests: items placed alike
from .reading import Meter
from .records import Event, EventPage, Filters, PageKey, Span

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Items evaluated per Scan call of a sweep: one downloaded page holds no more.
SWEEP_PAGE = 100


class Sweeper:
    """One table's range sweeps. Thread-safe: one per process."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str):
        self._dynamodb = dynamodb
        self.table_name = table_name

    def sweep(self, span: Span, filters: Filters | None = None, start_key: PageKey | None = None,
              timestamps_canonical: bool = False) -> EventPage:
        """One Scan call (at most SWEEP_PAGE items evaluated) keeping the events of a range, in the table's order.

        The bound on `timestamp` goes to DynamoDB only when stored timestamps are canonical (string order is
        time order); every item is also checked here on the second its timestamp names, as the scan plan does.
        """
        request = read_request(self.table_name, condition=range_condition(span, filters, timestamps_canonical))
        meter = Meter()
        response = meter.record(call(self._dynamodb.scan, self.table_name, **request, Limit=SWEEP_PAGE,
                                     **({"ExclusiveStartKey": start_key} if start_key else {})))
        events = [Event(item) for item in response.get("Items", [])
                  if (key := ordered_key(item)) is not None and in_range(key, span, None)]
        return EventPage(events=events, next_key=response.get("LastEvaluatedKey") or None, consumed_rcu=meter.rcu,
                         scanned_count=meter.items_read, calls=meter.calls, plan="range-sweep")
