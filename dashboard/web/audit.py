"""Who did what: a request id for every request, and one JSON audit line per insert attempt, delete or export."""
from __future__ import annotations

import json
import logging
import re
import uuid

from flask import Flask, Response, current_app, g, request

log = logging.getLogger("dashboard.audit")
# An id from the proxy in front (X-Request-Id) is kept when it is plainly an id, so logs join up.
_REQUEST_ID = re.compile(r"\A[A-Za-z0-9._:-]{1,128}\Z")


def request_id() -> str:
    found: str = g.get("request_id") or "-"
    return found


def user_name() -> str | None:
    found: str | None = g.get("user")
    return found


def insert_attempt(event_id: object, outcome: str) -> None:
    """One line per insert attempt: who, which id, into which table (environments), what came of it, which request."""
    log.info(json.dumps({"audit": "insert", "user": user_name(), "event_id": event_id,
                         "table": current_app.config["SETTINGS"].table_name, "outcome": outcome,
                         "request_id": request_id()}, ensure_ascii=False))


def delete_attempt(event_ids: list[str], outcome: str, results: dict[str, list[str]] | None = None) -> None:
    """One line per delete request (one id or many): who, which ids, in which table, what came of each, which request.

    `outcome` is the single outcome every id had (deleted, refused, missing, unknown, failed), `mixed`, or
    `invalid` (nothing tried); `results` lists the ids of each outcome.
    """
    log.info(json.dumps({"audit": "delete", "user": user_name(), "event_ids": event_ids,
                         "table": current_app.config["SETTINGS"].table_name, "outcome": outcome,
                         "results": results or {}, "request_id": request_id()}, ensure_ascii=False))


def export_attempt(kind: str, outcome: str, **details: object) -> None:
    """One line per export: a downloaded file (`file`, with its listing) or an export to S3 (`s3`)."""
    log.info(json.dumps({"audit": "export", "kind": kind, "user": user_name(), **details, "outcome": outcome,
                         "request_id": request_id()}, ensure_ascii=False))


def register(app: Flask) -> None:
    log.setLevel(logging.INFO)
    if not logging.getLogger().handlers and not log.handlers:
        # Under gunicorn nothing configures logging: audit lines still reach stderr, one JSON object a line.
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.propagate = False

    @app.before_request
    def _identify_request() -> None:
        offered = request.headers.get("X-Request-Id", "")
        g.request_id = offered if _REQUEST_ID.match(offered) else uuid.uuid4().hex

    @app.after_request
    def _echo_request_id(response: Response) -> Response:
        response.headers.setdefault("X-Request-Id", request_id())
        return response
