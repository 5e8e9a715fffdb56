"""listing.py: what a listing request asks for, read from its query parameters; the quick ranges offered."""
from datetime import UTC, datetime

import pytest

from dashboard.questions.cursors import Cursors
from dashboard.questions.listing import BadParameter, TimeRange, parse_query, quick_ranges
from dashboard.store import Filters

CURSORS = Cursors("0123456789abcdef-secret")


def test_quick_ranges_end_now_and_reach_back_5_15_and_60_minutes():
    now = datetime(2024, 1, 1, 0, 3, 0, 750000, tzinfo=UTC)
    assert quick_ranges(now) == [
        ("Last 5 min", "2023-12-31T23:58:00Z", "2024-01-01T00:03:00Z"),
        ("Last 15 min", "2023-12-31T23:48:00Z", "2024-01-01T00:03:00Z"),
        ("Last 60 min", "2023-12-31T23:03:00Z", "2024-01-01T00:03:00Z"),
    ]


def test_a_range_is_normalized_and_its_empty_fields_mean_nothing():
    query = parse_query({"from": "2024-01-01 01:00:00+01:00", "to": "2024-01-01T00:00:09Z", "order": "desc",
                         "plan": "auto", "event_type": "", "key": "logs/"}, CURSORS)
    assert query.range == TimeRange("2024-01-01T00:00:00Z", "2024-01-01T00:00:09Z", "desc", None)
    assert query.range.seconds == 10 and query.filters == Filters(key_prefix="logs/")
    assert query.link_args() == {"limit": 25, "from": "2024-01-01T00:00:00Z", "to": "2024-01-01T00:00:09Z",
                                 "order": "desc", "key": "logs/"}
    plain = parse_query({"from": "", "to": "", "order": "asc", "plan": ""}, CURSORS)
    assert plain.range is None and plain.scope == "scan"


def test_filters_and_range_are_part_of_the_cursor_scope():
    one = parse_query({"from": "2024-01-01T00:00:00Z", "to": "2024-01-01T00:00:09Z"}, CURSORS).scope
    other = parse_query({"from": "2024-01-01T00:00:00Z", "to": "2024-01-01T00:00:09Z", "source": "b"}, CURSORS).scope
    assert one != other and parse_query({"source": "b"}, CURSORS).scope != "scan"


def test_an_overlong_filter_is_refused():
    with pytest.raises(BadParameter, match="source is longer"):
        parse_query({"source": "x" * 2000}, CURSORS)
