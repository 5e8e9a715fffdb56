"""Creating the table as the spec says and seeding it: for the CLI, the local server and tests, never the web app."""
from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .clients import Clients
from .errors import StoreError, Throttled, call
from .metrics import NAMESPACE
from .records import TABLE_KEY, TIMESTAMP_ATTRIBUTE, TIMESTAMP_INDEX, to_wire
from .time_index import TIME_BUCKET_ATTRIBUTE, index_definition

BATCH_SIZE = 25  # BatchWriteItem's own limit
METRICS_BATCH_SIZE = 1000  # PutMetricData's own limit


@dataclass(frozen=True)
class MetricSample:
    """One value DynamoDB would have sent CloudWatch: for the demo server and tests, never the web app."""

    metric: str
    at: datetime
    value: float
    index: str | None = None  # GlobalSecondaryIndexName
    operation: str | None = None  # Operation (ThrottledRequests, SuccessfulRequestLatency)


class TableAdmin:
    """Creates and fills one events table."""

    def __init__(self, clients: Clients, table_name: str):
        self._dynamodb = clients.dynamodb
        self._cloudwatch = clients.cloudwatch
        self.table_name = table_name
        self.endpoint_url = clients.endpoint_url

    def create_table(self, point_in_time_recovery: bool = True, wait: bool = True,
                     time_index: str | None = None) -> bool:
        """Create the table as TABLE-SPEC.md says; False when it already exists. Idempotent.

        `time_index` names the optional time-sorted index (store/time_index.py) to create with it.
        """
        indexes: list[Any] = [{
            "IndexName": TIMESTAMP_INDEX,
            "KeySchema": [{"AttributeName": TIMESTAMP_ATTRIBUTE, "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }]
        attributes: list[Any] = [{"AttributeName": TABLE_KEY, "AttributeType": "S"},
                                 {"AttributeName": TIMESTAMP_ATTRIBUTE, "AttributeType": "S"}]
        if time_index:
            indexes.append(index_definition(time_index))
            attributes.append({"AttributeName": TIME_BUCKET_ATTRIBUTE, "AttributeType": "S"})
        try:
            call(
                self._dynamodb.create_table, self.table_name,
                TableName=self.table_name,
                AttributeDefinitions=attributes,
                KeySchema=[{"AttributeName": TABLE_KEY, "KeyType": "HASH"}],
                GlobalSecondaryIndexes=indexes,
                BillingMode="PAY_PER_REQUEST",
                SSESpecification={"Enabled": True},
            )
            created = True
        except StoreError as error:
            if error.code != "ResourceInUseException":
                raise
            created = False
        if wait:
            self._dynamodb.get_waiter("table_exists").wait(
                TableName=self.table_name, WaiterConfig={"Delay": 2, "MaxAttempts": 60}
            )
        if point_in_time_recovery:
            self.enable_pitr()
        return created

    def enable_pitr(self, attempts: int = 20, pause: float = 3.0) -> None:
        # A table that has just become ACTIVE answers ContinuousBackupsUnavailableException
        # for a while on AWS: its backups are still being set up.
        for attempt in range(attempts):
            try:
                call(self._dynamodb.update_continuous_backups, self.table_name, TableName=self.table_name,
                     PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
                return
            except StoreError as error:
                if error.code != "ContinuousBackupsUnavailableException" or attempt == attempts - 1:
                    raise
                time.sleep(pause)

    def put_many(self, items: Iterable[Mapping[str, Any]]) -> int:
        """Write events in batches of 25 (overwrites by design: seeding is repeatable)."""
        batch: list[dict[str, Any]] = []
        written = 0
        for values in items:
            batch.append({"PutRequest": {"Item": to_wire(dict(values))}})
            if len(batch) == BATCH_SIZE:
                written += self._write_batch(batch)
                batch = []
        if batch:
            written += self._write_batch(batch)
        return written

    def put_metrics(self, samples: Iterable[MetricSample]) -> int:
        """Write samples into CloudWatch under AWS/DynamoDB with this table's dimensions."""
        data: list[dict[str, Any]] = []
        for sample in samples:
            dimensions = [{"Name": "TableName", "Value": self.table_name}]
            if sample.index:
                dimensions.append({"Name": "GlobalSecondaryIndexName", "Value": sample.index})
            if sample.operation:
                dimensions.append({"Name": "Operation", "Value": sample.operation})
            data.append({"MetricName": sample.metric, "Dimensions": dimensions, "Timestamp": sample.at,
                         "Value": sample.value})
        for first in range(0, len(data), METRICS_BATCH_SIZE):
            call(self._cloudwatch.put_metric_data, self.table_name, Namespace=NAMESPACE,
                 MetricData=data[first:first + METRICS_BATCH_SIZE])
        return len(data)

    def _write_batch(self, batch: list[dict[str, Any]]) -> int:
        pending: dict[str, Any] = {self.table_name: batch}
        for attempt in range(8):
            response = call(self._dynamodb.batch_write_item, self.table_name, RequestItems=pending)
            pending = response.get("UnprocessedItems") or {}
            if not pending:
                return len(batch)
            time.sleep(min(2.0, 0.05 * 2 ** attempt))
        raise Throttled(f"DynamoDB left {len(pending[self.table_name])} events unprocessed after retries")
