"""Relative time (issue 23): from/to as now and now-<N><unit>, resolved once per request, kept relative in links,
pinned by a cursor; order=desc never ignored."""
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, strategies as st

from dashboard.formats import times
from dashboard.formats.times import format_stored
from dashboard.questions import listing, windows
from dashboard.questions.cursors import Cursors
from dashboard.store import Keyset, ReadBudget
from tests.conftest import put_items

CURSORS = Cursors("0123456789abcdef-secret")
NOW = datetime(2026, 12, 6, 13, 2, 11, 600000, tzinfo=UTC)
BUDGET = ReadBudget(3, 2000)


def range_of(query: listing.ListingQuery) -> listing.TimeRange:
    assert query.range is not None
    return query.range


@pytest.mark.parametrize(("text", "back"), [
    ("now", 0), ("now-15m", 900), ("now-2h", 7200), ("now-7d", 7 * 86400), ("now-1w", 7 * 86400),
    ("now-30s", 30), (" NOW-5m ", 300),
])
def test_now_and_now_minus_a_duration_count_back_from_the_request_clock(text, back):
    assert times.resolve(text, NOW) == NOW.replace(microsecond=0) - timedelta(seconds=back)


@pytest.mark.parametrize("text", ["now-", "now-5x", "now+5m", "now-99999999d", "nowish", "now-15M", "now--5m",
                                  "now-1.5h", "now - 5m"])
def test_bad_relative_forms_are_refused_saying_what_is_expected(text):
    with pytest.raises(times.TimestampError) as caught:
        times.resolve(text, NOW)
    assert "now-15m" in str(caught.value) or "days" in str(caught.value)


@given(st.integers(min_value=0, max_value=10**7))
def test_seconds_back_are_exact(seconds):
    assert times.resolve(f"now-{seconds}s", NOW) == NOW.replace(microsecond=0) - timedelta(seconds=seconds)


def test_a_relative_range_resolves_once_and_its_links_stay_relative():
    query = listing.parse_query({"from": "now-15m", "to": "now", "order": "desc"}, CURSORS, NOW)
    assert (range_of(query).start, range_of(query).end) == ("2026-12-06T12:47:11Z", "2026-12-06T13:02:11Z")
    assert range_of(query).relative == ("now-15m", "now")
    assert query.link_args()["from"] == "now-15m" and query.link_args()["to"] == "now"
    assert query.window_args()["from"] == "2026-12-06T12:47:11Z" and query.window_args()["to"] == "2026-12-06T13:02:11Z"
    # An absolute bound beside a relative one stays absolute.
    mixed = listing.parse_query({"from": "2026-12-06T12:00:00+01:00", "to": "now"}, CURSORS, NOW)
    assert range_of(mixed).relative == ("2026-12-06T11:00:00Z", "now")


def test_an_absolute_range_has_no_relative_form_and_the_same_scope_as_before():
    query = listing.parse_query({"from": "2024-01-01T00:00:00Z", "to": "2024-01-01T00:00:09Z"}, CURSORS, NOW)
    assert range_of(query).relative is None
    assert query.scope == "range:2024-01-01T00:00:00Z:2024-01-01T00:00:09Z:asc:auto"


def test_a_relative_bookmark_opened_later_shows_the_later_window(table):
    earlier, later = NOW - timedelta(hours=1), NOW
    put_items(table, [{"event_id": "then", "timestamp": format_stored(earlier - timedelta(minutes=5))},
                      {"event_id": "now", "timestamp": format_stored(later - timedelta(minutes=5))}])
    bookmark = {"from": "now-15m", "to": "now", "order": "desc"}
    opened_then = listing.parse_query(bookmark, CURSORS, earlier)
    opened_later = listing.parse_query(bookmark, CURSORS, later)
    assert opened_then.link_args() == opened_later.link_args()
    shown = [[event.event_id for event in listing.fetch(table, query, CURSORS, BUDGET).page.events]
             for query in (opened_then, opened_later)]
    assert shown == [["then"], ["now"]]


def test_a_cursor_pins_the_window_its_first_page_resolved_to():
    first = listing.parse_query({"from": "now-15m", "to": "now"}, CURSORS, NOW)
    token = CURSORS.encode(first.position.following(Keyset("2026-12-06T12:50:00Z", "x")), first.scope)
    hours_later = NOW + timedelta(hours=3)
    assert token is not None
    second = listing.parse_query({"from": "now-15m", "to": "now", "cursor": token}, CURSORS, hours_later)
    assert (range_of(second).start, range_of(second).end) == (range_of(first).start, range_of(first).end)
    previous = second.position.preceding()
    assert previous is not None
    back = CURSORS.encode(previous, second.scope)
    assert back is not None  # Previous to the first page keeps the window too
    assert back is not None
    again = listing.parse_query({"from": "now-15m", "to": "now", "cursor": back}, CURSORS, hours_later)
    assert (range_of(again).start, range_of(again).end) == (range_of(first).start, range_of(first).end)
    assert again.position.is_first


def test_a_relative_cursor_is_refused_on_an_absolute_listing_of_the_same_seconds():
    first = listing.parse_query({"from": "now-15m", "to": "now"}, CURSORS, NOW)
    token = CURSORS.encode(first.position.following(Keyset("2026-12-06T12:50:00Z", "x")), first.scope)
    assert token is not None
    with pytest.raises(listing.BadParameter, match="another listing"):
        listing.parse_query({"from": range_of(first).start, "to": range_of(first).end, "cursor": token}, CURSORS, NOW)


def test_paging_a_relative_listing_while_events_arrive_neither_skips_nor_repeats(client, table):
    now = datetime.now(UTC)
    older = [{"event_id": f"old-{n:02}", "timestamp": format_stored(now - timedelta(seconds=90 - n // 3))}
             for n in range(30)]
    put_items(table, older)
    seen, path = [], {"from": "now-5m", "to": "now", "order": "desc", "limit": 7}
    answer = client.get("/api/events", query_string=path).get_json()
    first_ids = [item["event_id"] for item in answer["items"]]
    arrived = 0
    while True:
        seen += [item["event_id"] for item in answer["items"]]
        # New events keep arriving at the current second while the reader pages.
        put_items(table, [{"event_id": f"new-{arrived:02}", "timestamp": format_stored(datetime.now(UTC))}])
        arrived += 1
        if not answer["next_cursor"]:
            break
        previous = answer
        answer = client.get("/api/events", query_string={**path, "cursor": answer["next_cursor"]}).get_json()
        assert answer["range"]["from"] == previous["range"]["from"] and answer["range"]["to"] == previous["range"]["to"]
    expected = [event["event_id"] for event in sorted(older, key=lambda e: (e["timestamp"], e["event_id"]),
                                                      reverse=True)]
    assert seen == expected and len(set(seen)) == len(seen)
    # Previous from the second page is the same first page, however late it is asked.
    second = client.get("/api/events", query_string={**path, "cursor": client.get(
        "/api/events", query_string=path).get_json()["next_cursor"]}).get_json()
    back = [item["event_id"] for item in client.get(
        "/api/events", query_string={**path, "cursor": second["prev_cursor"]}).get_json()["items"]]
    # Only an event that arrived within the pinned window's last second can join the first page.
    arrived_in_window = [event_id for event_id in back if event_id.startswith("new-")]
    assert back == arrived_in_window + expected[:7 - len(arrived_in_window)]
    assert first_ids == expected[:7]


def test_the_api_states_the_relative_form_beside_the_absolute_window(client):
    answer = client.get("/api/events?from=now-2h&to=now").get_json()
    assert answer["range"]["relative"] == {"from": "now-2h", "to": "now"}
    start, end = times.parse(answer["range"]["from"]), times.parse(answer["range"]["to"])
    assert end - start == timedelta(hours=2) and abs((datetime.now(UTC) - end).total_seconds()) < 5


@pytest.mark.parametrize("route", ["/events", "/api/events", "/timeline", "/api/timeline", "/export/events"])
@pytest.mark.parametrize("bad", ["now-", "now-5x", "now+5m", "now-99999999d"])
def test_bad_relative_bounds_are_a_400_with_a_message_on_every_range_route(client, route, bad):
    response = client.get(route, query_string={"from": bad, "to": "now", "format": "csv"})
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and ("now-15m" in text or "days" in text)


@pytest.mark.parametrize("bad", ["now-", "now-5x", "now+5m"])
def test_the_tail_takes_relative_time_and_refuses_bad_forms(client, bad):
    assert client.get("/tail?after=now-1m").status_code == 200
    assert client.get("/tail", query_string={"after": bad}).status_code == 400


def test_relative_ranges_work_on_every_range_route(client, table):
    put_items(table, [{"event_id": "recent", "timestamp": format_stored(datetime.now(UTC) - timedelta(seconds=30))}])
    asked = {"from": "now-5m", "to": "now"}
    assert [item["event_id"] for item in client.get("/api/events", query_string=asked).get_json()["items"]] == [
        "recent"]
    assert client.get("/api/timeline", query_string=asked).get_json()["total"] == 1
    assert "recent" in client.get("/export/events", query_string={**asked, "format": "jsonl"}).get_data(as_text=True)
    assert client.get("/timeline", query_string=asked).status_code == 200


@pytest.mark.parametrize("query", ["order=desc", "order=desc&timestamp=2024-01-01T00:00:00Z"])
def test_order_desc_without_a_range_is_a_400_that_says_why(client, query):
    response = client.get("/events?" + query)
    assert response.status_code == 400 and "storage" in response.get_data(as_text=True)
    assert client.get("/api/events?" + query).get_json()["message"] == windows.ORDER_NEEDS_RANGE


def test_order_asc_without_a_range_keeps_todays_answer(client):
    assert client.get("/events?order=asc").status_code == 200


def test_quick_ranges_are_relative_links_and_the_page_links_to_the_exact_window(client):
    page = client.get("/events?from=now-15m&to=now&order=desc").get_data(as_text=True)
    assert 'href="/events?limit=25&amp;from=now-15m&amp;to=now&amp;order=desc"' in page
    assert "data-exact-window" in page and "data-window-relative" in page
    exact = page.split('data-exact-window')[0].rsplit('href="', 1)[1].split('"')[0]
    assert "now" not in exact and "from=20" in exact


def test_auto_refresh_is_offered_where_the_window_ends_now_and_kept_in_the_url(client):
    page = client.get("/events?from=now-15m&to=now&refresh=30s").get_data(as_text=True)
    assert 'data-auto-refresh="30000"' in page
    assert 'data-refresh-choice="30 s" aria-current="true"' in page
    old = client.get("/events?from=2024-01-01T00:00:00Z&to=2024-01-01T00:10:00Z").get_data(as_text=True)
    assert "data-auto-refresh" not in old


@pytest.mark.parametrize("bad", ["5s", "1h", "fast"])
def test_a_bad_refresh_is_a_400(client, bad):
    response = client.get("/events", query_string={"from": "now-15m", "to": "now", "refresh": bad})
    assert response.status_code == 400 and "refresh must be off, 10s, 30s, 1m" in response.get_data(as_text=True)
