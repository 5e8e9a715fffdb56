"""The dashboard's own CPU per page, without DynamoDB: `python -m bench.pagecpu [--requests N] [--profile PAGE]`.

In-process, on moto's in-process mock: the app is built by create_app and each page is asked once
through moto, which records the store's answers; the same page is then asked again and again with
the client answering from that record (no request built, signed, sent or parsed), so what remains is
the dashboard's own work: WSGI, hooks, parsing the request, the store's code over the answer,
rendering. CPU time (time.process_time) per request, median over the requests, for the pages the
benchmark's page − raw targets are about. `--profile PAGE` prints the cProfile of that page instead.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import date
from functools import partial
from typing import Any

# Never reach real AWS from here, whatever the shell holds.
for _name in [name for name in os.environ if name.startswith("AWS_")]:
    del os.environ[_name]
os.environ.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_REGION": "us-east-1",
                   "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull})

from flask import Flask  # noqa: E402
from moto import mock_aws  # noqa: E402

from .cases import BUSY_SECOND  # noqa: E402
from .serving import SECRET_KEY  # noqa: E402

TABLE = "pagecpu-prod-events"  # PROJECT=pagecpu ENVIRONMENTS=prod names the same table
EVENTS = 2_000
PAGES = {
    "list25": "/events?limit=25",
    "list100": "/events?limit=100",
    "search25": f"/events?timestamp={BUSY_SECOND}&limit=25",
    "search100": f"/events?timestamp={BUSY_SECOND}&limit=100",
    "detail": "/events/{first}",  # the first event of the list page
}


def build(environments: bool) -> Flask:
    """The app as wsgi.py builds it (one table, or the same table as environment `prod`), its table seeded."""
    from dashboard.app import create_app
    from dashboard.app.demo import demo_events
    from dashboard.store.admin import TableAdmin

    values = {"SECRET_KEY": SECRET_KEY, "EVENTS_TABLE": TABLE, "AWS_REGION": "us-east-1",
              "DASHBOARD_AUTH": "off", "DASHBOARD_READ_ONLY": "0"}
    if environments:
        values.update({"PROJECT": "pagecpu", "ENVIRONMENTS": "prod"})
    app = create_app(values)
    table = app.extensions["events_table"]  # with environments, the first one's (outside a request)
    admin = TableAdmin(table.clients, table.name)
    admin.create_table(point_in_time_recovery=False)
    admin.put_many(demo_events(EVENTS, day=date(2024, 1, 1), seed=7))  # the day of BUSY_SECOND
    return app


@contextmanager
def replayed(app: Flask) -> Iterator[None]:
    """The table's DynamoDB client answers each call it has seen from its record: no botocore work at all."""
    client = app.extensions["events_table"].clients.dynamodb
    real = client._make_api_call
    seen: dict[str, Any] = {}

    def recording(operation: str, params: dict[str, Any]) -> Any:
        key = operation + json.dumps(params, sort_keys=True, default=str)
        if key not in seen:
            seen[key] = real(operation, params)
        return seen[key]

    client._make_api_call = recording
    try:
        yield
    finally:
        del client._make_api_call


def cpu_ms(ask: Callable[[], Any], requests: int) -> float:
    times = []
    for _ in range(requests):
        started = time.process_time()
        ask()
        times.append(time.process_time() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", choices=sorted(PAGES), help="print this page's cProfile instead")
    parser.add_argument("--environments", action="store_true", help="serve the table as environment /prod")
    parser.add_argument("--live", action="store_true", help="through moto, not replayed")
    arguments = parser.parse_args()
    with mock_aws(), ExitStack() as stack:
        app = build(arguments.environments)
        prefix = "/prod" if arguments.environments else ""
        # As the benchmark asks: no session cookie sent back, so every request makes its session and CSRF token.
        client = app.test_client(use_cookies=False)
        listed = client.get(prefix + PAGES["list25"]).get_data(as_text=True)
        first = listed.split('<tr data-event-id="', 1)[1].split('"', 1)[0]
        pages = {name: prefix + path.format(first=first) for name, path in PAGES.items()}
        if not arguments.live:
            stack.enter_context(replayed(app))
        for path in pages.values():
            for _ in range(10):  # warm-up: templates compiled, answers recorded, caches filled
                answer = client.get(path)
                if answer.status_code != 200:
                    raise SystemExit(f"{path} answered {answer.status_code}")
        if arguments.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(arguments.requests):
                client.get(pages[arguments.profile])
            profiler.disable()
            stats = pstats.Stats(profiler)
            stats.sort_stats("cumulative").print_stats(45)
            stats.sort_stats("tottime").print_stats(30)
            return
        for name, path in pages.items():
            ms = cpu_ms(partial(client.get, path), arguments.requests)
            print(f"{name:10} {ms:6.2f} ms CPU  {path[:70]}")


if __name__ == "__main__":
    main()
