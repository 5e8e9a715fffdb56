"""A whole day of 20,003 events (`make run`'s demo day at about eight times its size) on the embedded moto server,
over real HTTP: every page answers within its deadline, in the order of a brute-force read, and a day-long read on
a slow backend never takes the ordinary pages down with it.

moto walks the whole table on every call (about 0.3 s each at 20,000 items here), so a Scan pass of this table
takes longer than the default read budget and the Queries find a few events a page: with the default settings the
first page shows what the Queries found, the next ones share one Scan pass gathering the day's keys
(store/keypasses.py) and every page after it is served from them, so the whole day is walked in well under a minute.
The walks with plan=scan are run with a budget that lets a pass fit, each page a Scan pass over a window of the day.
"""
from __future__ import annotations

import contextlib
import html
import json
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import date
from urllib.error import HTTPError
from urllib.parse import urlencode

import pytest

from dashboard.app import create_app
from dashboard.app.demo import demo_events
from dashboard.store import Table
from tests.conftest import LiveServer, admin, moto_server, put_items, settings_for, unique_table
from tests.pages import link, row_ids

DAY = {"from": "2024-03-05T00:00:00Z", "to": "2024-03-05T23:59:59Z"}
EVENTS = 20_003
DEADLINE = 4.0  # the default DASHBOARD_DEADLINE_SECONDS
WALK_SECONDS = 150  # a walk of the whole day with the default settings ends within this (about 30 s here)
AFTER = 8.0  # seconds the ordinary pages are still asked for once the day-long read has answered
# About 2% of the day's events, spread over all of it.
SPARSE = {"event_name": "ObjectRestore:Completed"}
FILTERED = {"source": "partner-drop-eu", "event_name": "ObjectRemoved:Delete"}


@pytest.fixture(scope="module")
def day_table() -> Iterator[tuple[str, str, list[dict]]]:
    """One table, built once per module: moto on a process of its own, so the others' tests do not wait on it."""
    # moto may still be working through calls the slow-backend test abandoned at their deadline: it has been told
    # to stop (SIGTERM) and ends when they are done.
    with contextlib.suppress(subprocess.TimeoutExpired), moto_server() as endpoint:
        name = unique_table()
        table = Table.open(settings_for(name, endpoint))
        admin(table).create_table(point_in_time_recovery=False)
        events = list(demo_events(EVENTS, date(2024, 3, 5), seed=27))
        put_items(table, events)
        yield endpoint, name, events


def serve(day_table, **overrides) -> LiveServer:
    endpoint, name, _ = day_table
    return LiveServer(create_app(settings_for(name, endpoint, **overrides))).start()


@pytest.fixture(scope="module")
def server(day_table) -> Iterator[LiveServer]:
    """The dashboard with its default deadline and read budget."""
    live = serve(day_table)
    yield live
    live.stop()


@pytest.fixture(scope="module")
def roomy(day_table) -> Iterator[LiveServer]:
    """A budget in which one Scan pass of this table fits on moto (each page then reads a window of the day)."""
    live = serve(day_table, DASHBOARD_DEADLINE_SECONDS=30, READ_BUDGET_SECONDS=25, DYNAMODB_READ_TIMEOUT=25)
    yield live
    live.stop()


def truth(events: list[dict], filters: dict[str, str], order: str = "asc") -> list[str]:
    chosen = [event for event in events if DAY["from"] <= event["timestamp"] <= DAY["to"]
              and all(event.get(name) == value for name, value in filters.items())]
    chosen.sort(key=lambda event: (event["timestamp"], event["event_id"]), reverse=order == "desc")
    return [event["event_id"] for event in chosen]


def get(url: str) -> tuple[int, str, float]:
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.read().decode(), time.monotonic() - started
    except HTTPError as error:
        return error.code, error.read().decode(), time.monotonic() - started


def api_pages(base: str | list[str], params: dict[str, str | int], deadline: float,
              walk_seconds: float | None = None) -> Iterator[dict]:
    """The pages of a listing as JSON to its end (from the servers in turn when given several: other workers)."""
    bases = [base] if isinstance(base, str) else base
    cursor, number, started = None, 0, time.monotonic()
    while True:
        asked = {**params, **({"cursor": cursor} if cursor else {})}
        status, text, took = get(f"{bases[number % len(bases)]}/api/events?" + urlencode(asked))
        number += 1
        assert status == 200, (number, text[:300])
        assert took < deadline + 1, (number, took)
        if walk_seconds is not None:
            assert time.monotonic() - started < walk_seconds, f"{number} pages in {walk_seconds} s, not at the end"
        page = json.loads(text)
        yield page
        cursor = page["next_cursor"]
        if cursor is None:
            return


@pytest.mark.parametrize("filters", [{}, FILTERED, SPARSE], ids=["all", "filtered", "sparse"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_the_first_pages_of_a_whole_day_answer_within_the_deadline_in_order(server, day_table, filters, order):
    params = {**DAY, **filters, "order": order, "limit": 100}
    wanted = truth(day_table[2], filters, order)
    shown: list[str] = []
    for number, page in enumerate(api_pages(server.url, params, DEADLINE)):
        shown += [item["event_id"] for item in page["items"]]
        assert shown == wanted[:len(shown)]
        assert len(page["items"]) == 100 or page["budget_spent"] or page["next_cursor"] is None
        if number == 1:
            break
    status, text, took = get(f"{server.url}/events?" + urlencode(params))
    assert status == 200 and took < DEADLINE + 1
    rows = row_ids(text)
    assert rows == wanted[:len(rows)]
    assert rows or "data-budget-spent" in text


def test_a_sparse_filter_over_the_day_paged_to_the_end_as_json_equals_the_truth(roomy, day_table):
    # plan=scan: each page one pass over a window of the day, whatever the pace the planner has measured so far. One
    # order only (each page here is a pass of about 5 s): both orders are walked with the default settings below.
    order = "desc"
    params: dict[str, str | int] = {**DAY, **SPARSE, "order": order, "limit": 100, "plan": "scan"}
    pages = list(api_pages(roomy.url, params, 30))
    assert [item["event_id"] for page in pages for item in page["items"]] == truth(day_table[2], SPARSE, order)
    assert all(page["items"] for page in pages[:-1])  # never an empty page before the end


def test_a_filtered_day_paged_to_the_end_as_html_equals_the_truth(roomy, day_table):
    url = f"{roomy.url}/events?" + urlencode({**DAY, **FILTERED, "limit": 100, "order": "desc", "plan": "scan"})
    shown: list[str] = []
    while url:
        status, text, took = get(url)
        assert status == 200 and took < 30 + 1, text[:300]
        shown += row_ids(text)
        following = link(text, "next")
        url = f"{roomy.url}{html.unescape(following)}" if following else ""
    assert shown == truth(day_table[2], FILTERED, "desc")


def test_a_day_long_range_on_a_slow_backend_never_takes_the_ordinary_pages_down(day_table):
    from bench.faultproxy import FaultProxy

    endpoint, name, events = day_table
    proxy = FaultProxy(endpoint, delay=0.3).start()
    app = create_app(settings_for(name, proxy.url))
    live = LiveServer(app).start()
    proxy.fault = "delay"
    minute = {"from": "2024-03-05T13:00:00Z", "to": "2024-03-05T13:00:59Z"}
    ordinary = [f"{live.url}/events", f"{live.url}/events?" + urlencode(minute),
                f"{live.url}/timeline?" + urlencode(minute)]
    heavy: list[tuple[int, str, float]] = []
    ended: list[float] = []

    def read_the_day() -> None:
        try:
            heavy.append(get(f"{live.url}/events?" + urlencode({**DAY, "limit": 100, "plan": "scan"})))
        finally:
            ended.append(time.monotonic())

    reader = threading.Thread(target=read_the_day)
    try:
        reader.start()
        answered: list[tuple[str, int, str, float]] = []
        # While the day is read, and for AFTER seconds once it has answered: a call it left for the backend to finish
        # (one the deadline cut off) would keep the backend busy past its own answer.
        while not ended or time.monotonic() < ended[0] + AFTER or len(answered) < 2 * len(ordinary):
            answered += [(url, *get(url)) for url in ordinary]
        failed = [(url, status, took, text[:2000]) for url, status, text, took in answered if status != 200]
        assert not failed, failed
        assert heavy and all(status in (200, 503) for status, _, _ in heavy)
        assert not app.extensions["events_table"].clients.dynamodb.dashboard_breaker.is_open
    finally:
        reader.join(timeout=60)
        live.stop()
        proxy.stop()


def test_a_day_long_read_cut_off_by_its_deadline_leaves_no_call_behind_for_the_backend(day_table):
    """The root cause of the test above: a call the deadline cuts off is still read by the backend (moto, one call at
    a time), and the other requests' calls wait behind it. Once the request has answered, none of its calls is left."""
    from bench.faultproxy import FaultProxy

    endpoint, name, _ = day_table
    proxy = FaultProxy(endpoint, delay=0.3).start()
    live = LiveServer(create_app(settings_for(name, proxy.url))).start()
    proxy.fault = "delay"
    try:
        started = time.monotonic()
        status, text, took = get(f"{live.url}/events?" + urlencode({**DAY, "limit": 100, "plan": "scan"}))
        assert status in (200, 503) and took < DEADLINE + 1, (status, took, text[:300])
        time.sleep(max(0.0, started + DEADLINE + 2 - time.monotonic()))
        assert proxy.in_flight == 0
    finally:
        live.stop()
        proxy.stop()


def per_second(ids: list[str], events: list[dict]) -> dict[str, int]:
    stamps = {event["event_id"]: event["timestamp"] for event in events}
    found: dict[str, int] = {}
    for event_id in ids:
        found[stamps[event_id]] = found.get(stamps[event_id], 0) + 1
    return found


@pytest.mark.parametrize("filters", [{}, SPARSE], ids=["all", "sparse"])
def test_a_whole_day_timeline_answers_within_the_deadline_and_says_exactly_what_it_counted(server, day_table,
                                                                                            filters):
    events = day_table[2]
    status, text, took = get(f"{server.url}/api/timeline?" + urlencode({**DAY, **filters}))
    assert status == 200 and took < DEADLINE + 1, text[:300]
    data = json.loads(text)
    wanted = per_second(truth(events, filters), events)
    if data["complete"]:
        assert data["total"] == sum(wanted.values()) and data["stopped"] is None
    elif data["seconds_counted"] is not None:  # counted second by second: exact up to the second it names
        assert data["stopped"] in ("budget", "deadline")
        assert data["total"] == sum(count for second, count in wanted.items() if second <= data["counted_through"])
    else:  # a Scan stopped short: each hour's count is at most what it holds
        assert data["stopped"] in ("budget", "deadline") and data["items_read"] < EVENTS
        for bar in data["bars"]:
            assert bar["count"] <= sum(count for second, count in wanted.items() if bar["from"] <= second <= bar["to"])
    status, text, took = get(f"{server.url}/timeline?" + urlencode({**DAY, **filters}))
    assert status == 200 and took < DEADLINE + 1
    assert data["complete"] or "data-incomplete" in text


WALKS = [({}, "asc"), (FILTERED, "desc"), (SPARSE, "asc"), (SPARSE, "desc")]
WALK_IDS = ["all-asc", "filtered-desc", "sparse-asc", "sparse-desc"]


def check_walk(pages: list[dict], wanted: list[str]) -> None:
    assert [item["event_id"] for page in pages for item in page["items"]] == wanted
    assert pages[-1]["items"] or not wanted  # never an empty last page while matches remain
    for page in pages:  # a page short of its limit before the end says why, and goes on
        assert len(page["items"]) == 100 or page["budget_spent"] or page is pages[-1], page["plan_reason"]


# With the default deadline and budget (no plan=): the first page from the Queries, then the pages share one Scan
# pass gathering the day's keys (each going on with it within its budget, empty with Continue), then every page from
# the keys it gathered. The walks of one filter share the server's pass, in either order.
@pytest.mark.parametrize(("filters", "order"), WALKS, ids=WALK_IDS)
def test_a_whole_day_paged_to_the_end_as_json_with_the_default_settings_equals_the_truth(server, day_table, filters,
                                                                                         order):
    started = time.monotonic()
    pages = list(api_pages(server.url, {**DAY, **filters, "order": order, "limit": 100}, DEADLINE, WALK_SECONDS))
    print(f"{len(pages)} pages in {time.monotonic() - started:.1f} s")
    check_walk(pages, truth(day_table[2], filters, order))
    gathering = [page for page in pages if not page["items"]]
    assert all(page["budget_spent"] and page["next_cursor"] for page in gathering)


@pytest.fixture(scope="module")
def html_server(day_table) -> Iterator[LiveServer]:
    """Another process's worth of state (no keys gathered yet): the HTML walks gather their own passes."""
    live = serve(day_table)
    yield live
    live.stop()


@pytest.mark.parametrize(("filters", "order"), WALKS, ids=WALK_IDS)
def test_a_whole_day_paged_to_the_end_as_html_with_the_default_settings_equals_the_truth(html_server, day_table,
                                                                                         filters, order):
    url = f"{html_server.url}/events?" + urlencode({**DAY, **filters, "limit": 100, "order": order})
    shown: list[str] = []
    last: list[str] = []
    started = time.monotonic()
    while url:
        status, text, took = get(url)
        assert status == 200 and took < DEADLINE + 1, (took, text[:300])
        assert time.monotonic() - started < WALK_SECONDS, f"{len(shown)} rows in {WALK_SECONDS} s, not at the end"
        last = row_ids(text)
        shown += last
        assert last or "data-budget-spent" in text  # an empty page says it is not the end
        following = link(text, "next")
        url = f"{html_server.url}{html.unescape(following)}" if following else ""
    print(f"{len(shown)} rows in {time.monotonic() - started:.1f} s")
    assert shown == truth(day_table[2], filters, order)
    assert last


def test_a_walk_whose_pages_go_to_workers_that_hold_no_keys_is_still_exact(day_table):
    """A cursor holds the last (timestamp, event_id) shown: a page read by another worker (or after a restart), which
    holds no pass, gathers one again and goes on from exactly there."""
    first, second = serve(day_table), serve(day_table)
    try:
        pages = list(api_pages([first.url, second.url], {**DAY, **SPARSE, "order": "desc", "limit": 100}, DEADLINE,
                               WALK_SECONDS))
    finally:
        first.stop()
        second.stop()
    check_walk(pages, truth(day_table[2], SPARSE, "desc"))
