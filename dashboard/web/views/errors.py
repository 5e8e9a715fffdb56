"""One place that turns every failure into a clear page or JSON answer with the right status, never a traceback."""
from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from dashboard import store
from dashboard.questions.query import QueryError

from .common import is_htmx, retry_later, search_form

log = logging.getLogger(__name__)

_STORE_STATUS = (
    (store.EventNotFound, 404, "Event not found"),
    (store.EventExists, 409, "Event already exists"),
    (store.Rejected, 400, "Request rejected by DynamoDB"),
    (store.Throttled, 503, "DynamoDB is throttling"),
    (store.TableMissing, 503, "Table not found"),
    (store.AccessDenied, 503, "Access to DynamoDB denied"),
    (store.BackendUnavailable, 503, "DynamoDB unavailable"),
)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz" or (
        request.accept_mimetypes.best == "application/json")


def error_response(status: int, title: str, message: str, query_error: QueryError | None = None) -> Response:
    if _wants_json():
        response = jsonify({"error": title, "message": message, "status": status})
        response.status_code = status
    elif is_htmx():
        # htmx swaps error answers too (see base.html): this one lands in the alert region.
        response = Flask.response_class(render_template("errors/_message.html", status=status, title=title,
                                                        message=message, retry_after=store.RETRY_AFTER_SECONDS),
                                        status=status)
        response.headers["HX-Retarget"] = "#alerts"
        response.headers["HX-Reswap"] = "innerHTML"
        # The address bar keeps the page that is shown: an answer that failed is never pushed into history.
        response.headers["HX-Push-Url"] = "false"
    elif request.endpoint == "events.list_events" and request.method == "GET":
        # A search that could not be answered keeps its form, filled in as typed, to be corrected in place.
        response = Flask.response_class(render_template(
            "events/search_error.html", status=status, title=title, message=message, query_error=query_error,
            retry_after=store.RETRY_AFTER_SECONDS, **search_form()), status=status)
    else:
        response = Flask.response_class(render_template("errors/error.html", status=status, title=title,
                                                        message=message, retry_after=store.RETRY_AFTER_SECONDS),
                                        status=status)
    response.vary.add("HX-Request")
    return retry_later(response) if status == 503 else response


def register(app: Flask) -> None:
    @app.errorhandler(store.StoreError)
    def _store_error(error: store.StoreError) -> Response:
        for kind, status, title in _STORE_STATUS:
            if isinstance(error, kind):
                if status >= 500 or isinstance(error, store.Rejected):
                    log.warning("%s: %s", title, error.detail)
                return error_response(status, title, error.message)
        log.error("unmapped store error: %s", error.detail)
        return error_response(503, "DynamoDB unavailable", error.message)

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> Response:
        return error_response(400, "Form expired or forged",
                              f"{error.description} Reload the form and submit it again; nothing was written.")

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        return error_response(error.code or 500, error.name, error.description or error.name,
                              error if isinstance(error, QueryError) else None)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(500, "Internal error",
                              "The dashboard failed to answer this request; the error is in its log.")
