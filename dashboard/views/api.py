"""The same data as the pages, as JSON for scripts."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from .. import listing, present
from ..store import TableStatus
from .common import cursors, store

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/events")
def list_events():
    """One page of events (or of one timestamp): the same parameters and cursors as /events."""
    query = listing.parse_query(request.args, cursors())
    page = listing.fetch(store(), query, cursors())
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
    })


@bp.get("/events/<event_id:event_id>")
def show_event(event_id: str):
    """The item as plain JSON (numbers exact); ?format=dynamodb gives DynamoDB JSON with type tags."""
    event = store().get(event_id)
    if request.args.get("format") == "dynamodb":
        return current_app.response_class(present.wire_json(event.item), mimetype="application/json")
    return jsonify(event.values)


@bp.get("/status")
def show_status():
    return jsonify(status_json(store().status()))


def status_json(status: TableStatus) -> dict:
    table = status.description
    pitr = status.pitr
    return {
        "table_name": status.table_name,
        "status": table.status if table else "UNKNOWN",
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
            {"resource": t.resource, "dimension": t.dimension, "min": t.min_capacity, "max": t.max_capacity,
             "target_utilization": t.target_utilization}
            for t in status.autoscaling.targets
        ],
        "errors": {
            name: panel.message
            for name, panel in (("table", status.description_unavailable), ("pitr", pitr.unavailable),
                                ("ttl", status.ttl.unavailable), ("autoscaling", status.autoscaling.unavailable))
            if panel is not None
        },
    }
