"""What one listing request asks for (page size, timestamp, cursor) and the page it gets back.

Shared by the HTML and the JSON views so both page the same way.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from werkzeug.exceptions import BadRequest

from . import times
from .cursors import CursorError, Cursors, Position
from .store import EventPage, EventStore

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
PAGE_SIZES = (10, 25, 50, 100)
_DIGITS = re.compile(r"\A[0-9]{1,3}\Z")


class BadParameter(BadRequest):
    """A query parameter the dashboard cannot use: answered 400 with what was expected."""


@dataclass(frozen=True)
class ListingQuery:
    limit: int
    timestamp: str | None  # the stored UTC form, when searching the timestamp index
    position: Position
    # What was typed, when it named a fraction of a second the index cannot: the page says so.
    fraction_asked: str | None = None

    @property
    def scope(self) -> str:
        return cursor_scope(self.timestamp)


@dataclass(frozen=True)
class Listing:
    query: ListingQuery
    page: EventPage
    next_cursor: str | None
    has_prev: bool
    prev_cursor: str | None  # None with has_prev: the previous page is the first one

    @property
    def number(self) -> int:
        return self.query.position.number


def cursor_scope(timestamp: str | None) -> str:
    # A cursor only continues the listing it came from: a scan key means nothing to a search.
    return "scan" if timestamp is None else f"timestamp:{timestamp}"


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_LIMIT
    text = raw.strip()
    if not _DIGITS.match(text) or not 1 <= int(text) <= MAX_LIMIT:
        raise BadParameter(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {raw!r}")
    return int(text)


def parse_query(args: Mapping[str, str], cursors: Cursors) -> ListingQuery:
    limit = parse_limit(args.get("limit"))
    raw_timestamp = (args.get("timestamp") or "").strip()
    timestamp = fraction_asked = None
    if raw_timestamp:
        try:
            timestamp = times.normalize(raw_timestamp)
            fraction_asked = raw_timestamp if times.has_fraction(raw_timestamp) else None
        except times.TimestampError as error:
            raise BadParameter(str(error)) from None
    try:
        position = cursors.decode(args.get("cursor"), cursor_scope(timestamp))
    except CursorError as error:
        raise BadParameter(str(error)) from None
    return ListingQuery(limit=limit, timestamp=timestamp, position=position, fraction_asked=fraction_asked)


def fetch(store: EventStore, query: ListingQuery, cursors: Cursors) -> Listing:
    """Read one page: exactly one Scan or Query; the timestamp path never scans."""
    position = query.position
    if query.timestamp is None:
        page = store.page(query.limit, position.start_key)
    else:
        page = store.by_timestamp(query.timestamp, query.limit, position.start_key)
    next_cursor = cursors.encode(position.following(page.next_key), query.scope) if page.next_key else None
    previous = position.preceding()
    return Listing(
        query=query,
        page=page,
        next_cursor=next_cursor,
        has_prev=previous is not None,
        prev_cursor=cursors.encode(previous, query.scope) if previous is not None else None,
    )
