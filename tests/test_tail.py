"""Live tail (questions/tail.py, web/views/tail.py): each poll reads only the settled seconds it has not read yet."""
from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, strategies as st

from dashboard.formats.times import format_stored
from dashboard.questions import query as query_box, tail
from dashboard.questions.cursors import Cursors
from dashboard.questions.listing import BadParameter
from dashboard.settings.config import ConfigError, Settings
from dashboard.store import Filters, Keyset, ReadBudget, Table
from tests.conftest import SECRET, put_items, read_calls, seed
from tests.pages import row_ids

T0 = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
BUDGET = ReadBudget(30.0, 100_000.0)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def stored(seconds: float) -> str:
    return format_stored(at(seconds))


def canonical(table: Table, canonical: str = "yes") -> Table:
    """The same table, with TIMESTAMPS_CANONICAL set: no sample Scan to count."""
    return Table.on(table.clients, table.name, canonical)


def found_in(page: str, pattern: str) -> str:
    """The first group of `pattern` in `page`, unescaped; the test fails when it is not there."""
    match = re.search(pattern, page, re.S)
    assert match, f"{pattern!r} is not on the page"
    return html.unescape(match.group(1))


def poll(table: Table, after: Keyset, now: datetime, settle: int = 5, **filters: Any) -> tail.Poll:
    return tail.poll(table, tail.TailQuery(after, Filters(**filters)), now, settle, Cursors(SECRET), BUDGET)


# ---------------------------------------------------------------------------- which seconds a poll reads


def test_a_poll_reads_the_seconds_after_the_last_one_read_that_ended_settle_seconds_ago():
    # At 12:00:20.7 with 5 s to settle, the last second read is 12:00:14 (it ended at :15, five seconds before :20).
    assert tail.window(Keyset(stored(9)), at(20.7), 5) == tail.Window(stored(10), stored(14))


def test_a_second_is_read_once_it_has_ended_when_nothing_needs_to_settle():
    assert tail.window(Keyset(stored(9)), at(11), 0) == tail.Window(stored(10), stored(10))


def test_nothing_is_read_until_a_new_second_has_settled():
    assert tail.window(Keyset(stored(14)), at(20.9), 5) == tail.Window(None, None)
    assert tail.window(Keyset("9999-12-31T23:59:59Z"), at(0), 5) == tail.Window(None, None)


def test_a_poll_that_stopped_inside_a_second_reads_that_second_again():
    assert tail.window(Keyset(stored(14), "ev-7"), at(20), 5) == tail.Window(stored(14), stored(14))


def test_a_tab_woken_after_an_hour_reads_only_the_last_minute_and_names_what_it_skipped():
    window = tail.window(Keyset(stored(0)), at(3600), 0)
    assert (window.start, window.end) == (stored(3540), stored(3599))
    assert (window.skipped, window.skipped_from, window.skipped_to) == (3539, stored(1), stored(3539))


@given(after=st.integers(-5000, 5000), now=st.floats(0, 5000), settle=st.integers(0, 60),
       inside=st.booleans())
def test_a_window_is_bounded_settled_and_never_before_what_was_read(after, now, settle, inside):
    position = Keyset(stored(after), "ev" if inside else None)
    window = tail.window(position, at(now), settle)
    last_settled = format_stored(tail.settled(at(now), settle))
    if window.start is None:
        assert position.timestamp >= last_settled
        return
    assert window.end == last_settled
    length = int((datetime.fromisoformat(window.end) - datetime.fromisoformat(window.start)).total_seconds()) + 1
    assert 1 <= length <= tail.MAX_SECONDS_PER_POLL
    first_unread = position.timestamp if inside else stored(after + 1)
    assert window.start >= first_unread
    total = int((datetime.fromisoformat(window.end) - datetime.fromisoformat(first_unread)).total_seconds()) + 1
    assert window.skipped == total - length


# ---------------------------------------------------------------------------- what a poll reads and answers


def test_a_poll_queries_each_new_second_once_and_never_scans(table):
    seed(table, 2, stored(8), "old")  # read by the previous poll
    seed(table, 3, stored(11), "new")
    seed(table, 1, stored(19), "unsettled")
    table = canonical(table)
    calls = read_calls(table)
    found = poll(table, Keyset(stored(8)), at(20), settle=5)
    assert [event.event_id for event in found.events] == ["new-0002", "new-0001", "new-0000"]  # newest first
    assert calls.count("Query") == 6 and "Scan" not in calls  # 12:00:09 to 12:00:14
    assert found.position == Keyset(stored(14)) and not found.more_waiting
    assert poll(table, found.position, at(20.5), settle=5).events == []
    later = poll(table, found.position, at(25), settle=5)
    assert [event.event_id for event in later.events] == ["unsettled-0000"]


def test_newest_first_across_seconds(table):
    put_items(table, [{"event_id": f"e{n}", "timestamp": stored(n)} for n in (1, 2, 3)])
    found = poll(canonical(table), Keyset(stored(0)), at(10), settle=0)
    assert [event.event_id for event in found.events] == ["e3", "e2", "e1"]


def test_a_second_with_more_events_than_a_poll_shows_goes_on_from_the_exact_event(table):
    seed(table, 130, stored(3), "burst")
    table = canonical(table)
    first = poll(table, Keyset(stored(0)), at(10), settle=0)
    assert len(first.events) == tail.MAX_ROWS and first.more_waiting
    assert first.position == Keyset(stored(3), "burst-0099")
    second = poll(table, first.position, at(10), settle=0)
    assert len(second.events) == 30 and not second.more_waiting and second.position == Keyset(stored(9))
    ids = [event.event_id for event in first.events + second.events]
    assert sorted(ids) == [f"burst-{n:04}" for n in range(130)]


def test_a_poll_applies_the_pages_filters(table):
    seed(table, 2, stored(2), "put", event_name="ObjectCreated:Put")
    seed(table, 2, stored(2), "del", event_name="ObjectRemoved:Delete")
    found = poll(canonical(table), Keyset(stored(0)), at(10), settle=0, event_name="ObjectRemoved:Delete")
    assert sorted(event.event_id for event in found.events) == ["del-0000", "del-0001"]


def test_without_canonical_timestamps_a_poll_scans_instead_and_finds_the_same(table):
    put_items(table, [{"event_id": "odd", "timestamp": "2024-01-01T12:00:02.250+00:00"},
                      {"event_id": "plain", "timestamp": stored(3)}, {"event_id": "old", "timestamp": stored(-5)}])
    table = canonical(table, "no")
    calls = read_calls(table)
    found = poll(table, Keyset(stored(0)), at(10), settle=0)
    assert [event.event_id for event in found.events] == ["plain", "odd"]
    assert "Scan" in calls and "Query" not in calls


def test_fanout_asked_for_on_a_table_that_cannot_use_it_is_refused(table):
    with pytest.raises(BadParameter, match="plan=fanout cannot be used"):
        tail.poll(canonical(table, "no"), tail.TailQuery(Keyset(stored(0)), plan="fanout"), at(10), 0,
                  Cursors(SECRET), BUDGET)


# ---------------------------------------------------------------------------- over HTTP


def now_stored(offset: float = 0) -> str:
    return format_stored(datetime.now(UTC) + timedelta(seconds=offset))


def test_the_poll_answers_rows_newest_first_and_where_to_read_on(client, table):
    put_items(table, [{"event_id": "arrived/1", "timestamp": now_stored(-20)},
                      {"event_id": "arrived 2", "timestamp": now_stored(-19)}])
    response = client.get("/tail", query_string={"after": now_stored(-30)}, headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and row_ids(page) == ["arrived 2", "arrived/1"]
    after = found_in(page, r'data-after="([^"]+)"')
    assert now_stored(-30) < after <= now_stored(-5)
    assert 'data-after-id=""' in page and "2 new in" in page
    # The way back is added when a row is opened (app.js, from the table's data-back), as for the list's rows.
    assert 'href="/events/arrived%202"' in page and "back=" not in page


def test_a_poll_after_a_long_sleep_says_what_it_skipped_and_links_to_it(client, table):
    page = client.get("/tail?after=2024-01-01T00:00:00Z&event_type=s3").get_data(as_text=True)
    skipped = re.search(r'data-tail-skipped>Skipped ([\d]+) seconds.*?href="([^"]+)"', page, re.S)
    assert skipped and int(skipped.group(1)) > 86400
    assert skipped.group(2).startswith("/events?from=2024-01-01T00:00:01Z&amp;to=")
    assert "event_type=s3" in skipped.group(2)


@pytest.mark.parametrize("query,message", [
    ("", "after is missing"),
    ("after=soon", "after: timestamp 'soon' is not understood"),
    ("after=2024-01-01T00:00:00Z&plan=guess", "plan must be fanout, scan or auto"),
    ("after=2024-01-01T00:00:00Z&key=" + "k" * 1025, "key is longer than 1024 characters"),
    ("after=2024-01-01T00:00:00Z&after_id=" + "i" * 2049, "after_id is longer than any event id"),
])
def test_bad_poll_parameters_are_400_before_any_read(offline_client, query, message):
    response = offline_client.get(f"/tail?{query}")
    assert response.status_code == 400 and message in html.unescape(response.get_data(as_text=True))


# ---------------------------------------------------------------------------- which pages offer it


def tail_box(page: str) -> str | None:
    match = re.search(r"<div class=\"live-tail\" data-live-tail [^>]*>", page)
    return match.group(0) if match else None


def test_a_quick_range_offers_the_live_tail_hidden_until_the_script_shows_it(client, table):
    page = client.get("/events").get_data(as_text=True)
    quick = found_in(page, r'href="([^"]+)"[^>]*data-quick-range="Last 5 min"')
    listing = client.get(quick).get_data(as_text=True)
    box = tail_box(listing)
    assert box and " hidden" in box and 'data-tail-state="off"' in box
    assert 'data-tail-interval="5000"' in box and 'data-tail-max="600000"' in box
    assert "stops after 10 minutes" in " ".join(listing.split())
    url = found_in(box, r'data-tail-url="([^"]+)"')
    assert url == "/tail"  # no filters to carry; rows get their way back when opened (app.js), not from the poll
    after = found_in(box, r'data-tail-after="([^"]+)"')
    assert after <= now_stored(-5)  # the seconds read before they settled are read again by the tail


def test_the_tail_carries_the_pages_filters_and_plan(client, table):
    page = client.get("/events", query_string={"from": now_stored(-300), "to": now_stored(), "order": "desc",
                                               "source": "bucket a", "plan": "scan"}).get_data(as_text=True)
    url = found_in(page, r'data-tail-url="([^"]+)"')
    assert "source=bucket+a" in url and "plan=scan" in url


def test_an_empty_range_brings_a_table_for_the_rows_to_arrive_in(client, table):
    page = client.get("/events", query_string={"from": now_stored(-300), "to": now_stored(), "order": "desc"}
                      ).get_data(as_text=True)
    assert "data-tail-table hidden" in page and "data-empty" in page


@pytest.mark.parametrize("query", [
    {},
    {"timestamp": "2024-01-01T00:00:00Z"},
    {"from": "2024-01-01T00:00:00Z", "to": "2024-01-01T00:05:00Z", "order": "desc"},
])
def test_a_list_that_does_not_end_now_offers_no_tail(client, table, query):
    page = client.get("/events", query_string=query).get_data(as_text=True)
    assert tail_box(page) is None and "data-live-tail-offer" not in page


def test_only_the_first_page_tails(client, table):
    put_items(table, [{"event_id": f"e{n}", "timestamp": now_stored(-n)} for n in range(1, 4)])
    first = client.get("/events", query_string={"from": now_stored(-300), "to": now_stored(), "order": "desc",
                                                "limit": 2}).get_data(as_text=True)
    assert tail_box(first)
    following = found_in(first, r'<a rel="next"[^>]*href="([^"]+)"')
    assert tail_box(client.get(following).get_data(as_text=True)) is None


def test_a_range_oldest_first_links_to_newest_first_for_a_tail(client, table):
    page = client.get("/events", query_string={"from": now_stored(-300), "to": now_stored()}).get_data(as_text=True)
    assert tail_box(page) is None
    offer = re.search(r'data-live-tail-offer hidden>.*?href="([^"]+)"', page, re.S)
    assert offer and "order=desc" in html.unescape(offer.group(1))


# ---------------------------------------------------------------------------- settings


def test_tail_settings_have_stated_defaults_and_refuse_nonsense():
    base = {"DASHBOARD_AUTH": "off", "SECRET_KEY": SECRET}
    settings = Settings.from_mapping(base)
    assert (settings.tail_interval_seconds, settings.tail_settle_seconds, settings.tail_max_minutes) == (5.0, 5, 10.0)
    tuned = Settings.from_mapping({**base, "TAIL_INTERVAL_SECONDS": "1", "TAIL_SETTLE_SECONDS": "0",
                                   "TAIL_MAX_MINUTES": "0.05"})
    assert (tuned.tail_interval_seconds, tuned.tail_settle_seconds, tuned.tail_max_minutes) == (1.0, 0, 0.05)
    for name, value in [("TAIL_INTERVAL_SECONDS", "0"), ("TAIL_SETTLE_SECONDS", "1.5"), ("TAIL_MAX_MINUTES", "never")]:
        with pytest.raises(ConfigError, match=name):
            Settings.from_mapping({**base, name: value})


def test_the_tail_carries_the_pages_query_and_a_poll_applies_it(client, table):
    page = client.get("/events", query_string={"from": now_stored(-300), "to": now_stored(), "order": "desc",
                                               "q": "-event_name:ObjectCreated:*"}).get_data(as_text=True)
    url = html.unescape(found_in(page, r'data-tail-url="([^"]+)"'))
    assert "q=-event_name:ObjectCreated:*" in url.replace("%3A", ":").replace("%2A", "*")
    seed(table, 2, stored(2), "put", event_name="ObjectCreated:Put")
    seed(table, 2, stored(2), "del", event_name="ObjectRemoved:Delete")
    found = tail.poll(canonical(table), tail.TailQuery(Keyset(stored(0)), Filters(conditions=query_box.parse(
        "-event_name:ObjectCreated:*"))), at(10), 0, Cursors(SECRET), BUDGET)
    assert sorted(event.event_id for event in found.events) == ["del-0000", "del-0001"]
