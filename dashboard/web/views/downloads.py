"""The current listing as a downloaded file (CSV or JSON Lines): GET /export/events."""
from __future__ import annotations

import itertools
from typing import Any

from flask import Blueprint, current_app, request, stream_with_context
from werkzeug.wrappers import Response

from dashboard.questions import downloads, listing
from dashboard.settings.config import Settings

from .. import audit
from .common import cursors, read_budget, table

bp = Blueprint("downloads", __name__)
# A listing's own paging does not apply to a file: it holds every page.
_NOT_FOR_FILES = ("format", "cursor", "limit")


@bp.app_context_processor
def _download_context() -> dict[str, Any]:
    settings: Settings = current_app.config["SETTINGS"]
    return {"export_max_items": settings.export_max_items}


@bp.get("/export/events")
def export_events() -> Response:
    """Every event of the listing the query names (all, a second, a range; filtered) as CSV or JSON Lines.

    Read and sent a page at a time. A failure before the first page is the usual error page; after it,
    the file ends with a note saying it is incomplete.
    """
    settings: Settings = current_app.config["SETTINGS"]
    export_format = downloads.parse_format(request.args.get("format"))
    query = listing.parse_query({name: value for name, value in request.args.items() if name not in _NOT_FOR_FILES},
                                cursors())
    pages = downloads.pages(table(), query, read_budget(), settings.deadline_seconds)
    first = next(pages)
    audit.export_attempt("file", "started", format=export_format,
                         listing={name: value for name, value in query.link_args().items() if name != "limit"})
    body = downloads.stream(export_format, itertools.chain([first], pages), settings.export_max_items)
    response = current_app.response_class(stream_with_context(body),
                                            content_type=downloads.FORMATS[export_format])
    name = downloads.file_name(table().name, query, export_format)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
