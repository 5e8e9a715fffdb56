"""A count the request's deadline would cut short ends first and says exactly what it counted: never a 503.

The read budget here is out of reach (300 s), so that only the deadline (1.5 s) can end a count; DynamoDB is made
slow by holding each call of the count a while before it is sent to moto.
"""
from __future__ import annotations

import re
import threading
import time
from typing import Any

import pytest

from dashboard.app import create_app
from dashboard.store import Table
from tests import test_ranges
from tests.conftest import settings_for
from tests.test_ranges import body, brute_force

events = test_ranges.events
DAY = {"from": "2024-01-01T00:00:00Z", "to": "2024-01-01T23:59:59Z"}
DEADLINE = 1.5


class SlowCalls:
    """The count's client, each Query and Scan held `delay(n)` seconds first (n: the call's number, from 0)."""

    def __init__(self, client: Any, delay):
        self._client, self._delay = client, delay
        self._lock = threading.Lock()
        self.calls = 0

    def _held(self, operation):
        def run(**kwargs):
            with self._lock:
                number, self.calls = self.calls, self.calls + 1
            time.sleep(self._delay(number))
            return operation(**kwargs)
        return run

    def __getattr__(self, name: str):
        attribute = getattr(self._client, name)
        return self._held(attribute) if name in ("query", "scan") else attribute


def app_on(table: Table, delay, monkeypatch):
    slow = SlowCalls(table.counts._dynamodb, delay)
    monkeypatch.setattr(table.counts, "_dynamodb", slow)
    return slow, create_app(settings_for(table.name, DASHBOARD_DEADLINE_SECONDS=DEADLINE, READ_BUDGET_SECONDS=300,
                                   READ_BUDGET_RCU=1_000_000), table=table).test_client()


def timed(client, url: str, **params):
    started = time.monotonic()
    response = client.get(url, query_string=params)
    return response, time.monotonic() - started


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_a_count_by_seconds_on_a_slow_backend_stops_before_the_deadline_and_says_through_which_second(
        table, events, monkeypatch, order):
    slow, client = app_on(table, lambda n: 0.05, monkeypatch)
    response, took = timed(client, "/api/timeline", **DAY, plan="fanout", order=order)
    data = body(response)
    assert took < DEADLINE + 1
    assert not data["complete"] and data["stopped"] == "deadline"
    assert 0 < data["seconds_counted"] < 86_400
    through = data["counted_through"]
    low, high = (DAY["from"], through) if order == "asc" else (through, DAY["to"])
    assert data["total"] == len(brute_force(events, low, high, "asc", {}))
    page, _ = timed(client, "/timeline", **DAY, plan="fanout", order=order)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "as the request&#39;s deadline neared" in text
    # (counted again, from the cache first, so through a later second)
    assert re.search(r'data-counted-through>2024-01-01T\d\d:\d\d:\d\dZ</time>', text)


def test_a_wave_the_deadline_cuts_short_is_left_out_and_the_waves_before_it_are_counted(table, events, monkeypatch):
    # The first three waves (8 Queries each) answer at once; then DynamoDB hangs past the deadline.
    slow, client = app_on(table, lambda n: 0.0 if n < 24 else 10.0, monkeypatch)
    response, took = timed(client, "/api/timeline", **DAY, plan="fanout")
    data = body(response)
    assert took < DEADLINE + 1
    assert data["seconds_counted"] == 24 and data["counted_through"] == "2024-01-01T00:00:23Z"
    assert data["stopped"] == "deadline" and not data["complete"]
    assert data["total"] == len(brute_force(events, DAY["from"], "2024-01-01T00:00:23Z", "asc", {}))


def test_a_scan_count_the_deadline_cuts_short_answers_what_its_calls_read(table, events, monkeypatch):
    monkeypatch.setattr(table.counts, "scan_page", 50)
    # The first calls of the segments answer at once, the rest after the deadline.
    slow, client = app_on(table, lambda n: 0.0 if n < 8 else 10.0, monkeypatch)
    response, took = timed(client, "/api/timeline", **DAY, plan="scan")
    data = body(response)
    assert took < DEADLINE + 1
    assert not data["complete"] and data["stopped"] == "deadline" and data["seconds_counted"] is None
    assert 0 < data["items_read"] <= 8 * 50 and data["calls"] == 8
    assert 0 < data["total"] < len(events)
    truth = {second: len(brute_force(events, second, second, "asc", {})) for second in
             {bar["from"] for bar in data["bars"]}}
    assert all(bar["count"] <= truth[bar["from"]] or bar["to"] != bar["from"] for bar in data["bars"])
    slow.calls = 0
    page, _ = timed(client, "/timeline", **DAY, plan="scan")
    assert "the Scan read" in page.get_data(as_text=True)


def test_a_backend_that_never_answers_a_count_is_still_a_503(table, monkeypatch):
    slow, client = app_on(table, lambda n: 10.0, monkeypatch)
    response, took = timed(client, "/api/timeline", **DAY, plan="fanout")
    assert response.status_code == 503 and took < DEADLINE + 1
