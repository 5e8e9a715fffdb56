"""What every view shares: table, cursors, read budget, event-id URLs, read-only guard, page-or-fragment rendering."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from flask import Response, abort, current_app, has_request_context, render_template, request, url_for
from werkzeug.routing import BaseConverter

from dashboard.questions import listing, windows
from dashboard.questions.cursors import Cursors
from dashboard.settings.config import Settings
from dashboard.store import RETRY_AFTER_SECONDS, ReadBudget, Table
from dashboard.store.records import Event
from dashboard.store.table_records import DEFAULT_WINDOW, WINDOWS, Window

from .. import columns as chosen, rows
from ..environments import current, current_table, environments

# gunicorn's limit_request_line is 8190: every link the app makes stays under it with "GET " and " HTTP/1.1".
MAX_LINK_LENGTH = 8000


class EventIdConverter(BaseConverter):
    """Any non-empty id, '/' and all: ids may hold '/', '#', '%', spaces and any Unicode."""

    regex = r"[\s\S]+"  # "." would stop at a newline, which an id may hold
    part_isolating = False

    def to_url(self, value: str) -> str:
        # Every reserved character is escaped so that the id survives the round trip exactly.
        return quote(value, safe="")


# Stands for an event id in the one url_for a list page makes for all its rows; quote() leaves it as it is.
_ANY_ID = "EVENT-ID"


def detail_links() -> Callable[[str], str]:
    """Makes each event's page URL, exactly as url_for would, from one url_for call per page (a list has 100 rows).

    The links carry no way back: that is the list's URL, up to kilobytes deep in the table, and it is added
    once per click (static/app.js, from the table's data-back) or read from the Referer (show_event).
    """
    before, _, after = url_for("events.show_event", event_id=_ANY_ID).rpartition(_ANY_ID)
    return lambda event_id: before + quote(event_id, safe="") + after


# Fixed links remembered at most: a dozen per mount point (environments, the prefixes of a trusted proxy).
_REMEMBERED_LINKS = 1024


def remembered_links(build: Callable[..., str]) -> Callable[..., str]:
    """`url_for` for templates: a link that takes no values (nav, forms, static files) is built once per mount point.

    A page has a dozen such links, each the same for every request under one SCRIPT_NAME (the environment's
    segment, a proxy's prefix); links with values (cursors, searches, ids) are built each time, as before.
    """
    remembered: dict[tuple[str, str, str | None], str] = {}

    def url_for(endpoint: str, **values: Any) -> str:
        if (endpoint.startswith(".") or not has_request_context()
                or (values and (endpoint != "static" or values.keys() != {"filename"}))):
            return build(endpoint, **values)
        key = (request.environ.get("SCRIPT_NAME", ""), endpoint, values.get("filename"))
        found = remembered.get(key)
        if found is None:
            if len(remembered) >= _REMEMBERED_LINKS:
                remembered.clear()
            found = remembered[key] = build(endpoint, **values)
        return found

    return url_for


def event_rows(events: Iterable[Event]) -> list[rows.Row]:
    """The rows of the events table, each formatted once (the template only places them)."""
    return rows.list_rows(events, detail_links(), datetime.now(UTC))


def chosen_rows(events: Iterable[Event], columns: tuple[str, ...]) -> list[chosen.ChosenRow]:
    """The rows of an events table whose columns were chosen (`columns=`)."""
    return chosen.chosen_rows(events, columns, detail_links())


def table() -> Table:
    """The table of the request's environment (environments.py), its clients built on first use."""
    return current_table()


def requested_window() -> Window:
    """The status page's metrics window, `?window=1h|24h|7d`; anything else is a 400."""
    name = request.args.get("window", DEFAULT_WINDOW.name)
    if name not in WINDOWS:
        abort(400, description=f"window must be one of {', '.join(WINDOWS)}, not {name!r}")
    return WINDOWS[name]


def retry_later(response: Response) -> Response:
    """A 503 says when it is worth asking again."""
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def search_form() -> dict[str, Any]:
    """What the search form shows besides the query: the page sizes offered and the quick ranges up to now."""
    # Relative links (from=now-15m&to=now): they never go stale on an open page or as a bookmark.
    return {"page_sizes": listing.PAGE_SIZES, "quick_ranges": windows.relative_quick_ranges()}


def cursors() -> Cursors:
    """Page tokens bound to the request's environment: a cursor of another one is a 400 here."""
    return environments().cursors(current())


def read_budget() -> ReadBudget:
    """What one filtered or range page may spend (READ_BUDGET_SECONDS, READ_BUDGET_RCU)."""
    settings: Settings = current_app.config["SETTINGS"]
    return ReadBudget(settings.read_budget_seconds, settings.read_budget_rcu)


def is_htmx() -> bool:
    # A history restore wants the whole page, like a plain request.
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def render_page_or_fragment(page: str, fragment: str, status: int = 200, **context: Any) -> Response:
    """The same view answers a full page to a plain request and the fragment to htmx."""
    template = fragment if is_htmx() else page
    response = current_app.make_response((render_template(template, **context), status))
    response.vary.add("HX-Request")
    return response
