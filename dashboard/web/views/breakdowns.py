"""A listing's breakdown (top values, processing lag), read on its own: GET /breakdown and /api/breakdown."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, jsonify, request, url_for
from werkzeug.wrappers import Response

from dashboard.questions import breakdown, listing
from dashboard.questions.listing import BadParameter
from dashboard.store import ReadBudget

from .common import cursors, is_htmx, read_budget, render_page_or_fragment, table

bp = Blueprint("breakdowns", __name__)


def _asked() -> tuple[breakdown.Breakdown, breakdown.Breakdown | None]:
    """The breakdown the request names, and the window before it when `compare=previous` (each on half the budget)."""
    query = listing.parse_query(request.args, cursors())
    fields = breakdown.parse_fields(request.args.get("fields"))
    compare = (request.args.get("compare") or "").strip()
    if compare not in ("", "previous"):
        raise BadParameter(f"compare must be previous (the window just before, of the same length), not {compare!r}")
    budget = read_budget()
    if not compare:
        return breakdown.count(table(), query, fields, budget), None
    earlier = breakdown.previous_query(query)
    half = ReadBudget(budget.seconds / 2, budget.rcu / 2)
    return breakdown.count(table(), query, fields, half), breakdown.count(table(), earlier, fields, half)


@bp.get("/breakdown")
def show_breakdown() -> Response:
    """The top values and lag of the listing's window; the list page loads it (htmx) or links to it."""
    made, previous = _asked()
    # To a list page (htmx) the lag chart goes beside the count timeline, out of band; on the breakdown's own page
    # (its "compare" link, with htmx too) it stays inside.
    own_page = urlsplit(request.headers.get("HX-Current-URL", "")).path == url_for("breakdowns.show_breakdown")
    return render_page_or_fragment("events/breakdown.html", "events/_breakdown.html", breakdown=made,
                                   previous=previous, lag_beside_timeline=is_htmx() and not own_page,
                                   quiet=breakdown.went_quiet(made, previous) if previous else {})


@bp.get("/api/breakdown")
def api_breakdown() -> Response:
    """The same as JSON: `fields=source,event_name`, `compare=previous`, and every parameter of /api/events."""
    made, previous = _asked()
    return jsonify(breakdown.document(made, previous))

