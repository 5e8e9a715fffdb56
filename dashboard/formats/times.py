"""Parse and normalize ISO-8601 timestamps to the stored UTC form YYYY-MM-DDTHH:MM:SSZ."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

STORED_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
EXPECTED = "an ISO-8601 date and time such as 2024-01-01T00:00:00Z, 2024-01-01 00:00:00 or 2024-01-01T02:00:00+02:00"
# A date alone names a whole day, not the one second the timestamp index is keyed on.
_DATE_ONLY = re.compile(r"^\d{4}-?\d{2}-?\d{2}$")


# Relative time as Grafana and Kibana keep it in the URL: `now`, `now-15m`. Only the past: a window that ends later
# than now is what `now` is for.
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
DURATION_EXPECTED = "a whole number and a unit, s, m, h, d or w (such as 30s, 15m, 2h, 7d)"
RELATIVE_EXPECTED = "now or now-<N><unit> with unit s, m, h, d or w (such as now-15m, now-2h, now-7d)"
# Ten years back at most: far beyond any table's history, and far from datetime's year 1.
MAX_RELATIVE_SECONDS = 3660 * 86400
_DURATION = re.compile(r"\A([0-9]{1,9})([smhdw])\Z")


class TimestampError(ValueError):
    """The text is not a timestamp the events table can be searched by."""


def parse(text: str) -> datetime:
    """The aware UTC datetime that `text` names, to the second (fractions are dropped: see has_fraction)."""
    return parse_precise(text).replace(microsecond=0)


def has_fraction(text: str) -> bool:
    """Whether a valid timestamp names a fraction of a second, which the index (keyed by the second) drops."""
    return parse_precise(text).microsecond != 0


def parse_precise(text: str) -> datetime:
    """The aware UTC datetime that `text` names, fractions of a second kept."""
    value = (text or "").strip()
    if not value:
        raise TimestampError(f"timestamp is empty: expected {EXPECTED}")
    if not value.isprintable():
        # Python's fromisoformat ignores what follows a NUL after 'Z': never let such text through.
        raise TimestampError(f"timestamp {value!r} holds control or formatting characters: expected {EXPECTED}")
    if _DATE_ONLY.match(value):
        raise TimestampError(
            f"timestamp {value!r} is a date without a time: events are indexed by the second, expected {EXPECTED}"
        )
    # A lower-case "z" is valid ISO-8601 and appears in hand-typed URLs; fromisoformat takes only "Z".
    if value.endswith("z"):
        value = value[:-1] + "Z"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise TimestampError(f"timestamp {text.strip()!r} is not understood: expected {EXPECTED}") from None
    if moment.tzinfo is None:
        # The table stores UTC; a time without an offset is read as UTC, as the form says.
        moment = moment.replace(tzinfo=UTC)
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        raise TimestampError(f"timestamp {text.strip()!r} is out of range") from None
    return moment


def is_relative(text: str | None) -> bool:
    """Whether a bound is written relative to now (`now`, `now-15m`) rather than as a timestamp."""
    return (text or "").strip().lower().startswith("now")


def duration_seconds(text: str, name: str = "duration") -> int:
    """Seconds in `<N><unit>` (unit s, m, h, d or w), such as 15m; anything else is a TimestampError naming `name`."""
    match = _DURATION.match(text or "")
    if not match:
        raise TimestampError(f"{name} {text!r} is not understood: expected {DURATION_EXPECTED}")
    seconds = int(match.group(1)) * UNIT_SECONDS[match.group(2)]
    if seconds > MAX_RELATIVE_SECONDS:
        raise TimestampError(f"{name} {text!r} reaches back more than {MAX_RELATIVE_SECONDS // 86400} days")
    return seconds


def resolve(text: str, now: datetime) -> datetime:
    """The moment a bound names: `now`, `now-<N><unit>` counted back from `now` (to the second), or a timestamp."""
    value = (text or "").strip()
    if not is_relative(value):
        return parse(value)
    rest = value[3:]
    if not rest:
        return now.astimezone(UTC).replace(microsecond=0)
    if not rest.startswith("-"):
        raise TimestampError(f"{value!r} is not understood: expected {RELATIVE_EXPECTED} (only the past)")
    try:
        seconds = duration_seconds(rest[1:], "relative time")
    except TimestampError as error:
        raise TimestampError(f"{value!r}: {error}; expected {RELATIVE_EXPECTED}") from None
    return now.astimezone(UTC).replace(microsecond=0) - timedelta(seconds=seconds)


def format_stored(moment: datetime) -> str:
    """The stored form of an aware datetime, always with a four-digit year (strftime drops leading zeros)."""
    utc = moment.astimezone(UTC)
    return (f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T"
            f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}Z")


def normalize(text: str) -> str:
    """The stored UTC form of any accepted ISO-8601 variant."""
    return format_stored(parse(text))


def now_stored() -> str:
    return format_stored(datetime.now(UTC))


def try_parse(text: object) -> datetime | None:
    """The moment a stored value names, or None when it is not a timestamp (stored data may be anything)."""
    if not isinstance(text, str):
        return None
    try:
        return parse(text)
    except TimestampError:
        return None


def neighbours(stored: str) -> tuple[str, str] | None:
    """The seconds just before and after a stored timestamp."""
    moment = try_parse(stored)
    if moment is None:
        return None
    try:
        return format_stored(moment - timedelta(seconds=1)), format_stored(moment + timedelta(seconds=1))
    except OverflowError:
        return None


def around(stored: str, minutes: int) -> tuple[str, str] | None:
    """The range from `minutes` before a stored timestamp to `minutes` after it."""
    moment = try_parse(stored)
    if moment is None:
        return None
    try:
        return format_stored(moment - timedelta(minutes=minutes)), format_stored(moment + timedelta(minutes=minutes))
    except OverflowError:
        return None


def relative(moment: datetime, now: datetime | None = None) -> str:
    """A short human phrase for how long ago (or ahead) a moment is, such as '3 h ago'."""
    now = now or datetime.now(UTC)
    seconds = int((now - moment).total_seconds())
    suffix = "ago" if seconds >= 0 else "from now"
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} {suffix}"
    return "just now" if seconds < 5 else f"{seconds} s {suffix}"


def lag_seconds(start: object, end: object) -> float | None:
    """Seconds from one stored timestamp to another, or None when either is not a timestamp."""
    first, second = _precise(start), _precise(end)
    if first is None or second is None:
        return None
    return (second - first).total_seconds()


def whole_seconds(text: object) -> bool:
    """True when a stored timestamp carries no fraction of a second (so nothing finer can be read from it)."""
    return isinstance(text, str) and _precise(text) is not None and not any(mark in text for mark in ".,")


def _precise(text: object) -> datetime | None:
    # Lag wants sub-second precision when the pipeline stored it, unlike search keys.
    if not isinstance(text, str) or not text.strip():
        return None
    value = text.strip()
    if value.endswith(("z", "Z")):
        value = value[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment
