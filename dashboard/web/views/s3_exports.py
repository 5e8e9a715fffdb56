"""DynamoDB's own export of the whole table to S3, started and followed from the status page: /status/exports."""
from __future__ import annotations

import re
import uuid
from typing import Any

from flask import Blueprint, current_app, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from dashboard.questions.listing import BadParameter
from dashboard.settings.config import Settings
from dashboard.store import AccessDenied, StoreError, Unsupported
from dashboard.store.s3_exports import ExportRefused
from dashboard.store.status import unavailable

from .. import audit
from .common import render_page_or_fragment, table

bp = Blueprint("s3_exports", __name__)
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
    return {"export_destination": _destination(settings), "export_client_token": uuid.uuid4().hex}


def _destination(settings: Settings) -> str | None:
    """Where an export to S3 goes (the table's name is the prefix unless EXPORT_S3_PREFIX names one)."""
    if not settings.export_s3_bucket:
        return None
    return f"s3://{settings.export_s3_bucket}/{settings.export_s3_prefix or table().name}/"


@bp.get("/status/exports")
def show_s3_exports() -> Response:
    """The table's exports to S3 and their progress (the status page loads this panel on its own)."""
    try:
        found, missing = table().s3_exports.s3_exports(), None
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
        started = table().s3_exports.start_s3(settings.export_s3_bucket, settings.export_s3_prefix, token)
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
