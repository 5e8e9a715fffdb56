"""The current listing as a CSV or JSON Lines file: every matching event, read a page at a time and streamed.

Only one page (at most PAGE_SIZE events) is held at once, whatever the file's length. A file stops at
EXPORT_MAX_ITEMS events; a file that stops early, on that cap or on a failure after its first byte
(when its status can no longer change), ends with a note saying so: in JSON Lines a line without
`event_id`, in CSV a row whose first cell begins with `#`.
"""
from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

from werkzeug.exceptions import BadRequest

from dashboard.formats import present, times
from dashboard.store import EventPage, Keyset, ReadBudget, StoreError, Table, deadline
from dashboard.store.records import PageKey

from . import indexreads, listing, plans
from .listing import ListingQuery

log = logging.getLogger(__name__)

PAGE_SIZE = 100
# A scan-plan range is read in the listing's order, this many events per pass of the whole table: most files
# take one pass, and a page's memory stays bounded (store/ranges.py keeps the first ones in a heap).
SCAN_PAGE_SIZE = 5000
# extension -> content type
FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}
# The spec's data model (TABLE-SPEC.md), in its order; every other attribute goes, as JSON, into ATTRIBUTES.
SPEC_COLUMNS = ("event_id", "event_type", "source", "key", "event_name", "size", "content_type", "timestamp",
                "processed_at")
ATTRIBUTES = "attributes"
# After the other attributes, so that the spec's columns keep their places: processed_at - timestamp, in seconds.
LAG_SECONDS = "lag_seconds"
# A spreadsheet reads a cell beginning with one of these as a formula (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The dashboard's own notes are rows whose first cell begins with this; an event id never does (it is quoted).
NOTE_START = "#"
# Line breaks that JSON leaves unescaped inside strings but some line readers split on (str.splitlines does).
_LINE_BREAKS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"}

PageReader = Callable[[PageKey | Keyset | None], EventPage]


def parse_format(raw: str | None) -> str:
    chosen = (raw or "").strip().lower()
    if chosen not in FORMATS:
        raise BadRequest(f"format must be {' or '.join(FORMATS)}, not {raw!r}")
    return chosen


def file_name(table_name: str, query: ListingQuery, export_format: str) -> str:
    """`TABLE_FROM_to_TO.csv`, `TABLE_SECOND.jsonl` or `TABLE_all.csv`, `_filtered` when filtered: safe on any disk."""
    def compact(stored: str) -> str:
        return stored.replace(":", "")

    if query.range is not None:
        scope = f"{compact(query.range.start)}_to_{compact(query.range.end)}"
    elif query.timestamp is not None:
        scope = compact(query.timestamp)
    else:
        scope = "all"
    return f"{table_name}_{scope}{'_filtered' if query.filters else ''}.{export_format}"


def _reader(table: Table, query: ListingQuery, budget: ReadBudget) -> PageReader:
    """How each page is read: the same store methods as the listing's pages, except a scan-plan range (swept once).

    A range is read through the time index when it holds every event (else by the old plans: a file is of every
    event), a page of PAGE_SIZE at a time in the listing's order."""
    filters = query.filters

    def key(start: PageKey | Keyset | None) -> PageKey | None:
        return start if isinstance(start, dict) else None

    def keyset(start: PageKey | Keyset | None) -> Keyset | None:
        return start if isinstance(start, Keyset) else None

    if query.range is None:
        timestamp = query.timestamp
        if timestamp is None:
            return lambda start: table.events.page(PAGE_SIZE, key(start), filters, budget)
        return lambda start: table.events.by_timestamp(timestamp, PAGE_SIZE, key(start), filters, budget)
    choice, allowed = listing.range_plan(table, query.range)
    span = query.range.span()
    index, refusal, _ = indexreads.for_whole_range(table, query.range.plan, allowed)
    if refusal is not None:
        raise listing.BadParameter(refusal)
    if index is not None and index.reader is not None:  # every event of the range is in the index
        reader = index.reader
        return lambda start: reader.page(span, PAGE_SIZE, keyset(start), filters, budget)
    if choice.plan == plans.FANOUT:
        return lambda start: table.ranges.fanout(span, PAGE_SIZE, keyset(start), filters, budget)
    return lambda start: table.ranges.scan(span, SCAN_PAGE_SIZE, keyset(start), filters, allowed)


def pages(table: Table, query: ListingQuery, budget: ReadBudget, page_seconds: float) -> Iterator[EventPage]:
    """Every page of the listing from its first, one at a time; each page's calls share a deadline of their own.

    The cursor and page size of `query` are not used: a file holds the whole listing.
    """
    read = _reader(table, query, budget)
    start: PageKey | Keyset | None = None
    while True:
        with deadline.started(page_seconds):
            page = read(start)
        yield page
        if page.next_key is None:
            return
        start = page.next_key


# ---------------------------------------------------------------------------- formats


def neutralize(text: str, starts: tuple[str, ...] = FORMULA_STARTS) -> str:
    """A cell a spreadsheet shows as text, never runs: a leading ' before a formula's first character (OWASP)."""
    return "'" + text if text.startswith(starts) else text


def csv_cell(value: Any, starts: tuple[str, ...] = FORMULA_STARTS) -> str:
    """One value in a CSV cell: numbers as their exact stored digits, maps, lists and sets as JSON, text neutralized.

    A number is only digits, a sign, a point and an exponent: never a formula, so it stays a number.
    """
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dict, list, set, frozenset)):
        return neutralize(present.dumps(value), starts)
    return neutralize(present.cell(value), starts)


def lag_cell(values: dict[str, Any]) -> str:
    """processed_at - timestamp in seconds, as exact as the stored times (893, 0.25); empty when either is missing."""
    lag = times.lag_seconds(values.get("timestamp"), values.get("processed_at"))
    return "" if lag is None else f"{lag:.6f}".rstrip("0").rstrip(".")


def csv_row(values: dict[str, Any]) -> list[str]:
    """The spec's columns, then every other attribute as one JSON object (empty when there are none), then the lag."""
    others = {name: values[name] for name in sorted(values) if name not in SPEC_COLUMNS}
    row = [csv_cell(values.get(SPEC_COLUMNS[0]), FORMULA_STARTS + (NOTE_START,))]
    row += [csv_cell(values.get(name)) for name in SPEC_COLUMNS[1:]]
    return [*row, neutralize(present.dumps(others)) if others else "", lag_cell(values)]


def json_line(values: dict[str, Any]) -> str:
    """One item as plain JSON (as /api/events gives it, numbers exact) on one line, whatever reads the lines."""
    text = present.dumps(values)
    for char, escaped in _LINE_BREAKS.items():
        text = text.replace(char, escaped)
    return text + "\n"


def event_line(values: dict[str, Any]) -> str:
    """An event's line: its attributes as /api/events gives them, then `lag_seconds` (a number, null without
    processed_at). An item that holds an attribute of that name keeps its own value: a file never changes data."""
    if LAG_SECONDS in values:
        return json_line(values)
    lag = lag_cell(values)
    return json_line({**values, LAG_SECONDS: Decimal(lag) if lag else None})


def _csv_text(rows: Iterable[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


def _note(export_format: str, kind: str, message: str, exported: int, **more: Any) -> str:
    if export_format == "jsonl":
        return json_line({kind: True, "message": message, "exported": exported, **more})
    return _csv_text([[f"{NOTE_START}{kind}: {message}", *[""] * (len(SPEC_COLUMNS) + 1)]])


def stream(export_format: str, pages: Iterable[EventPage], cap: int) -> Iterator[str]:
    """The file, a page at a time: the header (CSV), the events, and a note when it stops before the listing ends."""
    if export_format == "csv":
        yield _csv_text([[*SPEC_COLUMNS, ATTRIBUTES, LAG_SECONDS]])
    exported = 0
    try:
        for page in pages:
            events = page.events[:cap - exported]
            if export_format == "csv":
                yield _csv_text(csv_row(event.values) for event in events)
            else:
                yield "".join(event_line(event.values) for event in events)
            exported += len(events)
            if exported >= cap and (len(page.events) > len(events) or page.next_key is not None):
                yield _note(export_format, "truncated", f"the file stops at EXPORT_MAX_ITEMS ({cap:,} events) and "
                            "more may match: narrow the search, or use the export to S3 on the status page",
                            exported, max_items=cap)
                return
    except StoreError as error:
        log.warning("export stopped after %d events: %s", exported, error.detail)
        yield _note(export_format, "error", f"the file is incomplete: {error.message}", exported)
    except Exception:
        log.exception("export stopped after %d events", exported)
        yield _note(export_format, "error", "the file is incomplete: the dashboard failed (see its log)", exported)
