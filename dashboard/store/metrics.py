"""The table over time from CloudWatch: consumed capacity, throttling, latency, index builds; one GetMetricData."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .errors import call
from .records import TIMESTAMP_INDEX
from .table_records import (
    DEFAULT_WINDOW as DEFAULT_WINDOW,
    WINDOWS as WINDOWS,
    CapacityMetrics,
    MetricPoint,
    MetricSeries,
    Unavailable,
    Window,
)

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

NAMESPACE = "AWS/DynamoDB"
# GetMetricData's own limit on queries in one request.
MAX_QUERIES_PER_CALL = 500
# CloudWatch reports ThrottledRequests per operation only (dimensions TableName + Operation, no
# total): the dashboard asks for every data-plane operation and adds them into one series.
THROTTLED_OPERATIONS = ("GetItem", "Query", "Scan", "PutItem", "UpdateItem", "DeleteItem", "BatchGetItem",
                        "BatchWriteItem", "TransactGetItems", "TransactWriteItems")


@dataclass(frozen=True)
class SeriesSpec:
    """One series the panel shows: a metric, its statistic and, for per-operation metrics, the operations."""

    metric: str
    label: str
    unit: str
    statistic: str
    # Counts add up over the window (a total means something, a missing period is zero);
    # latency and build progress are levels: no total, a missing period is a gap.
    cumulative: bool = True
    throttle: bool = False
    operations: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.metric if len(self.operations) != 1 else f"{self.metric}.{self.operations[0]}"


TABLE_SERIES = (
    SeriesSpec("ConsumedReadCapacityUnits", "Consumed read capacity", "RCU", "Sum"),
    SeriesSpec("ConsumedWriteCapacityUnits", "Consumed write capacity", "WCU", "Sum"),
    SeriesSpec("ReadThrottleEvents", "Read throttle events", "events", "Sum", throttle=True),
    SeriesSpec("WriteThrottleEvents", "Write throttle events", "events", "Sum", throttle=True),
    SeriesSpec("ThrottledRequests", "Throttled requests", "requests", "Sum", throttle=True,
               operations=THROTTLED_OPERATIONS),
    *(SeriesSpec("SuccessfulRequestLatency", f"{operation} latency", "ms", "Average", cumulative=False,
                 operations=(operation,)) for operation in ("GetItem", "Query", "Scan")),
)
INDEX_SERIES = (
    *TABLE_SERIES[:4],
    SeriesSpec("OnlineIndexPercentageProgress", "Index build progress", "%", "Maximum", cumulative=False),
)


def window_bounds(window: Window, now: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the window, on period boundaries so that every point covers a whole period."""
    seconds = int(now.timestamp())
    end = datetime.fromtimestamp(seconds - seconds % window.period + window.period, UTC)
    return end - window.span, end


class MetricsReader:
    """Reads one table's CloudWatch metrics. Thread-safe: one per process."""

    def __init__(self, cloudwatch: CloudWatchClient, table_name: str, index_name: str = TIMESTAMP_INDEX,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self._cloudwatch = cloudwatch
        self.table_name = table_name
        self.index_name = index_name
        self._clock = clock

    def bounds(self, window: Window) -> tuple[datetime, datetime]:
        return window_bounds(window, self._clock())

    def missing(self, window: Window, why: Unavailable) -> CapacityMetrics:
        """The panel's answer when CloudWatch cannot give one: the window, empty, and why."""
        start, end = self.bounds(window)
        return CapacityMetrics(window, start, end, index_name=self.index_name, unavailable=why)

    def read(self, window: Window) -> CapacityMetrics:
        """Every series of the table and the index: one GetMetricData call (more only past 500 queries or pages)."""
        start, end = self.bounds(window)
        table_dimensions = [{"Name": "TableName", "Value": self.table_name}]
        index_dimensions = [*table_dimensions, {"Name": "GlobalSecondaryIndexName", "Value": self.index_name}]
        plan = [("table", spec, table_dimensions) for spec in TABLE_SERIES]
        plan += [("index", spec, index_dimensions) for spec in INDEX_SERIES]
        queries: list[dict[str, Any]] = []
        owners: dict[str, int] = {}  # query id -> position in the plan
        for position, (_, spec, dimensions) in enumerate(plan):
            for operation in spec.operations or (None,):
                query_id = f"q{len(queries)}"
                owners[query_id] = position
                extra = [{"Name": "Operation", "Value": operation}] if operation else []
                queries.append(_query(query_id, spec, [*dimensions, *extra], window.period))
        values: list[dict[datetime, float]] = [{} for _ in plan]
        for query_id, at, value in self._results(queries, start, end):
            # Per-operation queries of one series add up, period by period.
            slots = values[owners[query_id]]
            slots[at] = slots.get(at, 0.0) + value
        series: dict[str, list[MetricSeries]] = {"table": [], "index": []}
        for (scope, spec, _), slots in zip(plan, values, strict=True):
            points = [MetricPoint(at, slots[at]) for at in sorted(slots)]
            series[scope].append(MetricSeries(spec.key, spec.metric, spec.label, spec.unit, spec.statistic,
                                              spec.cumulative, spec.throttle, points))
        return CapacityMetrics(window, start, end, series["table"], series["index"], self.index_name)

    def _results(self, queries: list[dict[str, Any]], start: datetime,
                 end: datetime) -> Iterator[tuple[str, datetime, float]]:
        for first in range(0, len(queries), MAX_QUERIES_PER_CALL):
            request: dict[str, Any] = {"MetricDataQueries": queries[first:first + MAX_QUERIES_PER_CALL],
                                       "StartTime": start, "EndTime": end, "ScanBy": "TimestampAscending"}
            while True:
                response = call(self._cloudwatch.get_metric_data, self.table_name, **request)
                for result in response.get("MetricDataResults", []):
                    for at, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=True):
                        yield str(result["Id"]), at.astimezone(UTC), float(value)
                # A long window comes back in pages; each page holds more points of the same ids.
                if not response.get("NextToken"):
                    break
                request["NextToken"] = response["NextToken"]


def _query(query_id: str, spec: SeriesSpec, dimensions: list[dict[str, str]], period: int) -> dict[str, Any]:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {"Namespace": NAMESPACE, "MetricName": spec.metric, "Dimensions": dimensions},
            "Period": period,
            "Stat": spec.statistic,
        },
        "ReturnData": True,
    }
