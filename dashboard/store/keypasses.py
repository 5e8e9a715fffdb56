"""A settled range's keys in (timestamp, event_id) order, gathered by one Scan pass that several pages' requests share.

Where neither plan fills a page in time (a dense day on moto, whose every call walks the whole table: Queries find a
few events a budget, a Scan pass outlasts the deadline), a walk of the range could not reach its end. So the pass is
resumable and light: one segment, calls that send back only `event_id` and `timestamp` of the range's matching
events (the range and the filters are the FilterExpression), each sized to what the time left holds at the pace the
pass's last call read, and each request goes on from the LastEvaluatedKey where the last one stopped, while its read
budget and deadline leave room. Once the pass has ended its keys are sorted, and every page of the range (or of a
narrower one with the same filters, in either order) is served from them with one BatchGetItem.

Bounds: only settled ranges (caller's choice); a pass is kept PASS_SECONDS after its last use; the keys held in all
passes of a process are at most MAX_KEYS (the least recently used passes are dropped first); a pass that would hold
more is given up (it keeps no keys, only its place, so that pages do not start it again) and its pages are read as
before (the Queries, with Continue). A page is correct whatever this process holds: its cursor is the last
(timestamp, event_id) shown, so a page without a pass (another worker, a restart, an expired pass) starts one again.
"""
from __future__ import annotations

import bisect
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import deadline
from .errors import StoreError, call
from .events import read_request
from .ranges import Ordered, ordered_key, range_condition
from .reading import ROOM, Meter
from .records import TABLE_KEY, TIMESTAMP_ATTRIBUTE, Event, EventPage, Filters, Keyset, ReadBudget, Span

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MAX_KEYS = 200_000  # about 30 MB of (timestamp, event_id) pairs in a process
MAX_PASSES = 32
PASS_SECONDS = 600.0
FIRST_CALL = 500  # items the first call of a process evaluates, before any call has been timed
MIN_CALL = 100
# A call is sized to take at most this share of the time left, at the pace the pass's last call read.
CALL_SHARE = 0.5
BATCH = 100  # BatchGetItem's most keys a call
LAST = "\U0010ffff"
PassKey = tuple[str, str, Filters]


@dataclass
class Pass:
    """One range's pass: where its Scan goes on from (None before its first call), the keys found, once ended sorted."""

    span: Span
    filters: Filters
    start: dict[str, Any] | None = None
    keys: list[Ordered] = field(default_factory=list)
    items_read: int = 0
    calls: int = 0
    ordered: list[Ordered] | None = None
    too_large: bool = False
    rate: float | None = None  # items evaluated a second by its last call
    lock: threading.Lock = field(default_factory=threading.Lock)

    def covers(self, span: Span, filters: Filters) -> bool:
        return self.filters == filters and self.span.start <= span.start and span.end <= self.span.end


class KeyPasses:
    """The passes of one table. Thread-safe: one per process."""

    def __init__(self, dynamodb: DynamoDBClient, table_name: str, max_keys: int = MAX_KEYS,
                 most: int | None = None, clock: Callable[[], float] = time.monotonic):
        self._dynamodb, self.table_name, self.max_keys, self._clock = dynamodb, table_name, max_keys, clock
        self._most = most  # the most items a call evaluates (None: what the time left holds, at most 1 MB)
        self._lock = threading.Lock()
        self._passes: OrderedDict[PassKey, tuple[Pass, float]] = OrderedDict()
        self._rate: float | None = None  # the last call's pace in any pass: the first call of a new pass

    def gathered(self, span: Span, filters: Filters) -> Pass | None:
        """An ended pass whose range holds `span`, with the same filters (None when there is none)."""
        with self._lock:
            self._expire()
            for key, (found, _) in reversed(self._passes.items()):
                if found.ordered is not None and found.covers(span, filters):
                    self._touch(key, found)
                    return found
        return None

    def started(self, span: Span, filters: Filters) -> bool:
        """Whether a pass of exactly this range is under way (not given up)."""
        with self._lock:
            entry = self._passes.get((span.start, span.end, filters))
            return entry is not None and not entry[0].too_large

    def advance(self, span: Span, filters: Filters, budget: ReadBudget) -> tuple[Pass, Meter]:
        """Go on with the range's pass (starting it) while the budget and the deadline leave room; what it cost.
        A pass another request is reading is left to it (this request reads nothing)."""
        meter = Meter(budget)
        key = (span.start, span.end, filters)
        with self._lock:
            self._expire()
            entry = self._passes.get(key)
            gathering = entry[0] if entry else Pass(Span(span.start, span.end), filters, rate=self._rate)
            self._touch(key, gathering)
        if gathering.too_large or gathering.ordered is not None or not gathering.lock.acquire(blocking=False):
            return gathering, meter
        try:
            self._read(gathering, meter)
        finally:
            gathering.lock.release()
        with self._lock:
            if gathering.too_large:
                gathering.keys = []
            self._bound()
        return gathering, meter

    def _read(self, gathering: Pass, meter: Meter) -> None:
        request = read_request(self.table_name, condition=range_condition(gathering.span, gathering.filters, True))
        names = request.setdefault("ExpressionAttributeNames", {})
        names.update({"#pk": TABLE_KEY, "#pt": TIMESTAMP_ATTRIBUTE})
        request["ProjectionExpression"] = "#pk, #pt"
        took: float | None = None
        while gathering.ordered is None:
            left = _time_left(meter)
            if took is not None and left is not None and left < ROOM * took:
                return
            limit = FIRST_CALL if gathering.rate is None or left is None else int(gathering.rate * left * CALL_SHARE)
            limit = max(MIN_CALL, limit) if self._most is None else min(self._most, max(MIN_CALL, limit))
            if gathering.rate and left is not None and ROOM * limit / gathering.rate > left:
                return  # not even the smallest call fits: the next request goes on
            started = self._clock()
            try:
                response = meter.record(call(self._dynamodb.scan, self.table_name, **request, Limit=limit,
                                             **({"ExclusiveStartKey": gathering.start} if gathering.start else {})))
            except StoreError:
                if gathering.calls and deadline.expired():
                    return  # cut off by the deadline: the pass goes on from where it was
                raise
            took = self._clock() - started
            scanned = int(response.get("ScannedCount", 0))
            if scanned and took > 0:
                gathering.rate = self._rate = scanned / took
            gathering.keys += [found for found in map(ordered_key, response.get("Items", [])) if found is not None]
            gathering.items_read += scanned
            gathering.calls += 1
            gathering.start = response.get("LastEvaluatedKey")
            if len(gathering.keys) > self.max_keys:
                gathering.too_large = True
                return
            if gathering.start is None:
                gathering.ordered, gathering.keys = sorted(set(gathering.keys)), []
                return
            if meter.spent():
                return

    def page(self, gathered: Pass, span: Span, limit: int, after: Keyset | None) -> EventPage:
        """The page of `span` after `after` from an ended pass: its keys in order, its items in one BatchGetItem."""
        meter = Meter()
        ordered = gathered.ordered or []
        low = bisect.bisect_left(ordered, (span.start, ""))
        high = bisect.bisect_right(ordered, (span.end, LAST))
        if after is not None:
            bound = (after.timestamp, after.event_id if after.event_id is not None else
                     ("" if span.descending else LAST))
            if span.descending:
                high = min(high, bisect.bisect_left(ordered, bound))
            else:
                low = max(low, bisect.bisect_right(ordered, bound))
        keys = ordered[max(low, high - limit - 1):high][::-1] if span.descending else ordered[low:low + limit + 1]
        shown = keys[:limit]
        items = self._items([event_id for _, event_id in shown], meter)
        # An event deleted since the pass is left out (the page is then shorter); its place still moves on.
        events = [Event(items[event_id]) for _, event_id in shown if event_id in items]
        following = Keyset(*shown[-1]) if len(keys) > limit else None
        return EventPage(events=events, next_key=following, consumed_rcu=meter.rcu, scanned_count=meter.items_read,
                         calls=meter.calls, plan="range-scan")

    def _items(self, event_ids: list[str], meter: Meter) -> dict[str, Any]:
        found: dict[str, Any] = {}
        wanted: list[dict[str, Any]] = [{TABLE_KEY: {"S": event_id}} for event_id in event_ids]
        while wanted:
            asked, wanted = wanted[:BATCH], wanted[BATCH:]
            response: dict[str, Any] = dict(call(self._dynamodb.batch_get_item, self.table_name,
                                                 ReturnConsumedCapacity="TOTAL",
                                                 RequestItems={self.table_name: {"Keys": asked}}))
            units = [part.get("CapacityUnits") for part in response.get("ConsumedCapacity") or []]
            known = [float(unit) for unit in units if unit is not None]
            meter.record({"ConsumedCapacity": {"CapacityUnits": sum(known)} if known else None})
            for item in response.get("Responses", {}).get(self.table_name, []):
                found[item[TABLE_KEY]["S"]] = item
            wanted += response.get("UnprocessedKeys", {}).get(self.table_name, {}).get("Keys", [])
        return found

    def _touch(self, key: PassKey, gathering: Pass) -> None:
        self._passes[key] = (gathering, self._clock())
        self._passes.move_to_end(key)

    def _expire(self) -> None:
        now = self._clock()
        for key in [key for key, (_, used) in self._passes.items() if now - used >= PASS_SECONDS]:
            del self._passes[key]

    def _bound(self) -> None:
        """Drop the least recently used passes until the keys held fit MAX_KEYS and the passes MAX_PASSES."""
        def held() -> int:
            return sum(len(found.keys) + len(found.ordered or []) for found, _ in self._passes.values())
        while len(self._passes) > 1 and (held() > self.max_keys or len(self._passes) > MAX_PASSES):
            self._passes.popitem(last=False)


def _time_left(meter: Meter) -> float | None:
    left = [seconds for seconds in (deadline.remaining(), meter.seconds_left()) if seconds is not None]
    return min(left) if left else None
