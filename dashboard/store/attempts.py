"""What became of each attempt of one call: botocore hooks that note when an attempt's answer was lost.

A write whose answer was lost (a reset or a read timeout after the request went out) may have been
applied; botocore then retries and the caller only sees the last attempt. `watched()` gives the
calls made inside it a record of whether any attempt's answer was lost, from the hooks that
`watch_attempts` registers on a client.
"""
from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.client import BaseClient
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError, ResponseStreamingError

# Errors after which the request may have reached DynamoDB and been applied.
_LOST_EXCEPTIONS = (ReadTimeoutError, ConnectionClosedError, ResponseStreamingError)
_LOST_CODES = {"InternalServerError", "ServiceUnavailable"}
# A boto3 client: its `meta.events` is botocore's event system.
T = TypeVar("T", bound=BaseClient)


@dataclass
class AttemptRecord:
    attempts: int = 0
    answer_lost: bool = False


_RECORD: contextvars.ContextVar[AttemptRecord | None] = contextvars.ContextVar("dynamodb_attempts", default=None)


@contextmanager
def watched() -> Iterator[AttemptRecord]:
    record = AttemptRecord()
    token = _RECORD.set(record)
    try:
        yield record
    finally:
        _RECORD.reset(token)


def _note_attempt(response: Any = None, caught_exception: BaseException | None = None, **_: Any) -> None:
    record = _RECORD.get()
    if record is None:
        return
    record.attempts += 1
    code = response[1].get("Error", {}).get("Code") if response is not None and isinstance(response[1], dict) else None
    if isinstance(caught_exception, _LOST_EXCEPTIONS) or code in _LOST_CODES:
        record.answer_lost = True


def watch_attempts(client: T) -> T:
    client.meta.events.register_first("needs-retry", _note_attempt)
    return client
