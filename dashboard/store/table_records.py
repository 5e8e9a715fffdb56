"""Plain records of the table's own state: its description, PITR, TTL, auto-scaling and capacity over time."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .records import TIMESTAMP_INDEX


@dataclass(frozen=True)
class Window:
    """A span of time the status page shows, and the CloudWatch period of its points."""

    name: str  # as the URL says it: 1h, 24h, 7d
    label: str
    span: timedelta
    period: int  # seconds per point

    @property
    def period_label(self) -> str:
        return f"{self.period // 60} min" if self.period < 3600 else f"{self.period // 3600} h"


WINDOWS = {window.name: window for window in (
    Window("1h", "Last hour", timedelta(hours=1), 60),
    Window("24h", "Last 24 hours", timedelta(hours=24), 300),
    Window("7d", "Last 7 days", timedelta(days=7), 3600),
)}
DEFAULT_WINDOW = WINDOWS["1h"]


@dataclass(frozen=True)
class MetricPoint:
    at: datetime  # the start of the period, UTC
    value: float


@dataclass(frozen=True)
class MetricSeries:
    """One series over the window: only the periods CloudWatch reported, oldest first."""

    key: str
    metric: str
    label: str
    unit: str
    statistic: str
    cumulative: bool
    throttle: bool
    points: list[MetricPoint]

    @property
    def latest(self) -> MetricPoint | None:
        return self.points[-1] if self.points else None

    @property
    def peak(self) -> float | None:
        return max(point.value for point in self.points) if self.points else None

    @property
    def total(self) -> float | None:
        if not self.cumulative:
            return None
        return sum(point.value for point in self.points)


@dataclass(frozen=True)
class CapacityMetrics:
    """The table's and the index's series over one window, or why CloudWatch could not say."""

    window: Window
    start: datetime
    end: datetime
    table: list[MetricSeries] = field(default_factory=list)
    index: list[MetricSeries] = field(default_factory=list)
    index_name: str = TIMESTAMP_INDEX
    unavailable: Unavailable | None = None

    def all_series(self) -> list[MetricSeries]:
        return [*self.table, *self.index]


@dataclass(frozen=True)
class Unavailable:
    """Why one status panel could not be read: the others still render."""

    reason: str  # "denied", "unsupported", "timeout" or "error"
    message: str


@dataclass(frozen=True)
class IndexStatus:
    name: str
    status: str
    key_schema: list[tuple[str, str]]
    projection: str
    item_count: int | None
    size_bytes: int | None
    read_capacity: int | None
    write_capacity: int | None
    backfilling: bool = False


@dataclass(frozen=True)
class TableDescription:
    name: str
    status: str
    arn: str | None
    created_at: datetime | None
    key_schema: list[tuple[str, str]]
    attribute_types: dict[str, str]
    item_count: int | None
    size_bytes: int | None
    billing_mode: str
    read_capacity: int | None
    write_capacity: int | None
    indexes: list[IndexStatus]
    sse_status: str
    sse_type: str | None
    kms_key: str | None
    stream_enabled: bool
    stream_view_type: str | None
    table_class: str
    deletion_protection: bool | None
    raw: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class PitrStatus:
    status: str  # ENABLED, DISABLED or UNKNOWN
    earliest_restorable: datetime | None = None
    latest_restorable: datetime | None = None
    backups_status: str | None = None
    unavailable: Unavailable | None = None


@dataclass(frozen=True)
class TtlStatus:
    status: str  # ENABLED, DISABLED, ENABLING, DISABLING or UNKNOWN
    attribute: str | None = None
    unavailable: Unavailable | None = None


@dataclass(frozen=True)
class ScalingTarget:
    resource: str
    dimension: str  # as application-autoscaling names it: dynamodb:table:ReadCapacityUnits
    min_capacity: int
    max_capacity: int
    target_utilization: float | None


@dataclass(frozen=True)
class AutoScalingStatus:
    targets: list[ScalingTarget]
    unavailable: Unavailable | None = None


@dataclass(frozen=True)
class TableStatus:
    table_name: str
    description: TableDescription | None
    description_unavailable: Unavailable | None
    pitr: PitrStatus
    ttl: TtlStatus
    autoscaling: AutoScalingStatus
    # CloudWatch's series over the window the page asked for; None when nobody asked.
    metrics: CapacityMetrics | None = None
