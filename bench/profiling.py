"""Where a page's time goes inside the dashboard: cProfile over the Flask test client, against the same backend.

In-process on purpose (a profile of a gunicorn worker would need the app changed): the app is built
by create_app, exactly as wsgi.py builds it, and asked for the page many times. cProfile slows
code that makes many small calls (rendering, deserializing) more than code that waits on a
socket, so the shares are a guide and the unprofiled time per request is given beside them.
"""
from __future__ import annotations

import cProfile
import pstats
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .serving import REGION, SECRET_KEY


@dataclass(frozen=True)
class Part:
    """One place the time goes: the functions (by file path ending and name) whose cumulative time it is."""

    what: str
    ending: str
    names: tuple[str, ...]
    within: str = ""  # "call" or "render": the larger part this one is a piece of


RENDER = "rendering the page (render_template)"
PARTS = (
    Part("whole request inside Flask", "flask/app.py", ("wsgi_app",)),
    Part("the DynamoDB call through botocore (waiting for the backend included)", "botocore/client.py",
         ("_make_api_call",)),
    Part("waiting on the socket", "~", ("<method 'recv_into' of '_socket.socket' objects>",), "call"),
    Part("botocore parsing the response", "botocore/parsers.py", ("parse",), "call"),
    Part(RENDER, "flask/templating.py", ("render_template",)),
    Part("typed items -> Python values (TypeDeserializer)", "boto3/dynamodb/types.py", ("deserialize",), "render"),
    Part("url_for (nav, pager and one for all row links)", "flask/app.py", ("url_for",), "render"),
    Part("HTML escaping (markupsafe)", "markupsafe/__init__.py", ("escape",), "render"),
    Part("present.cell/human_bytes/ago/lag (rows.py calls them once a row)", "dashboard/formats/present.py",
         ("cell", "human_bytes", "ago", "lag"), "render"),
    Part("reading the page cursor (itsdangerous)", "dashboard/questions/cursors.py", ("decode",)),
    Part("signing the next/previous cursors (itsdangerous)", "dashboard/questions/cursors.py", ("encode",)),
    Part("item count (DescribeTable, cached a minute)", "dashboard/store", ("approximate_count",)),
)
_PLUMBING = ("werkzeug/test.py", "flask/testing.py", "cProfile", "bench/profiling.py")


def _where(path: str) -> str:
    """A path as short as it can be told: from site-packages, the repository or the standard library."""
    for marker, prefix in (("site-packages/", ""), (str(Path(__file__).resolve().parent.parent) + "/", ""),
                           (sysconfig.get_paths()["stdlib"] + "/", "stdlib ")):
        if marker in path:
            return prefix + path.split(marker, 1)[1]
    return path


def _cumulative(stats: dict[Any, Any], ending: str, names: tuple[str, ...]) -> float | None:
    matched = [entry[3] for (path, _, name), entry in stats.items()
               if name in names and (path == ending or ending in path.replace("\\", "/"))]
    return sum(matched) if matched else None


def _share(what: str, seconds: float, whole: float, requests: int) -> dict[str, Any]:
    return {"what": what, "ms": round(seconds * 1000 / requests, 3),
            "share": round(seconds / whole, 3) if whole else None}


def _row(key: tuple[str, int, str], entry: tuple, requests: int) -> dict[str, Any]:
    path, line, name = key
    _, calls, own, cumulative, _ = entry  # primitive calls, all calls, own time, cumulative, callers
    return {"function": f"{_where(path)}:{line}({name})" if path != "~" else name,
            "calls_per_request": round(calls / requests, 1),
            "own_ms": round(own * 1000 / requests, 3), "cumulative_ms": round(cumulative * 1000 / requests, 3)}


def profile_page(endpoint: str, table: str, path: str, requests: int) -> dict[str, Any]:
    from dashboard.app import create_app

    app = create_app({
        "SECRET_KEY": SECRET_KEY, "EVENTS_TABLE": table, "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING": endpoint, "AWS_REGION": REGION,
        "DASHBOARD_AUTH": "off", "DASHBOARD_READ_ONLY": "0",
    })
    client = app.test_client()
    for _ in range(5):
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code} in the test client")
    started = time.perf_counter()
    for _ in range(requests):
        client.get(path)
    plain_ms = (time.perf_counter() - started) * 1000 / requests

    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(requests):
        client.get(path)
    profiler.disable()
    profiled_ms = (time.perf_counter() - started) * 1000 / requests
    # pstats keeps its table in .stats, which typeshed does not declare (it is public and documented by use).
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]

    whole = _cumulative(stats, "flask/app.py", ("wsgi_app",)) or 0.0
    breakdown = []
    found = {part.what: _cumulative(stats, part.ending, part.names) for part in PARTS}
    rendering = found.get(RENDER)
    last_piece_of_rendering = max(index for index, part in enumerate(PARTS) if part.within == "render")
    for index, part in enumerate(PARTS):
        seconds = found[part.what]
        if seconds is not None:
            breakdown.append(_share(f"  of which {part.what}" if part.within else part.what, seconds, whole, requests))
        if index == last_piece_of_rendering and rendering is not None:
            pieces = sum(found[piece.what] or 0.0 for piece in PARTS if piece.within == "render")
            breakdown.append(_share("  of which the rest: Jinja's own loops, lookups and string building",
                                    max(rendering - pieces, 0.0), whole, requests))
    kept = {key: entry for key, entry in stats.items() if not any(mark in key[0] for mark in _PLUMBING)}
    by_own = sorted(kept.items(), key=lambda item: item[1][2], reverse=True)[:15]
    by_cumulative = sorted(kept.items(), key=lambda item: item[1][3], reverse=True)[:20]
    return {
        "path": path if len(path) <= 80 else f"{path[:60]}... ({len(path):,} characters)",
        "requests": requests,
        "unprofiled_ms_per_request": round(plain_ms, 2),
        "profiled_ms_per_request": round(profiled_ms, 2),
        "python": sys.version.split()[0],
        "breakdown": breakdown,
        "top_own_time": [_row(key, entry, requests) for key, entry in by_own],
        "top_cumulative": [_row(key, entry, requests) for key, entry in by_cumulative],
    }
