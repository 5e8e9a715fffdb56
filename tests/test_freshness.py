"""Freshness (issue 23): the newest event and the last 5 minutes, read on their own within a budget, remembered
per process; /api/freshness for probes (200 fresh, 503 stale or empty, 400 for a bad max_age)."""
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from dashboard.app import create_app
from dashboard.formats.times import format_stored
from dashboard.questions import freshness
from dashboard.store import ReadBudget, Table
from dashboard.store.freshness import EMPTY_SECOND, MEMORY_SECONDS, SETTLE_SECONDS, WAVE, SecondMemory
from tests.conftest import LiveServer, admin, put_items, read_calls, settings_for, unique_table

BUDGET = ReadBudget(30, 100_000)


@pytest.fixture
def patient_client(table):
    """A dashboard whose read budget lets in-process moto (milliseconds a Query) read a whole hour back."""
    return create_app(settings_for(table.name, READ_BUDGET_SECONDS=120, READ_BUDGET_RCU=100000,
                                   DASHBOARD_DEADLINE_SECONDS=120), table=table).test_client()


def ago(seconds: float) -> str:
    return format_stored(datetime.now(UTC) - timedelta(seconds=seconds))


def test_the_newest_event_and_the_last_5_minutes_are_found_reading_back_from_now(table):
    put_items(table, [{"event_id": "a", "timestamp": ago(20)}, {"event_id": "b", "timestamp": ago(20)},
                      {"event_id": "c", "timestamp": ago(100)}, {"event_id": "old", "timestamp": ago(400)}])
    found = freshness.read(table, datetime.now(UTC), BUDGET)
    assert found.found.newest is not None and found.found.newest.event_id == "b"
    assert found.found.recent_count == 3 and found.fresh and 19 <= (found.age_seconds or 0) <= 23
    assert found.found.looked_back_seconds >= freshness.RECENT_SECONDS and not found.found.budget_spent


def test_an_empty_look_back_is_a_finding_not_an_empty_table(table):
    found = freshness.read(table, datetime.now(UTC), BUDGET)
    assert found.found.newest is None and not found.fresh
    assert found.reason == "no event in the last 1 h" and found.found.looked_back_seconds == 3600


def test_settled_seconds_are_remembered_so_a_quiet_table_costs_its_look_back_once(table):
    calls = read_calls(table)
    started = datetime.now(UTC)
    freshness.read(table, started, BUDGET)
    first = len(calls)
    later = datetime.now(UTC)
    freshness.read(table, later, BUDGET)
    again = len(calls) - first
    # Only the seconds since the first read and those not settled then, in waves of WAVE seconds.
    assert first >= 3600 and again <= (later - started).total_seconds() + 1 + SETTLE_SECONDS + WAVE
    assert set(calls) == {"Query"}


def test_the_memory_of_seconds_holds_the_longest_look_back_and_no_more():
    # A day's look-back (the longest max_age) is remembered whole, with an hour of seconds since it was read;
    # a week, as before, was about 190 MB a table that no question reads.
    assert freshness.MAX_LOOK_BACK_SECONDS <= MEMORY_SECONDS <= freshness.MAX_LOOK_BACK_SECONDS + 3600
    memory = SecondMemory(size=3)
    for n in range(5):
        memory.put(f"2024-01-01T00:00:0{n}Z", (0, None))
    assert len(memory) == 3 and memory.get("2024-01-01T00:00:01Z") is None
    # Every empty second holds one shared value, not a tuple of its own.
    assert memory.get("2024-01-01T00:00:04Z") is EMPTY_SECOND is memory.get("2024-01-01T00:00:03Z")
    memory.put("2024-01-01T00:00:05Z", (2, "e-9"))
    assert memory.get("2024-01-01T00:00:05Z") == (2, "e-9") and memory.get("2024-01-01T00:00:02Z") is None


def test_the_request_deadline_ends_the_read_with_what_it_found_not_a_503(client, table):
    put_items(table, [{"event_id": "x", "timestamp": "2024-01-01T00:00:00Z"}])
    answer = client.get("/api/freshness")  # in-process moto reads well under an hour in the 4 s deadline
    data = answer.get_json()
    assert answer.status_code == 503 and data["newest"] is None and data["budget_spent"] is True
    assert "as far as the read budget went" in data["reason"]


def test_the_read_budget_stops_the_look_back_and_says_so(table):
    found = freshness.read(table, datetime.now(UTC), ReadBudget(30, 20))
    assert found.found.budget_spent and found.found.looked_back_seconds < 3600
    assert "as far as the read budget went" in (found.reason or "")


def test_the_api_answers_200_while_fresh_and_503_with_a_reason_when_older_than_max_age(client, table):
    put_items(table, [{"event_id": "x", "timestamp": ago(90)}])
    fresh = client.get("/api/freshness?max_age=10m")
    data = fresh.get_json()
    assert fresh.status_code == 200 and data["fresh"] is True and data["newest_event_id"] == "x"
    assert set(data) >= {"newest", "age_seconds", "max_age_seconds", "looked_back_seconds", "last_5m", "calls"}
    assert data["max_age_seconds"] == 600 and data["last_5m"] == 1 and "reason" not in data
    assert "no-store" in fresh.headers["Cache-Control"]
    stale = client.get("/api/freshness?max_age=1m")
    assert stale.status_code == 503 and stale.get_json()["fresh"] is False
    assert "older than max_age 1 min" in stale.get_json()["reason"] and stale.headers["Retry-After"]


def test_an_empty_table_is_503_with_newest_null(patient_client):
    answer = patient_client.get("/api/freshness")
    data = answer.get_json()
    assert answer.status_code == 503 and data["newest"] is None and data["max_age_seconds"] == 900
    assert data["reason"] == "no event in the last 1 h"


@pytest.mark.parametrize("bad", ["10", "5x", "now-5m", "-5m", "0s", "2d"])
def test_a_bad_max_age_is_a_400(client, bad):
    answer = client.get("/api/freshness", query_string={"max_age": bad})
    assert answer.status_code == 400 and "max_age" in answer.get_json()["message"]


def test_pages_load_the_freshness_line_on_their_own_and_keep_their_one_call(client, table):
    put_items(table, [{"event_id": "x", "timestamp": ago(30)}])
    calls = read_calls(table)
    page = client.get("/events").get_data(as_text=True)
    # The page's one Scan (and DescribeTable's item count, cached a minute, as before); no freshness Query.
    assert calls.count("Scan") == 1 and "Query" not in calls
    assert 'hx-get="/freshness"' in page and "data-freshness-link" in page
    status = client.get("/status").get_data(as_text=True)
    assert 'hx-get="/freshness"' in status
    line = client.get("/freshness", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Newest event" in line and 'data-freshness-newest' in line and "in the last 5 min" in line
    assert "<html" not in line


def test_the_freshness_page_states_an_old_table_as_a_finding(patient_client, table):
    put_items(table, [{"event_id": "x", "timestamp": "2024-01-01T00:00:00Z"}])
    page = patient_client.get("/freshness").get_data(as_text=True)
    assert "No event in the last 1 h." in page and 'data-fresh="false"' in page


def test_api_freshness_flips_from_200_to_503_when_writes_stop_over_real_http(moto_endpoint):
    name = unique_table()
    table = Table.open(settings_for(name, moto_endpoint))
    admin(table).create_table(point_in_time_recovery=False)
    server = LiveServer(create_app(settings_for(name, moto_endpoint))).start()
    try:
        url = f"{server.url}/api/freshness?max_age=3s"
        put_items(table, [{"event_id": "live-1", "timestamp": format_stored(datetime.now(UTC))}])
        alive = requests.get(url, timeout=30)
        assert alive.status_code == 200 and alive.json()["newest_event_id"] == "live-1"
        time.sleep(4.5)  # the writes stop
        stopped = requests.get(url, timeout=30)
        assert stopped.status_code == 503 and stopped.json()["fresh"] is False
        assert stopped.json()["newest_event_id"] == "live-1" and "older than max_age" in stopped.json()["reason"]
        put_items(table, [{"event_id": "live-2", "timestamp": format_stored(datetime.now(UTC))}])
        again = requests.get(url, timeout=30)
        assert again.status_code == 200 and again.json()["newest_event_id"] == "live-2"
    finally:
        server.stop()
