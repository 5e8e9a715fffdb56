"""Exports: the current listing as a downloaded file, and the whole table to S3 by DynamoDB itself."""
from __future__ import annotations

import itertools
import re
import uuid
from typing import Any

from flask import Blueprint, current_app, flash, redirect, request, stream_with_context, url_for
from werkzeug.wrappers import Response

from .. import audit, exports, listing
from ..config import Settings
from ..listing import BadParameter
from ..store import AccessDenied, StoreError, Unsupported
from ..store.exports import ExportRefused
from ..store.status import unavailable
from .common import cursors, read_budget, render_page_or_fragment, table

bp = Blueprint("exports", __name__)
# A listing's own paging does not apply to a file: it holds every page.
_NOT_FOR_FILES = ("format", "cursor", "limit")
# DynamoDB's ClientToken: at most 64 characters; the form carries a uuid4 in hex.
_CLIENT_TOKEN = re.compile(r"\A[A-Za-z0-9-]{1,64}\Z")
PERMISSIONS = ("; the dashboard's role needs dynamodb:ExportTableToPointInTime on the table and s3:PutObject, "
               "s3:AbortMultipartUpload and s3:PutObjectAcl on the bucket")
NO_BUCKET = "set EXPORT_S3_BUCKET (and optionally EXPORT_S3_PREFIX) to enable the export to S3"


def _settings() -> Settings:
    found: Settings = current_app.config["SETTINGS"]
    return found


@bp.app_context_processor
def _export_context() -> dict[str, Any]:
    settings = _settings()
    # A fresh client token per rendering of the export form: submitting that form twice starts one export.
    return {"export_max_items": settings.export_max_items, "export_destination": _destination(settings),
            "export_client_token": uuid.uuid4().hex}


def _destination(settings: Settings) -> str | None:
    """Where an export to S3 goes (the table's name is the prefix unless EXPORT_S3_PREFIX names one)."""
    if not settings.export_s3_bucket:
        return None
    return f"s3://{settings.export_s3_bucket}/{settings.export_s3_prefix or table().name}/"


@bp.get("/export/events")
def export_events() -> Response:
    """Every event of the listing the query names (all, a second, a range; filtered) as CSV or JSON Lines.

    Read and sent a page at a time. A failure before the first page is the usual error page; after it,
    the file ends with a note saying it is incomplete.
    """
    settings = _settings()
    export_format = exports.parse_format(request.args.get("format"))
    query = listing.parse_query({name: value for name, value in request.args.items() if name not in _NOT_FOR_FILES},
                                cursors())
    pages = exports.pages(table(), query, read_budget(), settings.deadline_seconds)
    first = next(pages)
    audit.export_attempt("file", "started", format=export_format,
                         listing={name: value for name, value in query.link_args().items() if name != "limit"})
    body = exports.stream(export_format, itertools.chain([first], pages), settings.export_max_items)
    response = current_app.response_class(stream_with_context(body),
                                            content_type=exports.FORMATS[export_format])
    name = exports.file_name(table().name, query, export_format)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/status/exports")
def show_s3_exports() -> Response:
    """The table's exports to S3 and their progress (the status page loads this panel on its own)."""
    try:
        found, missing = table().exports.s3_exports(), None
    except (AccessDenied, Unsupported) as error:
        found, missing = None, unavailable(error)
    return render_page_or_fragment("status/exports.html", "status/_exports.html", s3_exports=found,
                                   exports_unavailable=missing)


@bp.post("/status/exports")
def start_s3_export() -> Response:
    """Start DynamoDB's export of the whole table to EXPORT_S3_BUCKET (read-only mode refuses it: common.py).

    The form's client token makes a double submit start one export. Every attempt leaves one audit line.
    """
    settings = _settings()
    token = (request.form.get("client_token") or "").strip()
    destination = _destination(settings)
    if not _CLIENT_TOKEN.match(token):
        audit.export_attempt("s3", "invalid", destination=destination)
        raise BadParameter("client_token must be 1 to 64 letters, digits or '-': reload the status page")
    if not settings.export_s3_bucket:
        audit.export_attempt("s3", "refused", destination=destination)
        return _not_started(409, NO_BUCKET)
    try:
        started = table().exports.start_s3(settings.export_s3_bucket, settings.export_s3_prefix, token)
    except StoreError as error:
        outcome, status = _refusal(error)
        audit.export_attempt("s3", outcome, destination=destination)
        if status is None:
            raise
        return _not_started(status, error.message + (PERMISSIONS if status == 403 else ""))
    audit.export_attempt("s3", "started", destination=destination, export_arn=started.arn)
    flash(f"Export to {started.location} started ({started.status}).", "export")
    return redirect(url_for("status.show_status", _anchor="export"), code=303)


def _refusal(error: StoreError) -> tuple[str, int | None]:
    """(audit outcome, status) of an export DynamoDB did not start; None: the usual error page (a 503, say)."""
    for kind, outcome, status in ((ExportRefused, "refused", 409), (Unsupported, "unsupported", 409),
                                  (AccessDenied, "denied", 403)):
        if isinstance(error, kind):
            return outcome, status
    return "unavailable", None


def _not_started(status: int, reason: str) -> Response:
    return render_page_or_fragment("status/exports.html", "status/_exports.html", status=status, s3_exports=None,
                                   exports_unavailable=None, not_started=reason)
