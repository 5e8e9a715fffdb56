"""The table's health for ops, and the health check for load balancers."""
from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, render_template

from .. import charts, health, present
from ..store import StoreError
from ..store.metrics import WINDOWS
from .common import requested_window, table

bp = Blueprint("status", __name__)
log = logging.getLogger(__name__)


@bp.get("/status")
def show_status() -> str:
    """Every status panel; one whose API is denied or unsupported says so and the rest still render."""
    table_status = table().status.status(requested_window())
    raw = table_status.description.raw if table_status.description else None
    return render_template(
        "status.html",
        status=table_status,
        findings=health.findings(table_status),
        raw_describe=present.dumps(raw, indent=2, sort_keys=True, default=str) if raw else None,
        windows=WINDOWS.values(),
        sparkline=charts.for_series,
        metric_value=present.metric_value,
    )


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when the table answers DescribeTable, 503 otherwise; open to all, so it names nothing (the log does)."""
    try:
        table().status.ping()
    except StoreError as error:
        log.warning("health check failed: %s", error.detail)
        return jsonify({"status": "unavailable"}), 503
    return jsonify({"status": "ok"}), 200
