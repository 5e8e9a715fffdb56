"""End to end over real HTTP: the dashboard as `flask --app wsgi:app run`, gunicorn and `make run` start it,
pointed at the embedded DynamoDB server through AWS_ENDPOINT_URL_DYNAMODB and EVENTS_TABLE only."""
from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO
from urllib.parse import quote

import pytest
import requests

from bench.ports import free_port
from dashboard.store import Table
from tests.conftest import BURST, BURST_SIZE, DEMO_DAY, admin, csrf_field, put_items, settings_for, unique_table
from tests.pages import error_message, fact, link, row_ids

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Server:
    """A started server and the file its output goes to, read back when it fails to come up."""
    process: subprocess.Popen[str]
    log: IO[str]

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()


@contextmanager
def serve(command: list[str], env: dict[str, str]) -> Iterator[Server]:
    """Start a server whose log goes to a file: a pipe nobody reads fills up and blocks it mid-request."""
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
        try:
            yield Server(process, log)
        finally:
            process.terminate()
            process.wait(timeout=10)


def wait_until_up(url: str, server: Server, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError(f"server exited with {server.process.returncode}: {server.output()}")
        try:
            requests.get(url, timeout=2)
            return
        # A bound port whose workers are still booting accepts and then says nothing: not up yet either.
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def environment(endpoint: str, table: str, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_ENDPOINT")}
    env.update({"AWS_ENDPOINT_URL_DYNAMODB": endpoint, "EVENTS_TABLE": table,
                "SECRET_KEY": "integration-secret-0123456789", "DASHBOARD_AUTH": "off", **extra})
    return env


def run_flask(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "flask"), "--app", "wsgi:app", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def seeded_table(moto_endpoint: str) -> str:
    """A table made and seeded by the dashboard's own `flask` commands, as an operator would."""
    table = unique_table()
    env = environment(moto_endpoint, table)
    created = run_flask(env, "create-table")
    assert created.returncode == 0, created.stderr
    assert f"Created table {table}" in created.stdout
    again = run_flask(env, "create-table")
    assert again.returncode == 0 and "Already there" in again.stdout
    seeded = run_flask(env, "seed-demo", "--count", "400", "--day", DEMO_DAY.isoformat())
    assert seeded.returncode == 0 and "Wrote 400" in seeded.stdout, seeded.stderr
    return table


@pytest.fixture(scope="module")
def flask_run(moto_endpoint: str, seeded_table: str):
    """`flask --app wsgi:app run` pointed at another endpoint and table through the environment."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serve([str(BIN / "flask"), "--app", "wsgi:app", "run", "--port", str(port), "--no-reload"],
               environment(moto_endpoint, seeded_table)) as server:
        wait_until_up(url + "/healthz", server)
        yield url


def test_paging_over_http_visits_all_400_events_once(flask_run):
    session = requests.Session()
    url, ids, pages = flask_run + "/events?limit=50", [], 0
    while url:
        response = session.get(url, timeout=10)
        assert response.status_code == 200
        ids += row_ids(response.text)
        nxt = link(response.text, "next")
        url = flask_run + nxt if nxt else None
        pages += 1
    assert len(ids) == 400 and len(set(ids)) == 400 and pages in (8, 9)


def test_prev_over_http_returns_the_earlier_page(flask_run):
    first = requests.get(flask_run + "/events?limit=30", timeout=10).text
    second = requests.get(flask_run + link(first, "next"), timeout=10).text
    third = requests.get(flask_run + link(second, "next"), timeout=10).text
    assert row_ids(requests.get(flask_run + link(third, "prev"), timeout=10).text) == row_ids(second)
    assert row_ids(requests.get(flask_run + link(second, "prev"), timeout=10).text) == row_ids(first)


def test_timestamp_search_over_http_pages_through_a_burst_second(flask_run):
    # The demo day's busiest second, written an hour east of UTC: the search finds it in UTC all the same.
    an_hour_east = datetime.fromisoformat(BURST).astimezone(timezone(timedelta(hours=1))).isoformat(sep=" ")
    url = flask_run + "/events?limit=50&timestamp=" + quote(an_hour_east)
    ids = []
    while url:
        page = requests.get(url, timeout=10).text
        ids += row_ids(page)
        nxt = link(page, "next")
        url = flask_run + nxt if nxt else None
    assert len(ids) == len(set(ids)) == BURST_SIZE
    for event_id in ids[:3]:
        event = requests.get(flask_run + "/api/events/" + quote(event_id, safe=""), timeout=10).json()
        assert event["timestamp"] == BURST


def test_insert_over_http_with_csrf_then_409_on_the_same_id(flask_run):
    session = requests.Session()
    form_page = session.get(flask_run + "/events/new", timeout=10).text
    token = csrf_field(form_page)
    event_id = "http test/é #1"
    form = {"csrf_token": token, "event_id": event_id, "event_type": "test", "size": "12",
            "timestamp": "2024-01-01T00:00:00Z"}
    created = session.post(flask_run + "/events", data=form, allow_redirects=False, timeout=10)
    assert created.status_code == 303
    assert session.get(flask_run + created.headers["Location"], timeout=10).status_code == 200
    duplicate = session.post(flask_run + "/events", data=dict(form, size="99"), timeout=10)
    assert duplicate.status_code == 409
    stored = session.get(flask_run + "/api/events/" + quote(event_id, safe=""), timeout=10).json()
    assert stored["size"] == 12
    assert session.post(flask_run + "/events", data=dict(form, csrf_token="x"), timeout=10).status_code == 400
    assert session.post(flask_run + "/events", data=dict(form, event_id="y", size="-3"), timeout=10).status_code == 422


def test_status_and_health_over_http(flask_run, seeded_table):
    status = requests.get(flask_run + "/api/status", timeout=10).json()
    assert status["table_name"] == seeded_table and status["pitr"]["status"] == "ENABLED"
    assert status["indexes"][0]["name"] == "timestamp-index"
    page = requests.get(flask_run + "/status", timeout=10)
    assert page.status_code == 200 and fact(page.text, 'index="timestamp-index"').startswith("timestamp-index ACTIVE")
    assert requests.get(flask_run + "/healthz", timeout=10).status_code == 200


def test_pointed_at_a_missing_table_pages_answer_503(moto_endpoint):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serve([str(BIN / "flask"), "--app", "wsgi:app", "run", "--port", str(port), "--no-reload"],
               environment(moto_endpoint, "nobody-made-this-events")) as server:
        wait_until_up(url + "/", server)
        assert requests.get(url + "/healthz", timeout=10).status_code == 503
        response = requests.get(url + "/events", timeout=10)
        assert response.status_code == 503
        # Neither AWS's text nor the endpoint reaches the user: the log keeps them.
        assert error_message(response.text) == "table nobody-made-this-events was not found (ResourceNotFoundException)"


def test_without_secret_key_the_app_refuses_to_start(moto_endpoint):
    env = environment(moto_endpoint, "x-events")
    del env["SECRET_KEY"]
    result = run_flask(env, "routes")
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_gunicorn_serves_wsgi_app(moto_endpoint, seeded_table):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serve([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                "wsgi:app"], environment(moto_endpoint, seeded_table)) as server:
        wait_until_up(url + "/healthz", server)
        # Deep in the table the cursor carries the full trail back (100 pages): it must still fit
        # through gunicorn's request line, and so must prev from there.
        nxt, visited = "/events?limit=1", []
        for _ in range(110):
            response = requests.get(url + nxt, timeout=10)
            assert response.status_code == 200, len(nxt)
            visited.append(row_ids(response.text))
            following = link(response.text, "next")
            assert following is not None, "110 one-event pages into 400 events, there is always a next page"
            nxt = following
        assert len(nxt) > 1500
        previous = link(response.text, "prev")
        assert previous is not None
        assert row_ids(requests.get(url + previous, timeout=10).text) == visited[-2]
        assert requests.get(url + "/events/new", timeout=10).status_code == 200


# gunicorn.conf.py's limit_request_line: a longer "GET <link> HTTP/1.1" is refused with a bare 400 or 414.
REQUEST_LINE_LIMIT = 8190
_URL_ATTRIBUTE = re.compile(r'\s(?:href|src|action|hx-get|hx-post)="([^"]*)"')


def request_lines(page: str) -> list[str]:
    """The request line a browser would send for each link, form and htmx request on the page."""
    return [f"GET {html.unescape(target)} HTTP/1.1" for target in _URL_ATTRIBUTE.findall(page)]


def test_gunicorn_pages_500_deep_with_1000_character_ids_and_every_link_fits_its_request_line(moto_endpoint):
    """501 pages of 10 events whose ids are 1,000 characters long, over real HTTP to gunicorn as in production:
    rel=next 500 times, rel=prev along the way; every page 200 with rows never seen before."""
    name, depth, limit = unique_table(), 500, 10
    table = Table.open(settings_for(name, moto_endpoint))
    admin(table).create_table(point_in_time_recovery=False)
    put_items(table, ({"event_id": f"{n:05}-" + "x" * 994, "timestamp": "2024-01-01T00:00:00Z", "event_type": "long"}
                      for n in range((depth + 2) * limit)))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serve([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "--workers", "2",
                "wsgi:app"], environment(moto_endpoint, name)) as server:
        wait_until_up(url + "/healthz", server)
        session = requests.Session()
        path: str | None = f"/events?limit={limit}"
        pages: list[list[str]] = []
        for number in range(1, depth + 2):
            assert path is not None, f"page {number - 1} has no next link"
            response = session.get(url + path, timeout=30)
            assert response.status_code == 200, (number, len(path))
            rows = row_ids(response.text)
            assert len(rows) == limit and all(len(row) == 1000 for row in rows), number
            assert not set(rows) & {row for page in pages for row in page}, f"page {number} repeats rows"
            pages.append(rows)
            longest = max(request_lines(response.text), key=len)
            assert len(longest) <= REQUEST_LINE_LIMIT, (number, longest[:120])
            if number in (2, 100, 250, depth + 1):
                back = link(response.text, "prev")
                assert back is not None, f"page {number} has no prev link"
                for steps in range(1, 4):
                    earlier = session.get(url + back, timeout=30)
                    assert earlier.status_code == 200, (number, steps)
                    # The trail back is cut to fit a URL: past what it keeps, prev goes to the first page.
                    expected = [pages[number - 1 - steps]] if steps == 1 else [pages[number - 1 - steps], pages[0]]
                    assert row_ids(earlier.text) in expected, (number, steps)
                    back = link(earlier.text, "prev")
                    if back is None:
                        assert row_ids(earlier.text) == pages[0]
                        break
            path = link(response.text, "next")
        assert len(pages) == depth + 1


def test_make_run_entry_point_serves_local_demo_data():
    """What `make run` starts: its own embedded DynamoDB, demo data, and the local banner."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.pop("SECRET_KEY", None)
    url = f"http://127.0.0.1:{port}"
    with serve([sys.executable, "-m", "dashboard.local", "--port", str(port), "--events", "2000"], env) as server:
        wait_until_up(url + "/healthz", server, seconds=120)
        page = requests.get(url + "/events", timeout=10).text
        assert "Local demo data" in page and len(row_ids(page)) == 25
        status = requests.get(url + "/api/status", timeout=10).json()
        assert status["table_name"] == "devops-studio-dev-events"
        assert status["billing_mode"] == "PAY_PER_REQUEST" and status["pitr"]["status"] == "ENABLED"
        busy = requests.get(url + "/api/events", params={"limit": 100}, timeout=10).json()
        assert busy["next_cursor"]


def test_a_stand_in_endpoint_needs_no_region_or_credentials(moto_endpoint, seeded_table):
    env = {key: value for key, value in environment(moto_endpoint, seeded_table).items()
           if key not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION")}
    result = run_flask(env, "create-table")
    assert result.returncode == 0 and "Already there" in result.stdout, result.stderr
