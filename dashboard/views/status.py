"""The table's health for ops, and the health check for load balancers."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template

from .. import present
from ..store import StoreError
from .common import store

bp = Blueprint("status", __name__)


@bp.get("/status")
def show_status():
    """Every status panel; one whose API is denied or unsupported says so and the rest still render."""
    table_status = store().status()
    raw = table_status.description.raw if table_status.description else None
    return render_template(
        "status.html",
        status=table_status,
        findings=present.findings(table_status),
        raw_describe=present.dumps(raw, indent=2, sort_keys=True, default=str) if raw else None,
    )


@bp.get("/healthz")
def healthz():
    """200 when the table answers DescribeTable, 503 otherwise."""
    try:
        table_status = store().ping()
    except StoreError as error:
        return jsonify({"status": "unavailable", "table": store().table_name, "error": error.message}), 503
    return jsonify({"status": "ok", "table": store().table_name, "table_status": table_status})
