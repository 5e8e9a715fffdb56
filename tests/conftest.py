"""Fixtures: an app per test on its own table (moto in-process), and a live dashboard over real HTTP.

Unit tests use moto's in-process mock; integration and browser tests go through the embedded
moto server over HTTP, exactly as `make run` does.
"""
from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Iterator
from datetime import date

import pytest

# Never reach real AWS from a test, whatever the developer's shell holds.
for _name in [name for name in os.environ if name.startswith("AWS_")]:
    del os.environ[_name]
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
})

from moto import mock_aws  # noqa: E402

from dashboard import create_app  # noqa: E402
from dashboard.config import Settings  # noqa: E402
from dashboard.local import demo_events, start_server  # noqa: E402
from dashboard.store import Table  # noqa: E402
from dashboard.store.admin import TableAdmin  # noqa: E402

SECRET = "test-secret-key-0123456789abcdef"
DEMO_DAY = date(2024, 1, 1)
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def unique_table() -> str:
    return f"test-{uuid.uuid4().hex[:12]}-events"


def settings_for(table: str, endpoint: str | None = None, local: bool = False, **overrides: object) -> Settings:
    """Settings for a test app: open (DASHBOARD_AUTH=off) unless the test signs in or asks for local mode."""
    values = {"SECRET_KEY": SECRET, "EVENTS_TABLE": table, "DASHBOARD_READ_ONLY": "0",
              "DASHBOARD_AUTH": "" if local or {"DASHBOARD_USERS", "DASHBOARD_AUTH_HEADER"} & set(overrides) else "off"}
    if endpoint:
        values["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    values.update({key: str(value) for key, value in overrides.items()})
    return Settings.from_env(values, local=local)


@pytest.fixture
def mocked_aws() -> Iterator[None]:
    with mock_aws():
        yield


def admin(table: Table) -> TableAdmin:
    return TableAdmin(table.clients, table.name)


def put_items(table: Table, items) -> int:
    """Write items as they are (BatchWriteItem): test data, like the pipeline's own writes."""
    return admin(table).put_many(items)


def seed(table: Table, count: int, timestamp: str = "2024-01-01T00:00:00Z", prefix: str = "e", **attributes) -> None:
    """`count` events at one second, ids `{prefix}-0000` upwards, each with the given extra attributes."""
    put_items(table, ({"event_id": f"{prefix}-{n:04}", "timestamp": timestamp, "event_type": "test", **attributes}
                      for n in range(count)))


def answer(client, operation: str, response: dict | None = None, error: str | None = None, status: int = 400) -> None:
    """Make a boto3 client answer `operation` (DynamoDB's name, such as DescribeTable) with `response`, or fail
    with the error code `error`, from whichever thread asks (botocore's Stubber expects calls in one order)."""
    from botocore.awsrequest import AWSResponse
    from botocore.exceptions import ClientError

    def respond(**_):
        if error:
            raise ClientError({"Error": {"Code": error, "Message": f"{error}: stubbed"},
                               "ResponseMetadata": {"HTTPStatusCode": status}}, operation)
        return AWSResponse(client.meta.endpoint_url, 200, {}, None), response

    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register_first(f"before-call.{service}.{operation}", respond)


def read_calls(table: Table) -> list[str]:
    """Every DynamoDB operation made on the table's client from now on, by name, counted by botocore itself."""
    seen: list[str] = []
    table.clients.dynamodb.meta.events.register("before-call.dynamodb.*",
                                                lambda model, **_: seen.append(model.name))
    return seen


@pytest.fixture
def table(mocked_aws: None) -> Table:
    """An empty events table, created as the spec says, in moto's in-process mock."""
    events_table = Table.open(settings_for(unique_table()))
    admin(events_table).create_table(wait=False)
    return events_table


@pytest.fixture
def app(table: Table):
    flask_app = create_app(settings_for(table.name), table=table)
    flask_app.config["TESTING"] = True
    return flask_app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def offline_client():
    """A dashboard whose DynamoDB refuses every connection: for requests that must be answered before any read."""
    return create_app(settings_for("never-read-events", "http://127.0.0.1:9", DYNAMODB_MAX_ATTEMPTS=1)).test_client()


def csrf_token(client) -> str:
    """The CSRF token of the insert form, as a browser would read it."""
    page = client.get("/events/new")
    match = CSRF_FIELD.search(page.get_data(as_text=True))
    assert match, "the insert form carries a csrf_token field"
    return match.group(1)


# ---------------------------------------------------------------------------- over real HTTP


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """The embedded DynamoDB server of `make run`, answering over HTTP on loopback."""
    server, endpoint = start_server()
    # moto loads each service's backend on its first request (auto-scaling takes seconds): not in a page's deadline.
    Table.open(settings_for(unique_table(), endpoint)).clients.autoscaling.describe_scalable_targets(
        ServiceNamespace="dynamodb")
    yield endpoint
    server.stop()


@pytest.fixture(scope="session")
def demo_table(moto_endpoint: str) -> tuple[str, list[dict]]:
    """A table on the HTTP server holding the demo events of one fixed day."""
    name = unique_table()
    table = Table.open(settings_for(name, moto_endpoint))
    admin(table).create_table()
    events = list(demo_events(600, DEMO_DAY, seed=11))
    put_items(table, events)
    return name, events


@pytest.fixture
def fault_proxy(moto_endpoint: str):
    """The fault proxy of bench/faultproxy.py in front of the HTTP server: set `.fault` to inject one."""
    from bench.faultproxy import FaultProxy

    proxy = FaultProxy(moto_endpoint).start()
    yield proxy
    proxy.stop()


@pytest.fixture
def served_table(moto_endpoint: str) -> tuple[str, list[dict]]:
    """A fresh table on the HTTP server with 40 demo events, made per test: an in-process moto mock
    resets the server's state too when it ends, so a table made earlier in the session may be gone."""
    name = unique_table()
    table = Table.open(settings_for(name, moto_endpoint))
    admin(table).create_table(point_in_time_recovery=False)
    events = list(demo_events(40, DEMO_DAY, seed=13))
    put_items(table, events)
    return name, events


class LiveServer:
    def __init__(self, app, host: str = "127.0.0.1"):
        from werkzeug.serving import make_server

        self.app = app
        self._server = make_server(host, 0, app, threaded=True)
        self.url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> "LiveServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


@pytest.fixture(scope="session")
def live_server(moto_endpoint: str, demo_table: tuple[str, list[dict]]) -> Iterator[LiveServer]:
    """The dashboard itself over HTTP, talking to the embedded DynamoDB over HTTP: what `make run` serves."""
    name, _ = demo_table
    app = create_app(settings_for(name, moto_endpoint, local=True))
    server = LiveServer(app).start()
    yield server
    server.stop()


def pytest_report_header(config) -> str:
    chromium = "/usr/bin/chromium"
    if os.path.exists(chromium):
        return f"browser tests: Debian Chromium at {chromium}"
    return f"browser tests: SKIPPED, Chromium is not installed at {chromium} (apt-get install -y chromium)"
