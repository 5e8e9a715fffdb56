"""The events pages through Flask's test client: paging, timestamp search, detail, errors."""
import html
import json
import re
from decimal import Decimal
from itertools import pairwise
from urllib.parse import quote

import pytest

from dashboard.questions.cursors import Position
from dashboard.questions.listing import cursor_scope
from tests.conftest import put_items, read_calls, seed
from tests.pages import error_message, fact, link, marked_link, row_ids, walk


def signed_cursor(client, timestamp: str | None = None) -> str:
    """A page-2 cursor the dashboard itself signed, for the plain listing or the search of `timestamp`."""
    cursors = client.application.extensions["events_cursors"]
    return cursors.encode(Position(start_key={"event_id": {"S": "e-0004"}}, number=2), cursor_scope(timestamp))


def test_root_is_the_landing_page_and_a_dead_backend_answers_503(offline_client):
    # Issue 23: `/` no longer redirects to /events; it reads the recent past, so a dead backend is its 503.
    response = offline_client.get("/")
    assert response.status_code == 503 and "Traceback" not in response.get_data(as_text=True)


def test_following_next_from_the_first_page_visits_every_item_exactly_once(client, table):
    seed(table, 57)
    pages = walk(client, "/events?limit=10")
    ids = [event_id for _, rows in pages for event_id in rows]
    assert sorted(ids) == [f"e-{n:04}" for n in range(57)]
    assert len(pages) in (6, 7)  # DynamoDB may hand back a last, empty page
    assert link(client.get(pages[-1][0]).get_data(as_text=True), "next") is None


def test_prev_from_every_page_shows_the_page_before_it(client, table):
    seed(table, 35)
    pages = walk(client, "/events?limit=5")
    for (_, earlier_rows), (url, _) in pairwise(pages):
        previous = link(client.get(url).get_data(as_text=True), "prev")
        assert previous is not None
        assert row_ids(client.get(previous).get_data(as_text=True)) == earlier_rows
    assert link(client.get(pages[0][0]).get_data(as_text=True), "prev") is None


def test_a_bookmarked_page_shows_the_same_rows_and_its_prev_still_works(app, table):
    seed(table, 30)
    first_client = app.test_client()
    pages = walk(first_client, "/events?limit=7")
    bookmark, rows = pages[3]
    # Another browser, no session, same URL.
    other = app.test_client()
    page = other.get(bookmark).get_data(as_text=True)
    assert row_ids(page) == rows
    assert row_ids(other.get(link(page, "prev")).get_data(as_text=True)) == pages[2][1]


def test_each_page_is_exactly_one_read_call(client, table):
    seed(table, 20)
    client.get("/events?limit=5")  # warms the cached approximate item count
    seen = read_calls(table)
    url = "/events?limit=5"
    for _ in range(3):
        seen.clear()
        page = client.get(url).get_data(as_text=True)
        assert seen == ["Scan"]
        following = link(page, "next")
        assert following is not None, "each of the first pages has a next page"
        url = following
    seen.clear()
    client.get("/events?timestamp=2024-01-01T00:00:00Z&limit=5")
    assert seen == ["Query"]


def test_the_page_shows_its_cost_and_the_approximate_item_count(client, table):
    seed(table, 3)
    page = client.get("/events").get_data(as_text=True)
    assert re.fullmatch(r"[0-9.]+ RCU", fact(page, "consumed-rcu"))
    assert fact(page, "item-count") == "≈ 3 (approx., ~6 h)"


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", "", "1e2", "9999999999999"])
def test_a_bad_limit_is_400_with_a_clear_message(offline_client, limit):
    response = offline_client.get(f"/events?limit={limit}")
    assert response.status_code == 400
    assert error_message(response.get_data(as_text=True)) \
        == f"limit must be a whole number from 1 to 100, not {limit!r}"


@pytest.mark.parametrize("limit", ["1", "100"])
def test_limit_bounds_are_accepted(client, table, limit):
    seed(table, 3)
    response = client.get(f"/events?limit={limit}")
    assert response.status_code == 200 and len(row_ids(response.get_data(as_text=True))) == min(3, int(limit))


def test_a_malformed_or_tampered_cursor_is_400_before_any_read(offline_client):
    token = signed_cursor(offline_client)
    # Untouched, the token passes the check and goes on to read (a dead backend here: 503).
    assert offline_client.get(f"/events?limit=5&cursor={quote(token)}").status_code == 503
    for bad in ["garbage", token[:-3] + "abc", "x" + token, token.replace(".", "")]:
        response = offline_client.get(f"/events?limit=5&cursor={quote(bad)}")
        assert response.status_code == 400, bad
        assert error_message(response.get_data(as_text=True)) == \
            "cursor is malformed or was tampered with: start again from the first page", bad


def test_a_scan_cursor_cannot_continue_a_timestamp_search(offline_client):
    token = signed_cursor(offline_client)
    response = offline_client.get(f"/events?limit=5&cursor={quote(token)}&timestamp=2024-01-01T00:00:00Z")
    assert response.status_code == 400
    assert error_message(response.get_data(as_text=True)) == \
        "cursor belongs to another listing or search: start again from the first page"
    # The same search's own cursor gets past the check, to the read.
    own = signed_cursor(offline_client, "2024-01-01T00:00:00Z")
    assert offline_client.get(f"/events?limit=5&cursor={quote(own)}&timestamp=2024-01-01T00:00:00Z").status_code == 503


def test_htmx_gets_the_fragment_and_a_plain_request_the_page(client, table):
    seed(table, 3)
    full = client.get("/events")
    fragment = client.get("/events", headers={"HX-Request": "true"})
    restore = client.get("/events", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert "<html" in full.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True)
    assert fragment.get_data(as_text=True).lstrip().startswith("<section id=\"events\"")
    assert "<html" in restore.get_data(as_text=True)
    assert row_ids(full.get_data(as_text=True)) == row_ids(fragment.get_data(as_text=True))
    assert "HX-Request" in full.headers["Vary"] and "HX-Request" in fragment.headers["Vary"]


@pytest.mark.parametrize("text", ["2024-01-01T00:00:00Z", "2024-01-01 00:00:00", "2024-01-01T00:00:00+00:00",
                                  "2024-01-01T01:00:00+01:00", "2023-12-31T16:00:00-08:00"])
def test_timestamp_search_accepts_iso_variants(client, table, text):
    seed(table, 4, "2024-01-01T00:00:00Z", "hit")
    seed(table, 2, "2024-01-01T00:00:01Z", "miss")
    response = client.get("/events", query_string={"timestamp": text})
    assert response.status_code == 200
    assert sorted(row_ids(response.get_data(as_text=True))) == [f"hit-{n:04}" for n in range(4)]


def test_timestamp_search_pages_through_a_busy_second_without_scanning(client, table):
    seed(table, 23, "2024-01-01T12:00:00Z", "busy")
    seed(table, 5, "2024-01-01T12:00:01Z", "other")
    seen = read_calls(table)
    pages = walk(client, "/events?timestamp=2024-01-01T12:00:00Z&limit=10")
    ids = [event_id for _, rows in pages for event_id in rows]
    assert sorted(ids) == [f"busy-{n:04}" for n in range(23)]
    assert "Scan" not in seen and "Query" in seen
    previous = link(client.get(pages[2][0]).get_data(as_text=True), "prev")
    assert previous is not None and "timestamp=2024-01-01T12:00:00Z" in previous
    assert row_ids(client.get(previous).get_data(as_text=True)) == pages[1][1]


@pytest.mark.parametrize("text", ["tomorrow", "2024-02-30T00:00:00Z", "2024-01-01"])
def test_an_unparseable_timestamp_is_400_and_says_the_expected_format(offline_client, text):
    response = offline_client.get("/events", query_string={"timestamp": text})
    assert response.status_code == 400
    message = error_message(response.get_data(as_text=True))
    assert message.startswith(f"timestamp {text!r} ")
    assert message.endswith("expected an ISO-8601 date and time such as 2024-01-01T00:00:00Z, 2024-01-01 00:00:00 "
                            "or 2024-01-01T02:00:00+02:00")


def test_no_match_is_an_empty_state_with_200(client, table):
    seed(table, 3)
    response = client.get("/events?timestamp=1999-01-01T00:00:00Z")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert fact(page, "empty").startswith("No events at 1999-01-01T00:00:00Z.") and row_ids(page) == []


def test_an_empty_timestamp_is_the_plain_listing(client, table):
    seed(table, 3)
    assert len(row_ids(client.get("/events?timestamp=").get_data(as_text=True))) == 3


WEIRD_IDS = ["a/b/c", "line\nbreak", "tab\there", "/leading", "trailing/", "double//slash", "with space", "hash#tag",
             "100%", "%2F", "ünïcødé ✓ 事件", "q?x=1&y=2", "new-ish", "dots.and..dots", "+plus+"]


def shown_event_id(page: str) -> str:
    """The id in the heading of an event's page, exactly as it stands in its data-event-id."""
    match = re.search(r'<code data-event-id="([^"]*)"', page)
    assert match, "the page has no event id heading"
    return html.unescape(match.group(1))


@pytest.mark.parametrize("event_id", WEIRD_IDS)
def test_detail_opens_any_id(client, table, event_id):
    table.events.put_new({"event_id": event_id, "timestamp": "2024-01-01T00:00:00Z"})
    response = client.get("/events/" + quote(event_id, safe=""))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert shown_event_id(response.get_data(as_text=True)) == event_id


def test_list_links_to_the_detail_of_any_id(client, table):
    for event_id in WEIRD_IDS:
        table.events.put_new({"event_id": event_id, "timestamp": "2024-01-01T00:00:00Z"})
    page = client.get("/events?limit=100").get_data(as_text=True)
    hrefs = [html.unescape(h) for h in re.findall(r'<td class="id trunc"><a href="([^"]*)"', page)]
    opened = set()
    for href in hrefs:
        response = client.get(href)
        assert response.status_code == 200, href
        opened.add(shown_event_id(response.get_data(as_text=True)))
    assert opened == set(WEIRD_IDS)


def test_unknown_id_is_404(client, table):
    response = client.get("/events/does-not-exist")
    assert response.status_code == 404
    assert error_message(response.get_data(as_text=True)) == f"no event with id 'does-not-exist' in table {table.name}"
    assert "Traceback" not in response.get_data(as_text=True)


def test_detail_renders_every_type_exactly(client, table):
    put_items(table, [{
        "event_id": "typed", "timestamp": "2024-01-01T00:00:00Z",
        "big": Decimal("12345678901234567890123456789012345678"),
        "small": Decimal("-0.000000000000000000000000000000000001"),
        "blob": b"\x00\x01\xfe", "flag": True, "nothing": None, "empty": "", "names": {"x", "y"},
        "nums": {Decimal("1"), Decimal("2.50")}, "blobs": {b"ab"}, "map": {"inner": {"deep": [Decimal("3"), "s"]}},
        "list": [True, None], "empty_map": {}, "empty_list": [],
    }])
    page = client.get("/events/typed").get_data(as_text=True)
    # Each attribute's row as read: name, type tag, value. (The raw JSON below holds the same digits: not enough.)
    rows = {
        "big": "N 12345678901234567890123456789012345678", "small": "N -1E-36",
        "blob": "B AAH+ (3 bytes, base64)", "flag": "BOOL true", "nothing": "NULL null", "empty": "S (empty string)",
        "blobs": "BS YWI=", "empty_map": "M (empty map)", "empty_list": "L (empty list)",
    }
    for name, shown in rows.items():
        assert fact(page, f'attribute="{name}"') == f"{name} {shown}"
    # A set keeps the order DynamoDB returns its members in, which Python's set hashing decides here.
    for name, tag, members in (("names", "SS", {"x", "y"}), ("nums", "NS", {"1", "2.50"})):
        shown_name, shown_tag, *shown_members = fact(page, f'attribute="{name}"').split()
        assert (shown_name, shown_tag) == (name, tag) and sorted(shown_members) == sorted(members)
    assert fact(page, 'attribute="map"').startswith("map M Map · 1 entry")
    assert fact(page, 'attribute="list"') == "list L List · 2 items BOOL true NULL null"
    raw_json = re.search(r'<code id="raw-json">(.*?)</code>', page, re.S)
    assert raw_json, "the page shows the item's raw DynamoDB JSON"
    raw = json.loads(html.unescape(raw_json.group(1)))
    assert raw["big"] == {"N": "12345678901234567890123456789012345678"}  # raw DynamoDB JSON keeps the digits


@pytest.mark.parametrize("event_id", ["s3-0a/b c", "rtl\u202eevil", "line\nbreak"])
def test_detail_copies_the_id_exactly_and_links_to_its_plain_json(client, table, event_id):
    put_items(table, [{"event_id": event_id, "timestamp": "2024-01-01T00:00:00Z", "big": Decimal("1.10"),
                       "tags": {"b", "a"}, "blob": b"\x01"}])
    page = client.get("/events/" + quote(event_id, safe="")).get_data(as_text=True)
    copied = re.search(r'<button [^>]*data-copy-text="([^"]*)" hidden>Copy id</button>', page)
    assert copied and html.unescape(copied.group(1)) == event_id
    plain = marked_link(page, "plain-json")
    assert plain == "/api/events/" + quote(event_id, safe="")
    assert marked_link(page, "dynamodb-json") == plain + "?format=dynamodb"
    text = client.get(plain).get_data(as_text=True)
    assert '"big": 1.10' in text and '"tags": ["a", "b"]' in text and '"blob": "AQ=="' in text


def test_detail_links_to_the_same_and_neighbouring_seconds(client, table):
    table.events.put_new({"event_id": "n1", "timestamp": "2024-01-01T00:00:00Z"})
    page = client.get("/events/n1").get_data(as_text=True)
    assert marked_link(page, "same-second") == "/events?timestamp=2024-01-01T00:00:00Z"
    assert marked_link(page, "second-before") == "/events?timestamp=2023-12-31T23:59:59Z"
    assert marked_link(page, "second-after") == "/events?timestamp=2024-01-01T00:00:01Z"


def test_row_links_are_the_events_own_urls_and_the_list_states_its_way_back_once(client, table):
    seed(table, 30)
    second = link(client.get("/events?limit=10").get_data(as_text=True), "next")
    assert second and "cursor=" in second
    page = client.get(second).get_data(as_text=True)
    hrefs = [html.unescape(h) for h in re.findall(r'<td class="id trunc"><a href="([^"]*)"', page)]
    assert hrefs == [f"/events/{quote(event_id, safe='')}" for event_id in row_ids(page)]
    # The way back (this page's URL, cursor and all) is written once for the whole table, not once per row.
    backs = re.findall(r'<section id="events"[^>]*\sdata-back="([^"]*)"', page)
    assert [html.unescape(back) for back in backs] == [second]
    # This page's own cursor: in data-cursor and data-back, in no row (the pager links carry other cursors).
    cursor = re.search(r"cursor=([^&]+)", second)
    assert cursor and page.count(cursor.group(1)) == 2


def test_detail_back_link_returns_to_the_list_named_by_the_referer(client, table):
    table.events.put_new({"event_id": "b1", "timestamp": "2024-01-01T00:00:00Z"})

    def back_from(referer: str, path: str = "/events/b1") -> str | None:
        return marked_link(client.get(path, headers={"Referer": referer}).get_data(as_text=True), "back")

    assert back_from("http://localhost/events?limit=5&cursor=abc") == "/events?limit=5&cursor=abc"
    assert back_from("http://localhost/events") == "/events"
    # Only a list page of this dashboard is a way back: not another site, nor another page of this one.
    assert back_from("https://evil.example/events?limit=5") == "/events"
    assert back_from("http://localhost/events/b2?back=/events%3Flimit%3D5") == "/events"
    assert back_from("http://localhost/status") == "/events"
    # A back= the link was given wins over the Referer.
    assert back_from("http://localhost/events?limit=5", "/events/b1?back=/events%3Flimit%3D7") == "/events?limit=7"


def test_detail_back_link_only_returns_to_this_apps_lists(client, table):
    table.events.put_new({"event_id": "b1", "timestamp": "2024-01-01T00:00:00Z"})
    page = client.get("/events/b1?back=/events%3Flimit%3D5%26cursor%3Dabc").get_data(as_text=True)
    assert marked_link(page, "back") == "/events?limit=5&cursor=abc"
    evil = client.get("/events/b1?back=https://evil.example/").get_data(as_text=True)
    assert "evil.example" not in evil and marked_link(evil, "back") == "/events"


def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/events")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "<script>" not in response.get_data(as_text=True) and "style=" not in response.get_data(as_text=True)


def test_a_row_without_optional_attributes_shows_empty_cells_not_placeholders(client, table):
    table.events.put_new({"event_id": "bare", "timestamp": "2024-01-01T00:00:00Z"})
    put_items(table, [{"event_id": "no-timestamp-at-all"}])
    page = client.get("/events").get_data(as_text=True)
    rows = dict(re.findall(r'<tr data-event-id="([^"]*)">(.*?)</tr>', page, re.S))
    assert set(rows) == {"bare", "no-timestamp-at-all"}
    for row in rows.values():
        assert "bytes" not in row and "processed_at" not in row and "None" not in row
    assert "<time" not in rows["no-timestamp-at-all"]
    assert client.get("/events/no-timestamp-at-all").status_code == 200
