"""Formatting of stored values for people (pages) and scripts (JSON), without losing a digit; pure functions."""
from __future__ import annotations

import base64
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

import simplejson
from markupsafe import Markup, escape

from . import times

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
TYPE_NAMES = {
    "S": "String", "N": "Number", "B": "Binary", "BOOL": "Boolean", "NULL": "Null",
    "SS": "String set", "NS": "Number set", "BS": "Binary set", "M": "Map", "L": "List",
}


def human_bytes(value: Any) -> str:
    """1536 -> '1.5 KiB'; anything that is not a non-negative number is shown as it is."""
    try:
        # A stored number is a Decimal already (a list page asks for 100 of them): read again, it is the same.
        amount = value if type(value) is Decimal else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if not amount.is_finite() or amount < 0:
        return str(value)
    if amount < 1024:
        return f"{amount.normalize():f} B" if amount == amount.to_integral_value() else f"{amount} B"
    size = float(amount)
    for unit in _UNITS:
        if size < 1024 or unit == _UNITS[-1]:
            return f"{size:.1f} {unit}"
        size /= 1024
    return str(value)


def human_duration(seconds: float | None) -> str:
    """A processing lag such as '850 ms', '1.2 s', '3 min 5 s'; negative lags keep their sign."""
    if seconds is None:
        return ""
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds < 1:
        return f"{sign}{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{sign}{seconds:.1f} s".replace(".0 s", " s")
    if seconds < 3600:
        return f"{sign}{int(seconds // 60)} min {int(seconds % 60)} s"
    return f"{sign}{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"


def metric_value(value: float | None) -> str:
    """A CloudWatch figure for people: 1,234 or 12.35 (two decimals at most); '—' when there is none."""
    if value is None:
        return "—"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _wire_ready(typed: Any) -> Any:
    """DynamoDB JSON with binary as base64, as the AWS CLI prints it."""
    if isinstance(typed, dict):
        return {name: _wire_ready(value) for name, value in typed.items()}
    if isinstance(typed, list):
        return [_wire_ready(value) for value in typed]
    if isinstance(typed, (bytes, bytearray)):
        return base64.b64encode(bytes(typed)).decode("ascii")
    return typed


def wire_json(item: dict[str, Any]) -> str:
    """The item exactly as stored, in DynamoDB JSON: numbers are the stored digit strings.

    Invisible and reordering characters are written as \\u escapes: the same JSON value, but a
    right-to-left override cannot turn the text around on the page."""
    text = simplejson.dumps(_wire_ready(item), indent=2, sort_keys=True, ensure_ascii=False)
    # The JSON encoder escapes control characters inside strings already; "\n" here is the indentation.
    if text.replace("\n", "").isprintable():  # the usual case, tested in C rather than a call per character
        return text
    return "".join(_json_escape(char) if char != "\n" and is_hidden(char) else char for char in text)


# Joins emoji sequences (family, flags): shown as the emoji, not as a code point.
_ZERO_WIDTH_JOINER = "\u200d"


def is_hidden(char: str) -> bool:
    """Control, formatting (bidi overrides, zero-width) and separator characters: invisible or reordering."""
    return char != _ZERO_WIDTH_JOINER and unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")


def _json_escape(char: str) -> str:
    return simplejson.dumps(char, ensure_ascii=True)[1:-1]


def visible(value: Any) -> Markup:
    """Text for a page with every hidden character shown as its code point (U+202E), never acting on the text."""
    text = str(value)
    # Every hidden character is one str.isprintable() refuses (categories C* and Z* but the space): the usual
    # text is let through by one test in C, not a call per character.
    if text.isprintable() or not any(is_hidden(char) for char in text):
        return escape(text)
    return Markup("").join(
        Markup('<span class="ctrl" title="{}">U+{:04X}</span>').format(unicodedata.name(char, "control character"),
                                                                        ord(char))
        if is_hidden(char) else escape(char)
        for char in text
    )


def plain_ready(value: Any) -> Any:
    """Plain Python values made JSON-ready: sets become sorted lists, bytes base64. Decimals stay exact."""
    if isinstance(value, dict):
        return {name: plain_ready(inner) for name, inner in value.items()}
    if isinstance(value, (set, frozenset)):
        return [plain_ready(inner) for inner in sorted(value)]
    if isinstance(value, list):
        return [plain_ready(inner) for inner in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def dumps(value: Any, **options: Any) -> str:
    """JSON where Decimal is written as the exact number it holds, never through float."""
    return simplejson.dumps(plain_ready(value), use_decimal=True, ensure_ascii=False, **options)


def loads(text: str | bytes, **options: Any) -> Any:
    """JSON whose numbers are read as Decimal, exactly."""
    return simplejson.loads(text, use_decimal=True, **options)


def typed_entries(item: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(name, type tag, wire value) for each attribute: the key first, then by name."""
    def order(name: str) -> tuple[int, str]:
        return (0 if name == "event_id" else 1, name)
    return [(name, type_tag(item[name]), next(iter(item[name].values()))) for name in sorted(item, key=order)]


def b64(value: bytes | bytearray) -> str:
    return base64.b64encode(bytes(value)).decode("ascii")


def cell(value: Any) -> str:
    """One attribute in a list cell: exact digits, sets joined, binary as base64, missing as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (bytes, bytearray)):
        return b64(value)
    if isinstance(value, (set, frozenset)):
        return ", ".join(cell(inner) for inner in sorted(value))
    if isinstance(value, (dict, list)):
        return dumps(value)
    return str(value)


def ago(stored: Any) -> str:
    """'3 h ago' for a stored timestamp, empty for anything that is not one."""
    moment = times.try_parse(stored)
    return times.relative(moment) if moment else ""


def lag(event_values: dict[str, Any]) -> str:
    """Processing lag, processed_at - timestamp, for people, never more precise than the stored values.

    Two whole-second timestamps cannot tell 0 ms from 999 ms: their lag is shown in whole seconds,
    and a difference of zero as "< 1 s".
    """
    start, end = event_values.get("timestamp"), event_values.get("processed_at")
    seconds = times.lag_seconds(start, end)
    if seconds is None:
        return ""
    if times.whole_seconds(start) and times.whole_seconds(end):
        return whole_seconds_lag(seconds)
    return human_duration(seconds)


def whole_seconds_lag(seconds: float) -> str:
    """The lag between two whole-second timestamps: in whole seconds, zero as "< 1 s" (it may be up to 999 ms)."""
    return "< 1 s" if seconds == 0 else human_duration(round(seconds))


def breakable(text: str) -> Markup:
    """An ARN or key id that may break only after its ':' and '/' separators, never inside a word."""
    return Markup("").join(Markup("{}<wbr>").format(part) if part in ":/" else escape(part)
                           for part in re.split(r"([:/])", str(text)))


def type_tag(typed: dict[str, Any]) -> str:
    """The type tag of one DynamoDB wire value: 'S' for {'S': 'x'}."""
    return next(iter(typed))


def read_report(listing: Any) -> dict[str, Any]:
    """What a listing page read and cost, for /api/events: the same facts the page states."""
    query, page, choice = listing.query, listing.page, listing.choice
    report: dict[str, Any] = {
        "plan": page.plan,
        "calls": page.calls,
        "items_read": page.scanned_count,
        "read_so_far": listing.read_so_far,
        "approximate_item_count": listing.item_count,
        "budget_spent": page.budget_spent,
        "filters": {name: value for name, value in query.link_args().items()
                    if name in ("event_type", "source", "event_name", "key", "inserted")},
    }
    if query.range is not None:
        relative = query.range.relative
        report["range"] = {"from": query.range.start, "to": query.range.end, "order": query.range.order,
                           "seconds": query.range.seconds}
        if relative:  # as asked (`now-15m`): from and to are what it resolved to (an absolute range has none)
            report["range"]["relative"] = {"from": relative[0], "to": relative[1]}
        report["plan_reason"] = choice.reason if choice else None
        # For the page being read: its RCUs, calls and (at this backend's pace) seconds under each plan.
        report["estimates"] = {estimate.plan: {"rcu": estimate.rcu, "calls": estimate.calls,
                                               "seconds": estimate.seconds}
                               for estimate in (choice.fanout, choice.scan) if estimate is not None} if choice else {}
        report["window_seconds"] = choice.window_seconds if choice else None
    return report
