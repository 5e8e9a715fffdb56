"""Windows relative to now: relative bounds as asked, quick ranges, auto-refresh and the landing page's window.

A bound written `now` or `now-15m` stays that way in every link the page makes (a bookmark of the last 15
minutes shows the last 15 minutes when opened later); each request resolves it once, and a cursor pins
what its first page resolved to (cursors.Position.window), so that paging never skips or repeats.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from dashboard.formats import times

QUICK_MINUTES = (5, 15, 60)
# The landing page (GET /): the recent past, newest first, ending now.
LANDING_FROM = "now-15m"
LANDING_TO = "now"
# Auto-refresh periods offered where a window ends now, as kept in the URL (refresh=30s).
REFRESH_CHOICES = {"10s": 10, "30s": 30, "1m": 60}
ORDER_NEEDS_RANGE = ("order=desc needs a time range (from and to): without one the table is read in storage "
                     "(hash) order, which has no newest or oldest; ask from=now-1h&to=now&order=desc for the newest "
                     "events of the last hour")


def relative_bounds(raw_from: str | None, raw_to: str | None, start: str, end: str) -> tuple[str, str] | None:
    """The bounds as links keep them: a relative one as asked (`now-15m`), an absolute one in the stored form;
    None when neither is relative (the window is absolute)."""
    asked = ((raw_from or "").strip().lower(), (raw_to or "").strip().lower())
    if not any(times.is_relative(bound) for bound in asked):
        return None
    first, last = (bound if times.is_relative(bound) else resolved
                   for bound, resolved in zip(asked, (start, end), strict=True))
    return first, last


def quick_ranges(now: datetime) -> list[tuple[str, str, str]]:
    """(label, from, to) of the last few minutes up to `now`, absolute (see relative_quick_ranges for the links)."""
    end = times.format_stored(now)
    return [(f"Last {minutes} min", times.format_stored(now - timedelta(minutes=minutes)), end)
            for minutes in QUICK_MINUTES]


def relative_quick_ranges() -> list[tuple[str, str, str]]:
    """(label, from, to) of the quick ranges as relative links: they never go stale on an open page or a bookmark."""
    return [(f"Last {minutes} min", f"now-{minutes}m", "now") for minutes in QUICK_MINUTES]


def parse_refresh(raw: str | None) -> str | None:
    """`refresh=10s|30s|1m` (or off, or nothing): the auto-refresh period as kept in the URL; anything else is a
    ValueError saying what is offered."""
    value = (raw or "").strip()
    if value in ("", "off"):
        return None
    if value not in REFRESH_CHOICES:
        raise ValueError(f"refresh must be off, {', '.join(REFRESH_CHOICES)}, not {raw!r}")
    return value


def ends_now(relative: tuple[str, str] | None) -> bool:
    """Whether a window as asked ends now, so that reloading it shows later events (auto-refresh, the live tail)."""
    return relative is not None and relative[1] == "now"
