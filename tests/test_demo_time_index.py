"""make run's demo table has the time-sorted index: its ranges and freshness read through it (docs/time-index.md)."""
from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime, timedelta

import requests

from bench.ports import free_port
from tests.test_http_integration import serve, wait_until_up


def test_the_demo_reads_its_ranges_and_freshness_through_the_time_index() -> None:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_") and key != "TIME_INDEX"}
    env.pop("SECRET_KEY", None)
    url = f"http://127.0.0.1:{port}"
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    with serve([sys.executable, "-m", "dashboard.local", "--port", str(port), "--events", "600"], env) as server:
        wait_until_up(url + "/healthz", server, seconds=120)
        params: dict[str, str] = {"from": f"{yesterday}T13:00:00Z", "to": f"{yesterday}T13:00:59Z", "limit": "100"}
        burst = requests.get(url + "/api/events", timeout=30, params=params).json()
        assert burst["plan"] == "index" and len(burst["items"]) == 100 and burst["next_cursor"]
        assert "time_bucket" in burst["items"][0]
        # The trickle's events carry their key too: the newest is found through the index, seconds old.
        # (the trickle writes a few a second, none in some seconds: ask until it has written)
        for _ in range(30):
            fresh = requests.get(url + "/api/freshness", params={"max_age": "1m"}, timeout=30)
            if fresh.status_code == 200:
                break
            time.sleep(1)
        assert fresh.status_code == 200, fresh.text
        assert fresh.json()["newest_event_id"].startswith("demo-live-")
