"""The same data as the pages, as JSON for scripts."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from dashboard.formats import present
from dashboard.questions import health, listing, timeline

from .common import cursors, read_budget, requested_window, table

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/events")
def list_events() -> Response:
    """One page of events (of one timestamp, of a range; filtered): the same parameters and cursors as /events."""
    query = listing.parse_query(request.args, cursors())
    page = listing.fetch(table(), query, cursors(), read_budget())
    return jsonify({
        "items": [event.values for event in page.page.events],
        "next_cursor": page.next_cursor,
        "prev_cursor": page.prev_cursor,
        "has_prev": page.has_prev,
        "page": page.number,
        "limit": query.limit,
        "timestamp": query.timestamp,
        "consumed_capacity": page.page.consumed_rcu,
        "scanned_count": page.page.scanned_count,
        **present.read_report(page),
    })


@bp.get("/timeline")
def show_timeline() -> Response:
    """A range's events per bucket and its total, or one second's total: the same parameters as /timeline."""
    query = listing.parse_query(request.args, cursors())
    return jsonify(timeline.document(timeline.count(table(), query, read_budget())))


@bp.get("/events/<event_id:event_id>")
def show_event(event_id: str) -> Response:
    """The item as plain JSON (numbers exact); ?format=dynamodb gives DynamoDB JSON with type tags."""
    event = table().events.get(event_id)
    if request.args.get("format") == "dynamodb":
        return current_app.response_class(present.wire_json(event.item), mimetype="application/json")
    return jsonify(event.values)


@bp.get("/status")
def show_status() -> Response:
    """The table's health: the same facts, findings and metrics (`?window=1h|24h|7d`) as /status."""
    return jsonify(health.status_document(table().status.status(requested_window())))
