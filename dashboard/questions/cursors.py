"""Signed, opaque page tokens that carry where a page starts and the way back to earlier pages.

DynamoDB only reads forwards, so a token holds where its page starts (the ExclusiveStartKey of a
Scan or Query, or for a time range the (timestamp, event_id) keyset of the last event shown) and
the starts of the pages before it. That makes "previous" work from any bookmarked URL with no server
state. The trail is capped, in pages and in characters, so URLs stay within what proxies and gunicorn
accept: past the cap the oldest keys are dropped and "previous" from the oldest kept page goes to the
first page.
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field, replace
from typing import Any

from itsdangerous import BadData, URLSafeSerializer

from dashboard.formats import times
from dashboard.store.records import Keyset

MAX_TRAIL = 100
# Long ids make long keys: a token is kept under this many characters (oldest trail dropped first), so
# that every link holding one, and a detail link's way back to it, fit gunicorn's 8190-byte request line.
MAX_TOKEN_LENGTH = 3000
_VERSION = 1
# A key value as DynamoDB's wire format has it: key attributes are strings, numbers or binary.
_KEY_TYPES = ("S", "N", "B")

Key = dict[str, dict[str, Any]]
Start = Key | Keyset


class CursorError(ValueError):
    """A page token that was not made by this dashboard for this listing."""


@dataclass(frozen=True)
class Position:
    """Where a page of a listing starts: None is the first page."""

    start_key: Start | None = None
    # Starts of the earlier pages that are not the first one, oldest first.
    trail: tuple[Start, ...] = ()
    number: int = 1
    truncated: bool = field(default=False)
    # Items read by the listing before this page, counted forwards from its first page; None once
    # "previous" has gone back (the trail keeps starts, not counts).
    read: int | None = field(default=0, compare=False)
    # The absolute window a relative range (from=now-15m) resolved to on its first page: every page after it,
    # and Previous back to the first, read that window, whatever the clock says then.
    window: tuple[str, str] | None = None

    @property
    def is_first(self) -> bool:
        return self.start_key is None

    def following(self, next_key: Start, read_here: int = 0) -> Position:
        """The position of the page after this one, which starts after `next_key`; this page read `read_here`."""
        trail = self.trail + ((self.start_key,) if self.start_key is not None else ())
        truncated = self.truncated
        if len(trail) > MAX_TRAIL:
            trail = trail[-MAX_TRAIL:]
            truncated = True
        read = self.read + read_here if self.read is not None else None
        return Position(start_key=next_key, trail=trail, number=self.number + 1, truncated=truncated, read=read,
                        window=self.window)

    def preceding(self) -> Position | None:
        """The position of the page before this one, or None on the first page."""
        if self.start_key is None:
            return None
        if not self.trail:
            return Position(window=self.window)
        return Position(start_key=self.trail[-1], trail=self.trail[:-1], number=self.number - 1,
                        truncated=self.truncated, read=None, window=self.window)


class Cursors:
    """Turns positions into URL-safe tokens and back, bound to one listing (its scope) of one environment."""

    def __init__(self, secret_key: str, environment: str = ""):
        self._serializer = URLSafeSerializer(secret_key, salt="events-dashboard.cursor")
        # Keys differ from one environment's table to another's: a token never crosses over ("" is the one table
        # of EVENTS_TABLE, whose tokens carry no environment at all).
        self.environment = environment

    def encode(self, position: Position, scope: str) -> str | None:
        """The token of a position; when the trail makes it too long for a URL, the oldest pages are dropped."""
        if position.is_first and position.window is None:
            return None  # the first page of a listing needs no token; of a pinned window, its window
        token = self._dumps(position, scope)
        if len(token) <= MAX_TOKEN_LENGTH or not position.trail:
            return token
        # Keep as many of the most recent pages as fit: a binary search over how many are kept.
        best, low, high = self._dumps(replace(position, trail=(), truncated=True), scope), 1, len(position.trail) - 1
        while low <= high:
            kept = (low + high) // 2
            candidate = self._dumps(replace(position, trail=position.trail[-kept:], truncated=True), scope)
            if len(candidate) <= MAX_TOKEN_LENGTH:
                best, low = candidate, kept + 1
            else:
                high = kept - 1
        return best

    def _dumps(self, position: Position, scope: str) -> str:
        payload = {
            "v": _VERSION,
            "s": scope,
            "k": None if position.start_key is None else _start_to_json(position.start_key),
            "t": [_start_to_json(key) for key in position.trail],
            "n": position.number,
            "x": position.truncated,
        }
        if self.environment:
            payload["e"] = self.environment
        if position.read is not None:
            payload["r"] = position.read
        if position.window is not None:
            payload["w"] = list(position.window)
        return self._serializer.dumps(payload)

    def decode(self, token: str | None, scope: str) -> Position:
        if token is None or token == "":
            return Position()
        if len(token) > 16384:
            raise CursorError("cursor is too long to be one of ours")
        try:
            payload = self._serializer.loads(token)
        except BadData:
            raise CursorError("cursor is malformed or was tampered with: start again from the first page") from None
        except Exception:  # zlib or JSON errors inside a validly signed but unreadable token
            raise CursorError("cursor cannot be read: start again from the first page") from None
        if self._serializer.dumps(payload) != token:
            # base64 leaves spare bits in a token's last character: a changed one can still carry a valid
            # signature. Only the exact token this dashboard made is accepted.
            raise CursorError("cursor is malformed or was tampered with: start again from the first page")
        if not isinstance(payload, dict) or payload.get("v") != _VERSION:
            raise CursorError("cursor is from another version of the dashboard: start again from the first page")
        if payload.get("e", "") != self.environment:
            raise CursorError(f"cursor belongs to another environment ({payload.get('e') or 'none'}), not "
                              f"{self.environment or 'this one'}: start again from the first page")
        if payload.get("s") != scope:
            raise CursorError("cursor belongs to another listing or search: start again from the first page")
        try:
            window = _window_from_json(payload.get("w"))
            start_key = None if payload["k"] is None and window is not None else _start_from_json(payload["k"])
            trail = tuple(_start_from_json(key) for key in payload["t"])
            number = payload["n"]
            truncated = payload["x"]
            read = payload.get("r")
        except (KeyError, TypeError, ValueError):
            raise CursorError("cursor is malformed: start again from the first page") from None
        # Only a pinned window's first page (no start key) is page 1 with a token.
        if not isinstance(number, int) or number < (1 if start_key is None else 2) or not isinstance(
                truncated, bool) or not (read is None or (isinstance(read, int) and read >= 0)):
            raise CursorError("cursor is malformed: start again from the first page")
        return Position(start_key=start_key, trail=trail, number=number, truncated=truncated, read=read,
                        window=window)


def _window_from_json(data: Any) -> tuple[str, str] | None:
    if data is None:
        return None
    if (not isinstance(data, list) or len(data) != 2 or not all(isinstance(bound, str) for bound in data)
            or any(times.try_parse(bound) is None or times.normalize(bound) != bound for bound in data)
            or data[0] > data[1]):
        raise ValueError("bad window")
    return data[0], data[1]


def _start_to_json(start: Start | None) -> Any:
    # A keyset is a list, a DynamoDB key a mapping: the two never read as each other.
    if isinstance(start, Keyset):
        return [start.timestamp, start.event_id]
    return _key_to_json(start)


def _start_from_json(data: Any) -> Start:
    if isinstance(data, list):
        if len(data) != 2 or not isinstance(data[0], str) or not (data[1] is None or isinstance(data[1], str)):
            raise ValueError("bad keyset")
        return Keyset(data[0], data[1])
    return _key_from_json(data)


def _key_to_json(key: Key | None) -> dict[str, list[str]]:
    if not isinstance(key, dict) or not key:
        raise ValueError("a page key is a non-empty mapping")
    encoded = {}
    for name, typed in key.items():
        (kind, value), = typed.items()
        if kind == "B":
            value = base64.b64encode(bytes(value)).decode("ascii")
        encoded[name] = [kind, value]
    return encoded


def _key_from_json(data: Any) -> Key:
    if not isinstance(data, dict) or not data or len(data) > 4:
        raise ValueError("a page key is a small non-empty mapping")
    key: Key = {}
    for name, typed in data.items():
        if not isinstance(name, str) or not isinstance(typed, list) or len(typed) != 2:
            raise ValueError("bad key attribute")
        kind, value = typed
        if kind not in _KEY_TYPES or not isinstance(value, str):
            raise ValueError("bad key attribute type")
        if kind == "B":
            try:
                key[name] = {"B": base64.b64decode(value, validate=True)}
            except binascii.Error:
                raise ValueError("bad binary key") from None
        else:
            key[name] = {kind: value}
    return key
