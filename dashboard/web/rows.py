"""What each row of the events table shows, made once per row in Python (pure): a list page's cost is per cell.

A page of 100 rows has about 2,000 places where a value goes. Formatting each with a template filter,
from every attribute of every item converted to Python values, and escaping each as it was placed,
was most of what the page cost over its DynamoDB call. Here only the nine shown attributes are read,
each cell's text is the one present.cell, human_bytes, ago and lag make, and each text is escaped
once (a value repeated down the page, such as a bucket or an event name, once per page).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, NamedTuple

from markupsafe import Markup, escape

from dashboard.formats import present, times
from dashboard.store.records import Event

COLUMNS = ("event_id", "event_type", "source", "key", "event_name", "size", "content_type", "timestamp",
           "processed_at")
# The stored form, whole seconds in UTC: read straight by fromisoformat, its lag in whole seconds.
_STORED = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\Z")
_TEXT = (str, type(None))  # stored values whose phrases a page remembers, by the pair of them


class Row(NamedTuple):
    """One event as the list shows it, every text escaped for HTML already; None where the attribute is absent.

    A NamedTuple rather than a frozen dataclass: made 100 times a page, and a frozen dataclass sets each of its
    13 fields through object.__setattr__ (about 1 µs a row more)."""

    event_id: Markup
    href: Markup
    event_type: Markup
    source: Markup
    key: Markup
    event_name: Markup
    content_type: Markup
    size: Markup | None  # the exact number, for the title
    size_human: Markup
    timestamp: Markup | None
    ago: Markup
    processed_at: Markup | None
    lag: Markup


class _Page:
    """What one page's rows share: the moment "3 h ago" counts from, and texts already escaped."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self._escaped: dict[str, Markup] = {}
        self._phrases: dict[tuple[str | None, str | None], tuple[Markup, Markup]] = {}

    def html(self, text: str) -> Markup:
        found = self._escaped.get(text)
        if found is None:
            found = self._escaped[text] = escape(text)
        return found

    def cell(self, value: Any) -> Markup:
        return self.html(value if type(value) is str else present.cell(value))

    def optional(self, value: Any) -> Markup | None:
        return None if value is None else self.cell(value)

    def moment_phrases(self, values: dict[str, Any]) -> tuple[Markup, Markup]:
        """(how long ago the event happened, its processing lag): made once per pair of stored values on a page
        (a search for one second, or a burst, repeats them row after row)."""
        stamp, processed = values.get("timestamp"), values.get("processed_at")
        if type(stamp) not in _TEXT or type(processed) not in _TEXT:  # a number, a set ...: not worth a key
            return self._moment_phrases(stamp, processed, values)
        found = self._phrases.get((stamp, processed))
        if found is None:
            found = self._phrases[(stamp, processed)] = self._moment_phrases(stamp, processed, values)
        return found

    def _moment_phrases(self, stamp: Any, processed: Any, values: dict[str, Any]) -> tuple[Markup, Markup]:
        start, end = _stored_moment(stamp), _stored_moment(processed)
        moment = start or times.try_parse(stamp)
        ago = times.relative(moment, self.now) if moment else ""
        lag = present.whole_seconds_lag((end - start).total_seconds()) if start and end else present.lag(values)
        return self.html(ago), self.html(lag)


def _stored_moment(value: Any) -> datetime | None:
    """The moment of a timestamp in the stored form; None for any other form (the general path reads those)."""
    if type(value) is not str or not _STORED.match(value):
        return None
    try:
        return datetime.fromisoformat(value)  # Python 3.11 reads the Z as UTC
    except ValueError:  # such as month 13: not a timestamp
        return None


def list_rows(events: Iterable[Event], href: Callable[[str], str], now: datetime) -> list[Row]:
    """The rows of a list page; `href` makes an event's link, `now` is the moment "3 h ago" counts from."""
    page = _Page(now)
    rows = []
    for event in events:
        values = event.values_of(COLUMNS)
        event_id = event.event_id
        size = values.get("size")
        ago, lag = page.moment_phrases(values)
        rows.append(Row(
            event_id=escape(event_id), href=escape(href(event_id)),
            event_type=page.cell(values.get("event_type")), source=page.cell(values.get("source")),
            key=escape(present.cell(values.get("key"))), event_name=page.cell(values.get("event_name")),
            content_type=page.cell(values.get("content_type")),
            size=page.optional(size), size_human=page.html(present.human_bytes(size) if size is not None else ""),
            timestamp=page.optional(values.get("timestamp")), ago=ago,
            processed_at=page.optional(values.get("processed_at")), lag=lag,
        ))
    return rows
