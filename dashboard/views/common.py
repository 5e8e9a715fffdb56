"""What every view shares: the store, the cursors, event-id URLs and page-or-fragment rendering."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import current_app, render_template, request
from werkzeug.routing import BaseConverter

from ..cursors import Cursors
from ..store import EventStore


class EventIdConverter(BaseConverter):
    """Any non-empty id, '/' and all: ids may hold '/', '#', '%', spaces and any Unicode."""

    regex = r"[\s\S]+"  # "." would stop at a newline, which an id may hold
    part_isolating = False

    def to_url(self, value: str) -> str:
        # Every reserved character is escaped so that the id survives the round trip exactly.
        return quote(value, safe="")


def store() -> EventStore:
    return current_app.extensions["events_store"]


def cursors() -> Cursors:
    return current_app.extensions["events_cursors"]


def is_htmx() -> bool:
    # A history restore wants the whole page, like a plain request.
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def render_page_or_fragment(page: str, fragment: str, status: int = 200, **context: Any):
    """The same view answers a full page to a plain request and the fragment to htmx."""
    template = fragment if is_htmx() else page
    response = current_app.make_response((render_template(template, **context), status))
    response.vary.add("HX-Request")
    return response
