"""store/breaker.py: the circuit opens when DynamoDB stops answering across requests, not on one request's deadline."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from botocore.exceptions import ReadTimeoutError

from dashboard.store import BackendUnavailable, breaker, deadline

TIMED_OUT = ReadTimeoutError(endpoint_url="http://dynamodb")


def sent(guard: breaker.Breaker) -> SimpleNamespace:
    attempt = SimpleNamespace(context={})
    guard.before_attempt(attempt)
    return attempt


def time_out(guard: breaker.Breaker, attempt: SimpleNamespace) -> None:
    guard.after_attempt({"context": attempt.context}, caught_exception=TIMED_OUT)


def test_one_requests_own_timeouts_however_many_never_open_the_breaker():
    guard = breaker.Breaker(threshold=3, cooldown=2.0, clock=lambda: 0.0)
    with deadline.started(4.0):
        attempts = [sent(guard) for _ in range(40)]  # a day-long range's Queries, all cut off by its deadline
    for attempt in attempts:
        time_out(guard, attempt)
    assert not guard.is_open
    guard.before_attempt(SimpleNamespace(context={}))  # every other page still asks


def test_timeouts_of_three_requests_with_no_answer_between_open_the_breaker():
    guard = breaker.Breaker(threshold=3, cooldown=2.0, clock=lambda: 0.0)
    attempts = []
    for _ in range(3):
        with deadline.started(4.0):
            attempts.append(sent(guard))
    for attempt in attempts:
        time_out(guard, attempt)
    assert guard.is_open
    with pytest.raises(BackendUnavailable, match="stopped answering"):
        guard.before_attempt(SimpleNamespace(context={}))


def test_an_answer_between_timeouts_of_different_requests_keeps_the_breaker_closed():
    guard = breaker.Breaker(threshold=3, cooldown=2.0, clock=lambda: 0.0)
    for _ in range(3):
        with deadline.started(4.0):
            attempt = sent(guard)
        time_out(guard, attempt)
        answered = sent(guard)
        guard.after_attempt({"context": answered.context}, response=(object(), {}))
    assert not guard.is_open
