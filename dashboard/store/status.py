"""The table's health: DescribeTable, PITR, TTL, auto-scaling and CloudWatch, read concurrently, each failing alone."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, TimeoutError as FutureTimeout
from typing import Any, TypeVar

from .clients import MAX_POOL_CONNECTIONS, Clients
from .deadline import carried
from .errors import AccessDenied, BackendUnavailable, StoreError, Unsupported, call
from .metrics import MetricsReader
from .table_records import (
    DEFAULT_WINDOW,
    AutoScalingStatus,
    CapacityMetrics,
    IndexStatus,
    PitrStatus,
    ScalingTarget,
    TableDescription,
    TableStatus,
    TtlStatus,
    Unavailable,
    Window,
)

P = TypeVar("P", PitrStatus, TtlStatus)

# DynamoDB refreshes ItemCount (and TableSizeBytes) only about every six hours: asking more often buys nothing.
ITEM_COUNT_CACHE_SECONDS = 60.0
# The panels of concurrent status requests share these threads; each call ends by its request's deadline.
PANEL_THREADS = MAX_POOL_CONNECTIONS // 2


class StatusReader:
    """Reads the health of one table. Thread-safe: one per process."""

    def __init__(self, clients: Clients, table_name: str, clock: Callable[[], float] = time.monotonic):
        self._dynamodb = clients.dynamodb
        self._autoscaling = clients.autoscaling
        self.table_name = table_name
        self.metrics = MetricsReader(clients.cloudwatch, table_name)
        # The client gives up within its connect and read timeouts (one attempt); the page never waits longer.
        self.metrics_wait = clients.metrics_wait_seconds
        self._clock = clock
        self._count_lock = threading.Lock()
        self._described_cache: dict[str, Any] | None = None
        self._count_asked_at: float | None = None
        self._panels = ThreadPoolExecutor(PANEL_THREADS, thread_name_prefix="status-panel")

    def _describe_table(self) -> dict[str, Any]:
        table: dict[str, Any] = call(self._dynamodb.describe_table, self.table_name, TableName=self.table_name)["Table"]
        return table

    def approximate_count(self) -> int | None:
        """DynamoDB's ItemCount, reused for a minute (None when DescribeTable cannot answer)."""
        return self.approximate_size()[0]

    def approximate_size(self) -> tuple[int | None, int | None]:
        """DynamoDB's ItemCount and TableSizeBytes, reused for a minute.

        (None, None) when DescribeTable cannot answer; a listing page does not fail for that, and a
        failure is remembered as long as a success so a denied DescribeTable costs one call a minute.
        """
        described = self.described_table()
        if described is None:
            return None, None
        return int(described.get("ItemCount", 0)), int(described.get("TableSizeBytes", 0))

    def described_table(self) -> dict[str, Any] | None:
        """DescribeTable's "Table", reused for a minute; None (also remembered a minute) when it cannot answer."""
        now = self._clock()
        with self._count_lock:
            cached, asked_at = self._described_cache, self._count_asked_at
        if asked_at is not None and now - asked_at < ITEM_COUNT_CACHE_SECONDS:
            return cached
        try:
            fresh: dict[str, Any] | None = self._describe_table()
        except StoreError:
            fresh = None
        with self._count_lock:
            self._described_cache, self._count_asked_at = fresh, now
        return fresh

    def ping(self) -> str:
        """The table's status, straight from DescribeTable: the health check."""
        return str(self._describe_table().get("TableStatus", "UNKNOWN"))

    def status(self, window: Window = DEFAULT_WINDOW) -> TableStatus:
        """Every status panel, asked concurrently within the request's deadline.

        A panel that is denied, unsupported or timed out says why and the rest still answer; when DescribeTable
        cannot be read because DynamoDB is down, throttling, erroring or the table is missing, or when every
        DynamoDB panel is denied (the credentials themselves are refused), the whole status is unavailable.
        CloudWatch is waited for at most its own timeouts: one panel, never a reason for the page to be late.
        """
        waited_from = time.monotonic()
        metrics = self._panels.submit(carried(self._metrics), window)
        described = self._panels.submit(carried(self._described))
        pitr = self._panels.submit(carried(self._pitr))
        ttl = self._panels.submit(carried(self._ttl))
        description, description_unavailable, autoscaling = described.result()
        status = TableStatus(
            table_name=self.table_name,
            description=description,
            description_unavailable=description_unavailable,
            pitr=pitr.result(),
            ttl=ttl.result(),
            autoscaling=autoscaling,
            metrics=self._metrics_by_deadline(metrics, window, waited_from + self.metrics_wait),
        )
        panels = (status.description_unavailable, status.pitr.unavailable, status.ttl.unavailable,
                  status.autoscaling.unavailable)
        if all(panel is not None and panel.reason == "denied" for panel in panels):
            raise AccessDenied("DynamoDB refused every status call: the dashboard's credentials are refused",
                               "AccessDeniedException")
        return status

    def _described(self) -> tuple[TableDescription | None, Unavailable | None, AutoScalingStatus]:
        try:
            description = describe(self._describe_table())
        except BackendUnavailable:
            raise
        except StoreError as error:
            return None, unavailable(error), self._scaling(None)
        return description, None, self._scaling(description)

    def _metrics(self, window: Window) -> CapacityMetrics:
        try:
            return self.metrics.read(window)
        except StoreError as error:
            return self.metrics.missing(window, unavailable(error))

    def _metrics_by_deadline(self, metrics: Future[CapacityMetrics], window: Window,
                             deadline: float) -> CapacityMetrics:
        try:
            return metrics.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            return self.metrics.missing(window, Unavailable(
                "timeout", f"CloudWatch did not answer GetMetricData within {self.metrics_wait:g} s"))

    def _pitr(self) -> PitrStatus:
        return self._panel(self._dynamodb.describe_continuous_backups, _pitr_status,
                           lambda why: PitrStatus("UNKNOWN", unavailable=why))

    def _ttl(self) -> TtlStatus:
        return self._panel(self._dynamodb.describe_time_to_live, _ttl_status,
                           lambda why: TtlStatus("UNKNOWN", unavailable=why))

    def _panel(self, operation: Callable[..., Any], read: Callable[[dict[str, Any]], P],
               missing: Callable[[Unavailable], P]) -> P:
        """One panel's call: its record, or the record saying why it could not be read."""
        try:
            return read(call(operation, self.table_name, TableName=self.table_name))
        except StoreError as error:
            return missing(unavailable(error))

    def _scaling(self, description: TableDescription | None) -> AutoScalingStatus:
        resources = [f"table/{self.table_name}"]
        if description is not None:
            resources += [f"table/{self.table_name}/index/{index.name}" for index in description.indexes]
        try:
            targets = call(self._autoscaling.describe_scalable_targets, self.table_name,
                           ServiceNamespace="dynamodb", ResourceIds=resources).get("ScalableTargets", [])
            policies = call(self._autoscaling.describe_scaling_policies, self.table_name,
                            ServiceNamespace="dynamodb", ResourceId=resources[0],
                            ).get("ScalingPolicies", []) if targets else []
        except StoreError as error:
            return AutoScalingStatus([], unavailable(error))
        utilization = {
            (policy.get("ResourceId"), policy.get("ScalableDimension")):
                policy.get("TargetTrackingScalingPolicyConfiguration", {}).get("TargetValue")
            for policy in policies
        }
        return AutoScalingStatus([
            ScalingTarget(
                resource=str(target.get("ResourceId")),
                dimension=str(target.get("ScalableDimension")),
                min_capacity=int(target.get("MinCapacity", 0)),
                max_capacity=int(target.get("MaxCapacity", 0)),
                target_utilization=utilization.get((target.get("ResourceId"), target.get("ScalableDimension"))),
            )
            for target in targets
        ])


# botocore's names for an answer that did not come in time (StoreError.code when no answer came).
_TIMEOUTS = frozenset({"ReadTimeoutError", "ConnectTimeoutError"})


def _pitr_status(response: dict[str, Any]) -> PitrStatus:
    backups = response.get("ContinuousBackupsDescription", {})
    pitr = backups.get("PointInTimeRecoveryDescription", {})
    return PitrStatus(
        status=str(pitr.get("PointInTimeRecoveryStatus", "UNKNOWN")),
        earliest_restorable=pitr.get("EarliestRestorableDateTime"),
        latest_restorable=pitr.get("LatestRestorableDateTime"),
        backups_status=backups.get("ContinuousBackupsStatus"),
    )


def _ttl_status(response: dict[str, Any]) -> TtlStatus:
    ttl = response.get("TimeToLiveDescription", {})
    return TtlStatus(str(ttl.get("TimeToLiveStatus", "UNKNOWN")), ttl.get("AttributeName"))


def unavailable(error: StoreError) -> Unavailable:
    if error.code in _TIMEOUTS:
        return Unavailable("timeout", error.message)
    if isinstance(error, AccessDenied):
        return Unavailable("denied", error.message)
    if isinstance(error, Unsupported):
        return Unavailable("unsupported", error.message)
    return Unavailable("error", error.message)


def _key_schema(schema: list[dict[str, str]]) -> list[tuple[str, str]]:
    return [(str(part.get("AttributeName")), str(part.get("KeyType"))) for part in schema or []]


def _capacity(throughput: dict[str, Any] | None, billing_mode: str, name: str) -> int | None:
    if billing_mode == "PAY_PER_REQUEST" or not throughput:
        return None
    value = throughput.get(name)
    return int(value) if value is not None else None


def describe(raw: dict[str, Any]) -> TableDescription:
    """DescribeTable's answer as a record."""
    # Tables created before on-demand existed carry no summary and are provisioned.
    billing = raw.get("BillingModeSummary", {}).get("BillingMode") or "PROVISIONED"
    sse = raw.get("SSEDescription") or {}
    stream = raw.get("StreamSpecification") or {}
    indexes = [
        IndexStatus(
            name=str(index.get("IndexName")),
            status=str(index.get("IndexStatus", "UNKNOWN")),
            key_schema=_key_schema(index.get("KeySchema", [])),
            projection=str(index.get("Projection", {}).get("ProjectionType", "")),
            item_count=index.get("ItemCount"),
            size_bytes=index.get("IndexSizeBytes"),
            read_capacity=_capacity(index.get("ProvisionedThroughput"), billing, "ReadCapacityUnits"),
            write_capacity=_capacity(index.get("ProvisionedThroughput"), billing, "WriteCapacityUnits"),
            backfilling=bool(index.get("Backfilling", False)),
        )
        for index in raw.get("GlobalSecondaryIndexes", [])
    ]
    return TableDescription(
        name=str(raw.get("TableName")),
        status=str(raw.get("TableStatus", "UNKNOWN")),
        arn=raw.get("TableArn"),
        created_at=raw.get("CreationDateTime"),
        key_schema=_key_schema(raw.get("KeySchema", [])),
        attribute_types={d["AttributeName"]: d["AttributeType"] for d in raw.get("AttributeDefinitions", [])},
        item_count=raw.get("ItemCount"),
        size_bytes=raw.get("TableSizeBytes"),
        billing_mode=billing,
        read_capacity=_capacity(raw.get("ProvisionedThroughput"), billing, "ReadCapacityUnits"),
        write_capacity=_capacity(raw.get("ProvisionedThroughput"), billing, "WriteCapacityUnits"),
        indexes=indexes,
        # A table without SSEDescription is encrypted with an AWS owned key: DynamoDB always encrypts.
        sse_status=str(sse.get("Status", "ENABLED (AWS owned key)" if not sse else "UNKNOWN")),
        sse_type=sse.get("SSEType"),
        kms_key=sse.get("KMSMasterKeyArn"),
        stream_enabled=bool(stream.get("StreamEnabled", False)),
        stream_view_type=stream.get("StreamViewType"),
        table_class=str(raw.get("TableClassSummary", {}).get("TableClass", "STANDARD")),
        deletion_protection=raw.get("DeletionProtectionEnabled"),
        raw=raw,
    )
