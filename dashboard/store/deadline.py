"""One deadline per request over all its DynamoDB calls and their retries: each attempt waits only what remains.

The deadline is a context variable: the web app starts one per request (`started`), every call the
store makes in that context shares it, and worker threads that fan out (the status panels) run in a
copy of the context (`carried`), so they share it too. botocore reads a per-attempt read timeout from
the request context (`read_timeout`); a `before-send` hook sets it to what is left, and refuses an
attempt outright once nothing is left, so botocore's retries stop at the deadline too.
Outside a request (the CLI, tests of the store) there is no deadline: the client's timeouts apply.
"""
from __future__ import annotations

import contextvars
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, TimeoutError as FutureTimeout
from contextlib import contextmanager
from typing import Any, TypeVar

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from .errors import DeadlineExceeded

# Less than this is not worth an attempt: no DynamoDB answer comes back that fast over a network.
MIN_ATTEMPT_SECONDS = 0.05



class Deadline:
    """When one request's calls must have ended; each request's own object, so that the breaker can tell
    the timeouts of one request (however many) from those of several."""

    __slots__ = ("at",)

    def __init__(self, at: float):
        self.at = at


_DEADLINE: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar("dynamodb_deadline", default=None)
T = TypeVar("T")
# A boto3 client: its `meta.events` is botocore's event system.
C = TypeVar("C", bound=BaseClient)
# Where the hooks keep the error DynamoDB answered to the last attempt, in botocore's request context.
_LAST_ANSWER = "dashboard_last_error_answer"


def start(seconds: float) -> contextvars.Token[Deadline | None]:
    """Start a deadline `seconds` from now in the current context; `finish(token)` ends it."""
    return _DEADLINE.set(Deadline(time.monotonic() + seconds))


def finish(token: contextvars.Token[Deadline | None]) -> None:
    _DEADLINE.reset(token)


@contextmanager
def started(seconds: float) -> Iterator[None]:
    token = start(seconds)
    try:
        yield
    finally:
        finish(token)


def remaining() -> float | None:
    """Seconds left before the current deadline (never below 0), or None when there is none."""
    deadline = _DEADLINE.get()
    return None if deadline is None else max(0.0, deadline.at - time.monotonic())


def current() -> Deadline | None:
    """The current request's deadline (None outside a request): who an attempt is for."""
    return _DEADLINE.get()


def expired() -> bool:
    """Whether the current deadline leaves too little for another attempt (never, outside a request)."""
    left = remaining()
    return left is not None and left < MIN_ATTEMPT_SECONDS


def check(operation: str) -> None:
    """Refuse to start a call (or an attempt) once the deadline has passed."""
    left = remaining()
    if left is not None and left < MIN_ATTEMPT_SECONDS:
        raise DeadlineExceeded(f"DynamoDB did not answer {operation} in time", "DeadlineExceeded")


def carried(function: Callable[..., T]) -> Callable[..., T]:
    """`function` bound to a copy of the current context: a worker thread running it keeps this deadline."""
    context = contextvars.copy_context()

    def run(*args: Any, **kwargs: Any) -> T:
        return context.run(function, *args, **kwargs)

    return run


def on_pool(pool: Executor, read: Callable[[Any], T], parts: Iterable[Any], what: str) -> list[T]:
    """`read` of every part on the pool, each under this request's deadline (a worker thread does not inherit it),
    waiting no longer than what is left of it: a queue behind other requests' hung reads included."""
    futures = [pool.submit(carried(read), part) for part in parts]
    try:
        return [future.result(timeout=remaining()) for future in futures]
    except FutureTimeout:
        for future in futures:
            future.cancel()
        raise DeadlineExceeded(f"DynamoDB did not answer {what} in time", "DeadlineExceeded") from None


def _bound_attempt(request: Any, event_name: str = "", **_: Any) -> None:
    if remaining() is None:
        return
    operation = event_name.rsplit(".", 1)[-1]
    try:
        check(operation or "the call")
    except DeadlineExceeded:
        failed = request.context.get(_LAST_ANSWER)
        if failed is not None:
            # No time for the retry DynamoDB's error asked for: that error (throttling, say) is the answer.
            raise ClientError(failed, operation) from None
        raise
    left = remaining() or 0.0
    configured = getattr(request.context.get("client_config"), "read_timeout", None)
    # botocore's URLLib3Session reads this per attempt (botocore >= 1.40): the socket waits no longer.
    request.context["read_timeout"] = min(configured or left, left)


def _remember_answer(request_dict: dict[str, Any], response: Any = None, **_: Any) -> None:
    if response is not None and isinstance(response[1], dict) and "Error" in response[1]:
        request_dict["context"][_LAST_ANSWER] = response[1]


def bound_by_deadline(client: C) -> C:
    """Make every attempt of `client` wait at most what remains of the current deadline."""
    client.meta.events.register("before-send", _bound_attempt)
    client.meta.events.register_first("needs-retry", _remember_answer)
    return client
