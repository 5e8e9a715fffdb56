"""Deleting the dashboard's own test events from scripts, as JSON, by the same rules as the pages.

CSRF token in the `X-CSRFToken` header (as htmx sends it), same-site `Origin`, refused where writes are off, the
environment's name as `confirm_environment` where production asks for it; every delete is conditional on the mark.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from dashboard.questions.listing import BadParameter
from dashboard.store.deletes import DELETED, FAILED, MISSING, REFUSED, UNKNOWN

from .. import deleting
from .common import retry_later
from .test_events import STATUS

bp = Blueprint("test_events_api", __name__, url_prefix="/api")

_TITLES = {REFUSED: "Not a dashboard test event", MISSING: "Event not found", UNKNOWN: "Delete outcome unknown",
           FAILED: "Not deleted"}


def _json(status: int, document: dict[str, Any]) -> Response:
    response = jsonify(document)
    response.status_code = status
    return retry_later(response) if status == 503 else response


def _unconfirmed(ids: list[str], problem: str) -> Response:
    deleting.refused_unconfirmed(ids)
    return _json(422, {"error": "Delete not confirmed", "message": problem, "status": 422})


@bp.delete("/events/<event_id:event_id>")
def delete_event(event_id: str) -> Response:
    """200 {"deleted": id}; 403 not a test event; 404 none; 503 not done, or the answer lost (`"outcome": "unknown"`).

    A production environment that asks for it takes `{"confirm_environment": NAME}` as the body (or the query).
    """
    body = request.get_json(silent=True)
    typed = body.get("confirm_environment") if isinstance(body, dict) else request.args.get("confirm_environment")
    problem = deleting.confirmation_problem(typed)
    if problem:
        return _unconfirmed([event_id], problem)
    result = deleting.delete_one(event_id)
    if result.outcome == DELETED:
        return jsonify({"deleted": event_id})
    return _json(STATUS[result.outcome], {"error": _TITLES[result.outcome], "message": result.reason,
                                          "status": STATUS[result.outcome], "id": event_id,
                                          "outcome": result.outcome})


@bp.post("/events/delete")
def delete_events() -> Response:
    """`{"ids": [...]}` (at most 1,000): 200 {"deleted", "refused": [{"id", "reason"}], "missing", "unknown",
    "failed": [{"id", "reason"}], "summary"}; 503 with the same when DynamoDB did none of them."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("ids"), list):
        raise BadParameter('the body must be a JSON object {"ids": ["id-1", "id-2", ...]} of the events to delete')
    ids = deleting.requested_ids(body["ids"])
    problem = deleting.confirmation_problem(body.get("confirm_environment"))
    if problem:
        return _unconfirmed(ids, problem)
    report = deleting.delete_many(ids)
    return _json(503 if report.nothing_settled else 200, {
        "deleted": report.ids(DELETED),
        "refused": [{"id": result.event_id, "reason": result.reason} for result in report.of(REFUSED)],
        "missing": report.ids(MISSING),
        "unknown": report.ids(UNKNOWN),
        "failed": [{"id": result.event_id, "reason": result.reason} for result in report.of(FAILED)],
        "summary": deleting.summary(report),
    })
