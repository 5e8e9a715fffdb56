"""rows.py: each list cell shows what the per-cell filters showed, from the shown attributes only, escaped once."""
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from markupsafe import escape

from dashboard.formats import present, times
from dashboard.store.records import Event, to_wire
from dashboard.web import rows

NOW = datetime(2024, 1, 2, 12, 0, 0, tzinfo=UTC)
TEXTS = ("event_type", "source", "key", "event_name", "content_type")
ODD_EVENTS: list[dict[str, Any]] = [
    {"event_id": "plain", "event_type": "s3", "source": "bucket", "key": "a/b.txt", "event_name": "ObjectCreated:Put",
     "size": Decimal("1536"), "content_type": "text/plain", "timestamp": "2024-01-01T13:00:00Z",
     "processed_at": "2024-01-01T13:00:02Z"},
    {"event_id": "same-second", "timestamp": "2024-01-01T13:00:00Z", "processed_at": "2024-01-01T13:00:00Z"},
    {"event_id": "fractions", "timestamp": "2024-01-01T13:00:00.100Z", "processed_at": "2024-01-01T13:00:01.600Z",
     "size": Decimal("0.5")},
    {"event_id": "offset", "timestamp": "2024-01-01T15:00:00+02:00", "processed_at": "2024-01-01T13:00:05Z"},
    {"event_id": "not-a-time", "timestamp": "yesterday", "processed_at": "2024-01-01T13:00:05Z", "size": "big"},
    {"event_id": "month-13", "timestamp": "2024-13-01T00:00:00Z", "processed_at": "2024-13-01T00:00:01Z"},
    {"event_id": "number-time", "timestamp": Decimal("1704114000"), "size": Decimal("-3")},
    {"event_id": "typed", "event_type": None, "source": {"x", "y"}, "key": b"\x00\xff", "event_name": True,
     "content_type": {"nested": [Decimal("1.50"), "s"]}, "size": Decimal("123456789012345678901234567890")},
    {"event_id": "hostile <b>&\"'", "event_type": "<script>alert(1)</script>", "source": "a&b", "key": "\"quoted'",
     "event_name": "<i>", "content_type": "x/y", "timestamp": "<2024>", "processed_at": "&"},
    {"event_id": "bare"},
]


def as_filters_showed(event: Event) -> dict[str, object]:
    """What the template's filters made of every attribute converted (the list before rows.py)."""
    values = event.values
    size, stamp, processed = values.get("size"), values.get("timestamp"), values.get("processed_at")
    return {
        **{name: escape(present.cell(values.get(name))) for name in TEXTS},
        "event_id": escape(event.event_id),
        "size": escape(present.cell(size)) if size is not None else None,
        "size_human": escape(present.human_bytes(size)) if size is not None else "",
        "timestamp": escape(present.cell(stamp)) if stamp is not None else None,
        "ago": escape(times.relative(moment, NOW)) if (moment := times.try_parse(stamp)) else "",
        "processed_at": escape(present.cell(processed)) if processed is not None else None,
        "lag": escape(present.lag(values)),
    }


@pytest.mark.parametrize("values", ODD_EVENTS, ids=[values["event_id"] for values in ODD_EVENTS])
def test_each_cell_shows_what_the_per_cell_filters_showed(values):
    event = Event(to_wire(values))
    (row,) = rows.list_rows([event], lambda event_id: f"/events/{event_id}", NOW)
    expected = as_filters_showed(event)
    assert {name: getattr(row, name) for name in expected} == expected


def test_every_text_is_escaped_exactly_once():
    event = Event(to_wire(ODD_EVENTS[-2]))
    (row,) = rows.list_rows([event], lambda event_id: "/events/x?a=1&b=<2>", NOW)
    assert str(row.event_type) == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert str(row.event_id) == "hostile &lt;b&gt;&amp;&#34;&#39;" and str(row.source) == "a&amp;b"
    assert str(row.href) == "/events/x?a=1&amp;b=&lt;2&gt;"
    assert str(row.lag) == "" and str(row.processed_at) == "&amp;"


def test_a_page_of_one_second_shows_the_same_phrases_on_every_row():
    events = [Event(to_wire({"event_id": f"e{n}", "timestamp": "2024-01-01T13:00:00Z",
                             "processed_at": f"2024-01-01T13:00:0{n % 3}Z"})) for n in range(9)]
    shown = rows.list_rows(events, str, NOW)
    assert {str(row.ago) for row in shown} == {"23 h ago"}
    assert [str(row.lag) for row in shown] == ["&lt; 1 s", "1 s", "2 s"] * 3


def test_only_the_shown_attributes_are_converted():
    event = Event(to_wire({"event_id": "big", "timestamp": "2024-01-01T13:00:00Z",
                           "blob": {"deep": [Decimal(n) for n in range(100)]}}))
    assert event.values_of(rows.COLUMNS) == {"event_id": "big", "timestamp": "2024-01-01T13:00:00Z"}
    assert "values" not in event.__dict__  # the whole item was never converted (cached_property)
