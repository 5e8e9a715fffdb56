"""The table's health for ops, and the health check for load balancers."""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from flask import Blueprint, Response, abort, jsonify, render_template, request

from dashboard.formats import present
from dashboard.questions import charts, health
from dashboard.settings.config import Environment
from dashboard.store import StoreError
from dashboard.store.deadline import carried
from dashboard.store.table_records import WINDOWS

from ..environments import ENVIRONMENT_KEY, Environments, current, environments
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


def _answers(found: Environments, environment: Environment) -> bool:
    try:
        found.table(environment).status.ping()
    except StoreError as error:
        log.warning("health check failed%s: %s", f" in {environment.name}" if environment.name else "", error.detail)
        return False
    return True


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when the table answers DescribeTable, 503 otherwise; open to all, so it names no table (the log does).

    With environments, /healthz asks each at once and reports each (200 while any answers); /healthz?env=NAME
    or /NAME/healthz answers 200 or 503 for that one alone.
    """
    found, name = environments(), request.args.get("env")
    if name is not None and name not in found.by_name:
        abort(404, description=f"No environment named {name!r}")
    here = request.environ.get(ENVIRONMENT_KEY)
    chosen = [found.by_name[name]] if name is not None else [current()] if here or not found.named else found.all
    with ThreadPoolExecutor(len(chosen)) as pool:
        # Each in its own thread within the request's deadline: a hung environment never makes another one late.
        asked = {environment.name: pool.submit(carried(_answers), found, environment) for environment in chosen}
        answered = {name: future.result() for name, future in asked.items()}
    if len(chosen) == 1:
        ok = next(iter(answered.values()))
        return jsonify({"status": "ok" if ok else "unavailable"}), 200 if ok else 503
    states = {name: "ok" if ok else "unavailable" for name, ok in answered.items()}
    overall = "ok" if all(answered.values()) else "degraded" if any(answered.values()) else "unavailable"
    return jsonify({"status": overall, "environments": states}), 503 if overall == "unavailable" else 200
