"""The table's health rules, decided once: each state's level, the findings on /status, the /api/status document."""
from __future__ import annotations

from typing import Any, Literal

from dashboard.store import TableStatus
from dashboard.store.table_records import CapacityMetrics, MetricSeries

Level = Literal["ok", "warn", "bad", "neutral"]

LEVEL_LABELS: dict[str, str] = {"ok": "OK", "warn": "Check", "bad": "Problem", "neutral": "Off"}

_GOOD = frozenset({"ACTIVE", "ENABLED", "ENABLED (AWS owned key)"})
# States a resource passes through on its own: worth a look, not an alarm.
_CHANGING = frozenset({"CREATING", "UPDATING", "ENABLING", "DISABLING"})
# Throttled in this many consecutive periods of the window (3 minutes, 15 minutes or 3 hours): sustained.
SUSTAINED_PERIODS = 3
# Consumption at this share of the provisioned capacity, at its peak, leaves too little headroom.
NEAR_PROVISIONED = 0.8


def level(state: str | None, subject: str = "resource") -> Level:
    """The level of one reported state: the status page's badges and its findings both ask here.

    `subject` is "resource" (table, index, encryption), "pitr" (off is a warning, not a failure)
    or "feature" (a stream or TTL that is off is simply off).
    """
    if state in _GOOD:
        return "ok"
    if state in _CHANGING:
        return "warn"
    if state == "DISABLED" and subject == "pitr":
        return "warn"
    if state in ("DISABLED", "off") and subject == "feature":
        return "neutral"
    return "bad"


def findings(status: TableStatus) -> list[tuple[Level, str]]:
    """(level, message) for what ops should look at on /status, worst first."""
    found: list[tuple[Level, str]] = []
    table = status.description
    if table is None:
        found.append(("bad", "DescribeTable did not answer"))
    else:
        if table.status != "ACTIVE":
            found.append((level(table.status), f"Table is {table.status}, not ACTIVE"))
        for index in table.indexes:
            if index.status != "ACTIVE":
                found.append((level(index.status), f"Index {index.name} is {index.status}, not ACTIVE"))
        if table.billing_mode == "PROVISIONED" and not status.autoscaling.targets:
            capacities = (table.read_capacity, table.write_capacity)
            if any(capacity is not None and capacity <= 5 for capacity in capacities):
                found.append(("warn", "Provisioned capacity of 5 units or less without auto-scaling: "
                                      "prone to throttling"))
    found += throttling(status.metrics) + near_provisioned(status)
    if status.pitr.status == "DISABLED":
        found.append((level("DISABLED", "pitr"),
                      "Point-in-time recovery is off: the table cannot be restored to a recent second"))
    elif status.pitr.status != "ENABLED":
        found.append(("warn", "Point-in-time recovery status is unknown"))
    if not found:
        found.append(("ok", "Table and indexes ACTIVE, point-in-time recovery on"))
    order = {"bad": 0, "warn": 1, "neutral": 2, "ok": 3}
    return sorted(found, key=lambda finding: order[finding[0]])


def throttling(metrics: CapacityMetrics | None) -> list[tuple[Level, str]]:
    """Throttling in the window is a warning; in SUSTAINED_PERIODS consecutive periods or more, a problem."""
    if metrics is None:
        return []
    throttled = [(scope, series) for scope, group in (("table", metrics.table), ("index", metrics.index))
                 for series in group if series.throttle and series.total]
    if not throttled:
        return []
    counts = ", ".join(f"{series.total:,.0f} {series.label.lower()}"
                       + (f" on {metrics.index_name}" if scope == "index" else "") for scope, series in throttled)
    periods = sorted({point.at for _, series in throttled for point in series.points if point.value > 0})
    longest = run = 1
    for before, after in zip(periods, periods[1:], strict=False):
        run = run + 1 if (after - before).total_seconds() == metrics.window.period else 1
        longest = max(longest, run)
    where = f"{metrics.window.label.lower()}: {counts}"
    if longest >= SUSTAINED_PERIODS:
        return [("bad", f"Sustained throttling, {longest} periods of {metrics.window.period_label} in a row, in the "
                        f"{where}")]
    return [("warn", f"Throttling in the {where}")]


def near_provisioned(status: TableStatus) -> list[tuple[Level, str]]:
    """Peak consumption (per second, over a period) at NEAR_PROVISIONED of a provisioned capacity or more."""
    table, metrics = status.description, status.metrics
    if table is None or metrics is None or table.billing_mode != "PROVISIONED":
        return []
    index = next((index for index in table.indexes if index.name == metrics.index_name), None)
    found: list[tuple[Level, str]] = []
    for owner, provisioned, group in ((f"Table {table.name}", table, metrics.table),
                                      (f"Index {metrics.index_name}", index, metrics.index)):
        if provisioned is None:
            continue
        capacities = {"ConsumedReadCapacityUnits": provisioned.read_capacity,
                      "ConsumedWriteCapacityUnits": provisioned.write_capacity}
        for series in group:
            capacity = capacities.get(series.metric)
            if not capacity or series.peak is None:
                continue
            per_second = series.peak / metrics.window.period
            if per_second >= NEAR_PROVISIONED * capacity:
                found.append(("warn", f"{owner}: {series.label.lower()} peaked at {per_second:,.1f} {series.unit}/s, "
                                      f"{per_second / capacity:.0%} of the provisioned {capacity} {series.unit}"))
    return found


def dimension_label(dimension: str) -> str:
    """'dynamodb:table:ReadCapacityUnits' -> 'ReadCapacityUnits'."""
    return dimension.rsplit(":", 1)[-1]


def status_document(status: TableStatus) -> dict[str, Any]:
    """The table's health as /api/status answers it: the same facts and findings as the /status page."""
    table = status.description
    pitr = status.pitr
    return {
        "table_name": status.table_name,
        "status": table.status if table else "UNKNOWN",
        "findings": [{"level": finding_level, "message": message} for finding_level, message in findings(status)],
        "item_count": table.item_count if table else None,
        "size_bytes": table.size_bytes if table else None,
        "billing_mode": table.billing_mode if table else None,
        "read_capacity": table.read_capacity if table else None,
        "write_capacity": table.write_capacity if table else None,
        "key_schema": [{"attribute": name, "type": kind} for name, kind in table.key_schema] if table else [],
        "indexes": [
            {"name": index.name, "status": index.status, "item_count": index.item_count,
             "size_bytes": index.size_bytes, "read_capacity": index.read_capacity,
             "write_capacity": index.write_capacity}
            for index in (table.indexes if table else [])
        ],
        "pitr": {
            "status": pitr.status if pitr.status in ("ENABLED", "DISABLED") else "UNKNOWN",
            "earliest_restorable": pitr.earliest_restorable.isoformat() if pitr.earliest_restorable else None,
            "latest_restorable": pitr.latest_restorable.isoformat() if pitr.latest_restorable else None,
            "error": pitr.unavailable.message if pitr.unavailable else None,
        },
        "encryption": {"status": table.sse_status, "type": table.sse_type} if table else None,
        "stream": {"enabled": table.stream_enabled, "view_type": table.stream_view_type} if table else None,
        "ttl": {"status": status.ttl.status, "attribute": status.ttl.attribute},
        "table_class": table.table_class if table else None,
        "deletion_protection": table.deletion_protection if table else None,
        "autoscaling": [
            {"resource": t.resource, "dimension": t.dimension, "min": t.min_capacity,
             "max": t.max_capacity, "target_utilization": t.target_utilization}
            for t in status.autoscaling.targets
        ],
        "metrics": metrics_document(status.metrics),
        "errors": {
            name: panel.message
            for name, panel in (("table", status.description_unavailable), ("pitr", pitr.unavailable),
                                ("ttl", status.ttl.unavailable), ("autoscaling", status.autoscaling.unavailable),
                                ("metrics", status.metrics.unavailable if status.metrics else None))
            if panel is not None
        },
    }


def metrics_document(metrics: CapacityMetrics | None) -> dict[str, Any] | None:
    """CloudWatch's series as /api/status carries them: the numbers the panel draws, point by point."""
    if metrics is None:
        return None

    def series_document(series: MetricSeries) -> dict[str, Any]:
        latest = series.latest
        return {
            "key": series.key, "metric": series.metric, "label": series.label, "unit": series.unit,
            "statistic": series.statistic,
            "latest": {"at": latest.at.isoformat(), "value": latest.value} if latest else None,
            "peak": series.peak, "total": series.total,
            "points": [{"at": point.at.isoformat(), "value": point.value} for point in series.points],
        }

    return {
        "window": metrics.window.name, "period_seconds": metrics.window.period,
        "start": metrics.start.isoformat(), "end": metrics.end.isoformat(),
        "available": metrics.unavailable is None,
        "error": {"reason": metrics.unavailable.reason, "message": metrics.unavailable.message}
        if metrics.unavailable else None,
        "table": [series_document(series) for series in metrics.table],
        "index": {"name": metrics.index_name, "series": [series_document(series) for series in metrics.index]},
    }
