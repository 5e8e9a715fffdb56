"""A request's Scan calls are sized to its deadline (store/reading.CallSize): no call is sent that the deadline
would cut off, since the backend reads an abandoned call all the same while the other requests wait behind it."""
from __future__ import annotations

import pytest

from dashboard.store import deadline
from dashboard.store.errors import DeadlineExceeded
from dashboard.store.pace import Pace
from dashboard.store.reading import CALL_SHARE, FIRST_CALL_ITEMS, CallSize


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def calls(size: CallSize, clock: Clock, answers: list[tuple[int, float]]) -> list[dict[str, int]]:
    """Send one call per (items scanned, seconds taken), recording the Limit each was sent with."""
    sent: list[dict[str, int]] = []
    for items, took in answers:
        def send(limit: dict[str, int], items: int = items, took: float = took) -> dict[str, int]:
            sent.append(limit)
            clock.now += took
            return {"ScannedCount": items}
        size.read(send)
    return sent


def test_outside_a_request_calls_are_not_limited():
    clock = Clock()
    assert calls(CallSize("the scan", clock=clock), clock, [(3000, 5.0), (3000, 5.0)]) == [{}, {}]


def test_the_first_call_is_small_and_the_next_ones_hold_what_the_time_left_allows():
    clock = Clock()
    with deadline.started(4.0):
        sent = calls(CallSize("the scan", clock=clock), clock, [(FIRST_CALL_ITEMS, 0.01), (2500, 0.02)])
    assert sent[0] == {"Limit": FIRST_CALL_ITEMS}
    # 100 items in 10 ms, with about 4 s left: a quarter of it holds 100 * 4 * 0.25 / 0.01 items, a full 1 MB call.
    assert 9_000 < sent[1]["Limit"] <= FIRST_CALL_ITEMS * 4.0 * CALL_SHARE / 0.01


def test_a_pass_goes_on_while_each_call_leaves_room_for_the_next():
    clock = Clock()
    with deadline.started(30.0):
        size = CallSize("the range's Scan", clock=clock)
        # Each call takes the quarter of the time left it was sized for: the next always has room (the clock is fake).
        sent = calls(size, clock, [(FIRST_CALL_ITEMS, 1.0)] + [(1000, 7.0)] * 5)
    assert len(sent) == 6 and all(limit["Limit"] >= FIRST_CALL_ITEMS for limit in sent)


def test_no_call_is_sent_once_the_time_left_cannot_hold_one_as_long_as_the_last():
    clock = Clock()
    with deadline.started(2.0):
        size = CallSize("the range's Scan", clock=clock)
        calls(size, clock, [(FIRST_CALL_ITEMS, 1.5)])  # the fake clock: about 2 s are still left, 1.5 * 1.5 needed
        with pytest.raises(DeadlineExceeded, match="did not answer the range's Scan in time"):
            calls(size, clock, [(FIRST_CALL_ITEMS, 0.1)])


def test_the_first_call_of_a_later_request_is_sized_at_the_pace_the_process_has_seen():
    clock, pace = Clock(), Pace()
    with deadline.started(4.0):
        calls(CallSize("the scan", pace=pace, clock=clock), clock, [(FIRST_CALL_ITEMS, 0.01)])
    with deadline.started(4.0):
        sent = calls(CallSize("the scan", pace=pace, clock=clock), clock, [(FIRST_CALL_ITEMS, 0.01)])
    assert sent[0]["Limit"] > 50 * FIRST_CALL_ITEMS  # 10,000 items a second, a quarter of 4 s left
    slow = Pace()
    slow.scan_called(FIRST_CALL_ITEMS, 2.0)  # moto under load: 50 items a second
    with deadline.started(4.0):
        first = calls(CallSize("the scan", pace=slow, clock=clock), clock, [(1, 0.1)])[0]["Limit"]
    assert first == FIRST_CALL_ITEMS  # a quarter of 4 s holds 50 items at that pace: no call is smaller than 100
