"""The dashboard's own test events, as pages: delete one or several (each answer says per id what happened), and
when DynamoDB's TTL will remove one.

Only events inserted through the form carry the mark that every delete is conditional on (store/deletes.py).
Read-only mode and locked environments refuse these posts before they get here (environments.refuse_writes).
"""
from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, request
from werkzeug.wrappers import Response

from dashboard.formats import times
from dashboard.questions.listing import BadParameter
from dashboard.store import DeleteReport
from dashboard.store.deletes import DELETED, FAILED, MISSING, REFUSED, UNKNOWN

from .. import deleting
from .common import render_page_or_fragment, retry_later, table

bp = Blueprint("test_events", __name__)

# The status of a page that deletes one event, by what came of it.
STATUS = {DELETED: 200, REFUSED: 403, MISSING: 404, UNKNOWN: 503, FAILED: 503}


@bp.post("/events/<event_id:event_id>/delete")
def delete_event(event_id: str) -> Response:
    """Delete one test event (the detail page's Delete): 200, 403 not a test event, 404, 503 not done or unknown."""
    problem = deleting.confirmation_problem(request.form.get("confirm_environment"))
    if problem:
        deleting.refused_unconfirmed([event_id])
        return render_page_or_fragment("events/delete.html", "events/_delete_form.html", status=422,
                                       event_id=event_id, confirm_error=problem,
                                       form_fragment="events/_delete_form.html")
    result = deleting.delete_one(event_id)
    return _answer(DeleteReport([result]), STATUS[result.outcome])


@bp.post("/events/delete")
def delete_events() -> Response:
    """Delete the chosen test events (form field `id`, repeated, up to 1,000): 200 with what came of each id."""
    ids = deleting.requested_ids(request.form.getlist("id"))
    problem = deleting.confirmation_problem(request.form.get("confirm_environment"))
    if problem:
        deleting.refused_unconfirmed(ids)
        return render_page_or_fragment("events/delete.html", "events/_bulk_delete.html", status=422,
                                       delete_entries=[(event_id, "") for event_id in ids], delete_checked=True,
                                       confirm_error=problem,
                                       form_fragment="events/_bulk_delete.html")
    report = deleting.delete_many(ids)
    return _answer(report, 503 if report.nothing_settled else 200)


def _answer(report: DeleteReport, status: int) -> Response:
    response = render_page_or_fragment("events/deleted.html", "events/_deleted.html", status=status, report=report,
                                       summary=deleting.summary(report))
    return retry_later(response) if status == 503 else response


@bp.get("/expiry")
def show_expiry() -> Response:
    """When DynamoDB's TTL will remove one event (`?event_id=`): a test event's page loads it on its own.

    One consistent GetItem of the id and the TTL attribute (the attribute itself is asked once a minute).
    """
    event_id = request.args.get("event_id") or ""
    if not event_id:
        raise BadParameter("event_id is empty: name the event whose expiry to show")
    removal = table().expiry.removal(event_id)
    removed_at = None
    if removal is not None and removal.epoch is not None:
        try:
            removed_at = datetime.fromtimestamp(removal.epoch, UTC)
        except (OverflowError, OSError, ValueError):
            removed_at = None
    now = datetime.now(UTC)
    return render_page_or_fragment(
        "events/expiry.html", "events/_expiry.html", event_id=event_id, removal=removal,
        removed_at=times.format_stored(removed_at) if removed_at else None,
        removed_in=times.relative(removed_at, now) if removed_at else None,
        expired=removed_at is not None and removed_at <= now)
