"""The live tail's poll: the rows that arrived since the last poll, as a fragment the page's script prepends."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, render_template, request
from werkzeug.wrappers import Response

from dashboard.questions import tail
from dashboard.settings.config import Settings

from .common import cursors, read_budget, table

bp = Blueprint("tail", __name__)


@bp.get("/tail")
def poll_tail() -> Response:
    """One poll: the settled seconds after `after` (and `after_id`), with the page's filters; newest first.

    Not under /events/, where it would hide an event whose id is "tail".
    """
    query = tail.parse_query(request.args)
    settings: Settings = current_app.config["SETTINGS"]
    found = tail.poll(table(), query, datetime.now(UTC), settings.tail_settle_seconds, cursors(), read_budget())
    # Its rows' links carry no way back, as the list's do not: app.js adds it when one is opened.
    return current_app.make_response(render_template("events/_tail_batch.html", poll=found))
