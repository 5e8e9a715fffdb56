"""The embedded local DynamoDB (moto's server mode, over real HTTP), filled with demo data; used only when asked for.

`make run` is `python -m dashboard.local`: nothing here runs when the dashboard is pointed at AWS.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

from dashboard.app import create_app
from dashboard.app.demo import BURSTS, LIVE_SOURCE, demo_events, demo_metrics, live_events, trickle_size
from dashboard.settings.config import DEFAULT_TABLE, LOCAL_REGION, Settings
from dashboard.settings.time_index import DEFAULT_NAME, TimeIndexConfig
from dashboard.store import StoreError
from dashboard.store.admin import TableAdmin
from dashboard.store.time_index import keyed

# demo_events and BURSTS are re-exported: they were defined here first.
__all__ = ["BURSTS", "Trickle", "demo_events", "demo_metrics", "local_environment", "main", "start_server"]


def start_server(host: str = "127.0.0.1", port: int = 0) -> tuple[Any, str]:
    """moto's DynamoDB in a thread of this process, answering over HTTP on loopback."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from moto.server import ThreadedMotoServer

    # One access-log line per DynamoDB call would drown the dashboard's own log.
    # moto offers no switch for its access log, and quieting werkzeug's logger would silence the dashboard's
    # own log under `make run` too: so the one method is replaced, deliberately.
    MotoRequestHandler.log_request = lambda *args, **kwargs: None  # type: ignore[method-assign]
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    return server, f"http://{bound_host}:{bound_port}"


def local_environment(endpoint: str) -> dict[str, str]:
    """What points boto3 at the embedded server: its endpoint and throwaway credentials."""
    return {
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "AWS_ENDPOINT_URL_APPLICATION_AUTO_SCALING": endpoint,
        "AWS_ENDPOINT_URL_CLOUDWATCH": endpoint,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_REGION": LOCAL_REGION,
        "AWS_DEFAULT_REGION": LOCAL_REGION,
    }


class Trickle:
    """Writes a few demo events a second (with bursts) while `make run` runs: the landing page, the freshness line and
    the live tail then show a live pipeline. Stopped with the server."""

    def __init__(self, admin: TableAdmin, seed: int = 23, time_index: TimeIndexConfig | None = None):
        self._admin = admin
        self._time_index = time_index
        self._rng = random.Random(seed)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="demo-trickle", daemon=True)
        self.written = 0

    def start(self) -> Trickle:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(1.0 - time.time() % 1.0):
            count = trickle_size(self._rng)
            if count:
                try:
                    events = live_events(datetime.now(UTC), count, self._rng)
                    self.written += self._admin.put_many(keyed(event, self._time_index) for event in events)
                except StoreError as error:  # the embedded server stopping under it: nothing to write to
                    print(f"demo trickle stopped: {error}", file=sys.stderr, flush=True)
                    return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Run the events dashboard on an embedded local DynamoDB with demo data.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 5000)))
    parser.add_argument("--db-port", type=int, default=0, help="port of the embedded DynamoDB (0: any free one)")
    parser.add_argument("--events", type=int, default=2400, help="how many demo events to write")
    parser.add_argument("--no-time-index", action="store_true",
                        help="create the demo table without the optional time-sorted index (TIME_INDEX)")
    parser.add_argument("--no-trickle", action="store_true",
                        help="do not keep writing a trickle of live demo events (a few a second) while running")
    args = parser.parse_args(argv)

    server, endpoint = start_server(port=args.db_port)
    os.environ.update(local_environment(endpoint))
    os.environ.setdefault("EVENTS_TABLE", DEFAULT_TABLE)
    if args.no_time_index:
        os.environ.pop("TIME_INDEX", None)
    else:
        # The demo table has the time-sorted index, as a large table would (docs/time-index.md).
        os.environ.setdefault("TIME_INDEX", DEFAULT_NAME)

    # Local mode is this entry point, never a variable: it alone may run without SECRET_KEY and sign-in.
    app = create_app(Settings.from_env(local=True))
    settings: Settings = app.config["SETTINGS"]
    index = settings.time_index
    admin = TableAdmin(app.extensions["events_table"].clients, settings.table_name)
    admin.create_table(time_index=index.name if index else None)
    events = [keyed(event, index) for event in demo_events(args.events)]
    written = admin.put_many(events)
    samples = admin.put_metrics(demo_metrics(events))
    print(f"Embedded DynamoDB at {endpoint}: table {admin.table_name} with {written} demo events "
          f"and {samples} CloudWatch samples"
          + (f"; time index {index.name} ({index.bucket} buckets, {index.shards} shards)." if index else "."),
          flush=True)
    # moto loads each service on its first request (auto-scaling takes seconds): before the first page's deadline.
    app.extensions["events_table"].status.status()
    trickle = None if args.no_trickle else Trickle(admin, time_index=index).start()
    if trickle:
        print(f"Writing a trickle of live demo events (source {LIVE_SOURCE}, a few a second with bursts).", flush=True)
    print(f"Dashboard on http://{args.host}:{args.port}  (local demo data; Ctrl-C stops both)", flush=True)
    try:
        app.run(host=args.host, port=args.port, debug=False, threaded=True, use_reloader=False)
    finally:
        if trickle:
            trickle.stop()
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
