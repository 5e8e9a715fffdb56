"""Freshness: GET /freshness (the line every events page and the status page load on their own) and
GET /api/freshness (200 while the newest event is younger than max_age, else 503: for alarms and uptime probes)."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, jsonify, request
from werkzeug.wrappers import Response

from dashboard.questions import freshness

from .common import read_budget, render_page_or_fragment, retry_later, table

bp = Blueprint("freshness", __name__)


def _never_cached(response: Response) -> Response:
    # A probe behind a proxy must ask the table every time, never read an earlier answer.
    response.headers["Cache-Control"] = "no-store, max-age=0"
    response.headers["Pragma"] = "no-cache"
    return response


@bp.get("/freshness")
def show_freshness() -> Response:
    """The freshness line: when the newest event arrived and how many in the last 5 minutes, and what it cost."""
    found = freshness.read(table(), datetime.now(UTC), read_budget())
    return _never_cached(render_page_or_fragment("events/freshness.html", "events/_freshness.html",
                                                 freshness=found))


@bp.get("/api/freshness")
def api_freshness() -> Response:
    """200 {"fresh": true, ...} while the newest event is younger than `max_age` (default 15m), else 503 with a
    reason; a bad max_age is a 400."""
    max_age = freshness.parse_max_age(request.args.get("max_age"))
    found = freshness.read(table(), datetime.now(UTC), read_budget(), max_age)
    response = jsonify(freshness.document(found))
    if not found.fresh:
        response.status_code = 503
        retry_later(response)
    return _never_cached(response)
