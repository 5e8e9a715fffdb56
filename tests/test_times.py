"""times.py: every accepted ISO-8601 variant normalizes to the stored UTC form; anything else is refused clearly."""
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from dashboard.formats import times

moments = st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9998, 12, 30),
                       timezones=st.just(UTC)).map(lambda m: m.replace(microsecond=0))
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))


@pytest.mark.parametrize("text", [
    "2024-01-01T00:00:00Z", "2024-01-01 00:00:00", "2024-01-01T00:00:00+00:00", "2024-01-01T02:00:00+02:00",
    "2023-12-31T19:00:00-05:00", "2024-01-01t00:00:00z", " 2024-01-01T00:00:00Z ", "2024-01-01T00:00:00.999Z",
    "2024-01-01T00:00", "20240101T000000Z",
])
def test_variants_normalize_to_the_stored_utc_form(text):
    assert times.normalize(text) == "2024-01-01T00:00:00Z"


@pytest.mark.parametrize("text", ["", "   ", "yesterday", "2024-13-01T00:00:00Z", "2024-01-01T25:00:00Z",
                                  "2024-01-01", "1704067200", "2024-01-01T00:00:00+25:00", "2024/01/01 00:00:00"])
def test_unparseable_values_say_what_format_is_expected(text):
    with pytest.raises(times.TimestampError) as caught:
        times.normalize(text)
    assert "2024-01-01T00:00:00Z" in str(caught.value)


@given(moments, offsets)
def test_any_offset_names_the_same_utc_second(moment, offset):
    local = moment.astimezone(offset)
    assert times.normalize(local.isoformat()) == moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@given(moments)
def test_normalize_is_idempotent(moment):
    stored = times.format_stored(moment)
    assert times.normalize(stored) == stored
    assert times.normalize(times.normalize(stored.replace("T", " ").replace("Z", ""))) == stored


@given(st.text(max_size=40))
def test_any_text_either_normalizes_or_raises_timestamp_error(text):
    try:
        result = times.normalize(text)
    except times.TimestampError:
        return
    assert len(result) == 20 and result.endswith("Z") and result[10] == "T"


def test_neighbours_are_one_second_either_side_across_midnight():
    assert times.neighbours("2024-01-01T00:00:00Z") == ("2023-12-31T23:59:59Z", "2024-01-01T00:00:01Z")
    assert times.neighbours("not a time") is None


def test_lag_uses_sub_second_precision_and_ignores_non_timestamps():
    assert times.lag_seconds("2024-01-01T00:00:00Z", "2024-01-01T00:00:01.250Z") == 1.25
    assert times.lag_seconds("2024-01-01T00:00:00Z", None) is None
    assert times.lag_seconds(5, "2024-01-01T00:00:00Z") is None


def test_relative_time_reads_like_a_person_would_say_it():
    now = datetime(2024, 1, 2, tzinfo=UTC)
    assert times.relative(now - timedelta(hours=3, minutes=5), now) == "3 h ago"
    assert times.relative(now + timedelta(days=2), now) == "2 d from now"
    assert times.relative(now, now) == "just now"


@pytest.mark.parametrize("text,whole", [
    ("2024-01-01T00:00:00Z", True), ("2024-01-01T00:00:00.250Z", False), ("2024-01-01T00:00:00,5+00:00", False),
    ("not a time", False), (5, False), (None, False),
])
def test_whole_seconds_tells_what_precision_a_stored_timestamp_has(text, whole):
    assert times.whole_seconds(text) is whole


@given(moments, st.sampled_from([1, 5]))
def test_around_is_a_range_of_minutes_either_side_in_the_stored_form(moment, minutes):
    span = times.around(times.format_stored(moment), minutes)
    assert span is not None
    start, end = span
    assert times.parse(end) - times.parse(start) == timedelta(minutes=2 * minutes)
    assert start <= times.format_stored(moment) <= end and times.normalize(start) == start
    assert times.around("not a time", minutes) is None


def test_years_before_1000_keep_four_digits():
    assert times.normalize("0999-01-02T03:04:05Z") == "0999-01-02T03:04:05Z"
    assert times.normalize("0001-01-01T00:00:00Z") == "0001-01-01T00:00:00Z"
