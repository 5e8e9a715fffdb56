"""store/deadline.py: one deadline per request over all its DynamoDB calls, faults injected at the wire."""
import contextlib
import time
from types import SimpleNamespace

import pytest
from botocore.exceptions import ReadTimeoutError

from bench.faultproxy import CANNED
from dashboard.app import create_app
from dashboard.store import BackendUnavailable, DeadlineExceeded, StoreError, Table, breaker, deadline
from tests.conftest import settings_for

DEADLINE = 1.0
# Without the deadline a hung backend held a page 15 s and /status 60 s; with it, a page ends at the deadline.
WELL_WITHIN = DEADLINE + 2.0


@pytest.fixture
def proxy(fault_proxy):
    fault_proxy.delay = DEADLINE + 1
    return fault_proxy


@pytest.fixture
def proxied(proxy, served_table):
    name, events = served_table
    app = create_app(settings_for(name, proxy.url, DASHBOARD_DEADLINE_SECONDS=DEADLINE))
    return app.test_client(), events


def pages(events) -> list[str]:
    return ["/events", f"/events?timestamp={events[0]['timestamp']}", f"/events/{events[0]['event_id']}",
            "/status", "/api/status", "/api/events", "/healthz", *pooled_pages(events)]


def pooled_pages(events) -> list[str]:
    """Pages whose reads run on the fan-out pool's threads, which do not inherit the request's context."""
    second = events[0]["timestamp"]
    a_range = f"from={second}&to={second}"
    return [f"/events?{a_range}&plan=fanout", f"/events?{a_range}&plan=scan", f"/timeline?{a_range}",
            f"/timeline?{a_range}&plan=scan", f"/export/events?format=csv&{a_range}", f"/tail?after={second}"]


@pytest.mark.parametrize("fault", ["refuse", "hang", "reset", "delay", *CANNED])
def test_every_page_answers_503_within_the_deadline_and_recovers_by_itself(proxied, proxy, fault):
    client, events = proxied
    proxy.fault = fault
    for url in pages(events):
        started = time.monotonic()
        response = client.get(url)
        elapsed = time.monotonic() - started
        text = response.get_data(as_text=True)
        assert response.status_code == 503, (url, text)
        assert elapsed < WELL_WITHIN, (url, elapsed)
        assert "Traceback" not in text and "arn:aws" not in text and proxy.url.split("//")[1] not in text, text
    proxy.fault = "pass"
    if fault in ("hang", "delay"):
        time.sleep(breaker.COOLDOWN_SECONDS)  # it stopped waiting for a silent DynamoDB: it asks again after this
    for url in pages(events):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("which", range(6))
def test_reads_on_the_pool_keep_the_request_deadline_on_a_hung_backend(proxy, served_table, which):
    # A fresh app each time: its breaker has not opened yet, so the page waits on the hang itself.
    name, events = served_table
    client = create_app(settings_for(name, proxy.url, DASHBOARD_DEADLINE_SECONDS=DEADLINE,
                                     TIMESTAMPS_CANONICAL="yes")).test_client()
    url = pooled_pages(events)[which]
    proxy.fault = "hang"
    started = time.monotonic()
    response = client.get(url)
    assert response.status_code == 503, url
    assert time.monotonic() - started < WELL_WITHIN, url


def test_api_status_is_503_not_unknown_when_dynamodb_throttles(proxied, proxy):
    client, _ = proxied
    proxy.fault = "throttle"
    response = client.get("/api/status")
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.get_json()["error"] == "DynamoDB is throttling"


def test_each_attempt_waits_only_what_remains_of_the_deadline(proxy, served_table):
    table = Table.open(settings_for(served_table[0], proxy.url))
    waits = []
    # botocore runs the generic hook registered last after the dashboard's own.
    table.clients.dynamodb.meta.events.register_last(
        "before-send", lambda request, **_: waits.append(request.context["read_timeout"]))
    proxy.fault = "hang"
    with deadline.started(DEADLINE), pytest.raises(DeadlineExceeded):
        table.events.page(10)
    # The first attempt may wait the whole deadline, each retry only what is left, and none outlives it.
    assert waits and all(wait <= DEADLINE for wait in waits)
    assert waits == sorted(waits, reverse=True)


def test_a_call_outside_any_request_keeps_the_clients_own_timeouts(proxy, served_table):
    table = Table.open(settings_for(served_table[0], proxy.url, DYNAMODB_READ_TIMEOUT=0.5, DYNAMODB_MAX_ATTEMPTS=2))
    attempts = []
    table.clients.dynamodb.meta.events.register("before-send.dynamodb.Scan", lambda **_: attempts.append(1))
    proxy.fault = "hang"
    with pytest.raises(BackendUnavailable) as raised:
        table.events.page(10)
    assert len(attempts) == 2 and raised.value.code == "ReadTimeoutError"


def test_status_panels_run_concurrently_within_the_same_deadline(proxied, proxy):
    client, _ = proxied
    proxy.fault = "hang"
    started = time.monotonic()
    assert client.get("/status").status_code == 503
    # Four calls in a row, each waiting out the deadline, would take four times as long.
    assert time.monotonic() - started < 2 * DEADLINE + 0.5


def attempts_per_call(table: Table, count: int) -> list[int]:
    """How many attempts botocore sent for each of `count` GetItem calls, failed or not."""
    sent: list[int] = []

    def hook(**_: object) -> None:
        sent.append(1)

    events = table.clients.dynamodb.meta.events
    events.register("before-send.dynamodb.GetItem", hook)
    counts = []
    try:
        for _ in range(count):
            before = len(sent)
            with contextlib.suppress(StoreError):  # the store answers every failure as a StoreError
                table.events.get("e-0000")
            counts.append(len(sent) - before)
    finally:
        events.unregister("before-send.dynamodb.GetItem", hook)
    return counts


def test_after_a_burst_of_failures_calls_stop_retrying_until_successes_refill_the_quota(proxy, served_table):
    # The dashboard keeps botocore's retry quota on purpose: during an outage each page makes one attempt
    # and answers 503 at once instead of tripling the load on a struggling table; a few successes restore it.
    table = Table.open(settings_for(served_table[0], proxy.url))
    proxy.fault = "error500"
    failing = attempts_per_call(table, 30)
    assert failing[0] == 3 and failing[-1] == 1
    proxy.fault = "pass"
    attempts_per_call(table, 20)  # each success without a retry gives one token back; a retry costs 14
    proxy.fault = "error500"
    assert attempts_per_call(table, 1) == [3]


def test_a_backend_that_stopped_answering_is_not_waited_for_until_it_may_answer_again(proxied, proxy):
    client, events = proxied
    proxy.fault = "hang"
    for _ in range(breaker.THRESHOLD):
        assert client.get("/events").status_code == 503  # each waits out the deadline
    sent = len(proxy.requests)
    response = client.get("/events")
    assert response.status_code == 503 and "stopped answering" in response.get_data(as_text=True)
    assert len(proxy.requests) == sent  # answered without asking (and waiting for) DynamoDB
    proxy.fault = "pass"
    time.sleep(breaker.COOLDOWN_SECONDS)
    assert client.get("/events").status_code == 200
    assert client.get("/status").status_code == 200


def test_timeouts_of_attempts_a_hang_caught_before_the_breaker_opened_do_not_hold_it_open():
    now = [0.0]
    guard = breaker.Breaker(threshold=3, cooldown=2.0, clock=lambda: now[0])
    caught = [SimpleNamespace(context={}) for _ in range(6)]  # six attempts sent while DynamoDB hangs
    for attempt in caught:
        guard.before_attempt(attempt)
    timed_out = ReadTimeoutError(endpoint_url="http://dynamodb")
    for attempt in caught[:3]:
        guard.after_attempt({"context": attempt.context}, caught_exception=timed_out)
    assert guard.is_open
    now[0] = 1.9
    for attempt in caught[3:]:  # the rest time out later, each at its own deadline
        guard.after_attempt({"context": attempt.context}, caught_exception=timed_out)
    now[0] = 2.0
    probe = SimpleNamespace(context={})
    guard.before_attempt(probe)  # two seconds after it opened, one attempt asks again
    guard.after_attempt({"context": probe.context}, response=(object(), {}))
    assert not guard.is_open


def test_a_probe_that_times_out_opens_the_breaker_again():
    now = [0.0]
    guard = breaker.Breaker(threshold=1, cooldown=2.0, clock=lambda: now[0])
    timed_out = ReadTimeoutError(endpoint_url="http://dynamodb")
    guard.after_attempt({"context": {}}, caught_exception=timed_out)
    now[0] = 2.0
    probe = SimpleNamespace(context={})
    guard.before_attempt(probe)
    now[0] = 3.0
    guard.after_attempt({"context": probe.context}, caught_exception=timed_out)
    with pytest.raises(BackendUnavailable, match="stopped answering"):
        guard.before_attempt(SimpleNamespace(context={}))
