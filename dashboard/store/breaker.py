"""When DynamoDB stops answering at all, stop waiting for it: a circuit breaker per client.

A hung backend costs each request its whole deadline and holds a server thread that long, so a few
hung pages starve everything behind them (static files included). Once attempts of THRESHOLD different
requests got no answer in time, with no answer from DynamoDB since they were sent, attempts fail at once
for COOLDOWN_SECONDS; then one attempt is let through to see whether DynamoDB answers again, and any
answer closes the circuit. One request's own timeouts, however many (a day-long range's Queries all
cut off by its deadline), never open it: that request spent its own time, which says nothing of the
backend. Errors DynamoDB answers with (throttling, 500, denied) and refused connections are fast
already and do not count: botocore's retry quota sheds them.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from botocore.client import BaseClient
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError

from . import deadline
from .errors import BackendUnavailable

THRESHOLD = 3
_GENERATION = "dashboard_breaker_generation"
_ASKER = "dashboard_breaker_request"
COOLDOWN_SECONDS = 2.0
# A boto3 client: its `meta.events` is botocore's event system.
T = TypeVar("T", bound=BaseClient)


class Breaker:
    def __init__(self, threshold: int = THRESHOLD, cooldown: float = COOLDOWN_SECONDS,
                 clock: Callable[[], float] = time.monotonic):
        self._threshold, self._cooldown, self._clock = threshold, cooldown, clock
        self._lock = threading.Lock()
        # The requests (their deadlines) whose attempts timed out since DynamoDB last answered.
        self._timed_out: set[object] = set()
        self._closed_at: float | None = None  # while open: when the next attempt may go through
        # Bumped whenever DynamoDB answers and whenever the circuit opens: a timeout of an attempt sent before
        # that is old news. (The attempts a hang caught keep timing out for up to a deadline after it opened:
        # counted, each would hold the circuit open again and keep it open after DynamoDB is back.)
        self._generation = 0

    def before_attempt(self, request: Any = None, **_: Any) -> None:
        with self._lock:
            if request is not None:
                request.context[_GENERATION] = self._generation
                request.context[_ASKER] = deadline.current()
            if self._closed_at is None:
                return
            now = self._clock()
            if now < self._closed_at:
                raise BackendUnavailable("DynamoDB has stopped answering; the dashboard waits a moment before "
                                         "asking again", "NotAnswering")
            self._closed_at = now + self._cooldown  # this attempt is the probe; the others still wait

    def after_attempt(self, request_dict: dict[str, Any] | None = None, response: Any = None,
                      caught_exception: BaseException | None = None, **_: Any) -> None:
        context = (request_dict or {}).get("context", {})
        sent_in = context.get(_GENERATION)
        with self._lock:
            if isinstance(caught_exception, (ReadTimeoutError, ConnectTimeoutError)):
                if sent_in is not None and sent_in < self._generation:
                    return  # sent before DynamoDB last answered
                # Outside a request (the CLI) every attempt speaks for itself.
                asker = context.get(_ASKER)
                self._timed_out.add(asker if asker is not None else object())
                if len(self._timed_out) >= self._threshold:
                    self._closed_at = self._clock() + self._cooldown
                    self._generation += 1  # (the set is kept: a probe that times out opens it again)
            elif response is not None or (caught_exception is not None and not isinstance(caught_exception,
                                                                                          BackendUnavailable)):
                # An answer, or a fast failure (refused, reset): nothing is holding threads any more.
                self._timed_out.clear()
                self._closed_at = None
                self._generation += 1

    @property
    def is_open(self) -> bool:
        return self._closed_at is not None


def with_breaker(client: T, breaker: Breaker | None = None) -> T:
    breaker = breaker or Breaker()
    events = client.meta.events
    events.register_first("before-send", breaker.before_attempt)
    events.register_first("needs-retry", breaker.after_attempt)
    # Kept on the client itself so that tests and the status page reach the one breaker of a client; boto3
    # clients accept new attributes, which their type does not declare.
    client.dashboard_breaker = breaker  # type: ignore[attr-defined]
    return client
