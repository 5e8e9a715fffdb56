"""What the events pages add for windows that end now: the landing page's window, its storage-order fallback and
the auto-refresh choices (the pages themselves are in events.py)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import request, url_for

from dashboard.questions import listing, windows
from dashboard.questions.listing import BadParameter, Listing

from .common import cursors, read_budget, table

# What the landing page takes from its own URL: the rest of its window is fixed (the search form asks for others).
LANDING_PARAMETERS = ("limit", "refresh", "plan", *listing.FILTER_PARAMETERS)
REFRESH_LABELS = {None: "off", "10s": "10 s", "30s": "30 s", "1m": "1 min"}


def args(asked: Mapping[str, str]) -> dict[str, str]:
    """The landing page's query: the last minutes, newest first, ending now; its page size, filters and refresh."""
    found = {"from": windows.LANDING_FROM, "to": windows.LANDING_TO, "order": "desc"}
    found.update({name: asked[name] for name in LANDING_PARAMETERS if name in asked})
    return found


def refresh(asked: Mapping[str, str]) -> str | None:
    """`refresh=10s|30s|1m`: how often the page reloads itself; off or absent: never; anything else is a 400."""
    try:
        return windows.parse_refresh(asked.get("refresh"))
    except ValueError as error:
        raise BadParameter(str(error)) from None


def _fallback(page: Listing) -> Listing | None:
    """The table's first page in storage order, below the landing window's finding when that window is empty (or
    its read budget ran out before it found any): one Scan, so that a table whose last event is old still shows rows."""
    if page.page.events or page.has_prev or (page.next_cursor and not page.page.budget_spent):
        return None
    query = listing.parse_query({"limit": str(page.query.limit)}, cursors())
    return listing.fetch(table(), query, cursors(), read_budget())


def _refresh_links(chosen: str | None) -> list[tuple[str, str, bool]]:
    """(label, URL, chosen) of each auto-refresh period for this very page; off drops the parameter."""
    kept: dict[str, Any] = {name: value for name, value in request.args.items() if name not in ("refresh", "cursor")}
    return [(label, url_for(request.endpoint or "events.index", **({**kept, "refresh": value} if value else kept)),
             value == chosen) for value, label in REFRESH_LABELS.items()]


def context(page: Listing, chosen: str | None, landing: bool) -> dict[str, Any]:
    """The landing page's fallback, and the auto-refresh offered on the first page of a window that ends now."""
    time_range = page.query.range
    ends_now = time_range is not None and windows.ends_now(time_range.relative) and not page.has_prev
    return {
        "landing": landing,
        "fallback": _fallback(page) if landing else None,
        "ends_now": ends_now,
        "refresh": chosen if ends_now else None,
        "refresh_seconds": windows.REFRESH_CHOICES.get(chosen or "", 0) if ends_now else 0,
        "refresh_links": _refresh_links(chosen) if ends_now else [],
    }
