"""Fixtures: an app per test on its own table (moto in-process), and a live dashboard over real HTTP.

Unit tests use moto's in-process mock; integration and browser tests go through the embedded
moto server over HTTP, exactly as `make run` does.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time as time_module
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

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

from botocore.exceptions import BotoCoreError  # noqa: E402
from botocore.stub import Stubber  # noqa: E402
from moto import mock_aws  # noqa: E402

from bench.ports import free_port  # noqa: E402
from dashboard.app import create_app  # noqa: E402
from dashboard.app.demo import BURSTS, demo_events  # noqa: E402
from dashboard.formats.times import format_stored  # noqa: E402
from dashboard.settings.config import Settings  # noqa: E402
from dashboard.store import TIMESTAMP_INDEX, Table  # noqa: E402
from dashboard.store.admin import TableAdmin  # noqa: E402

SECRET = "test-secret-key-0123456789abcdef"
DEMO_DAY = date(2024, 1, 1)
# The demo day's busiest second (dashboard/app/demo.py BURSTS): a batch job wrote more events in it than any page holds.
_BURST_OFFSET, BURST_SIZE = max(BURSTS, key=lambda burst: burst[1])
BURST = format_stored(datetime.combine(DEMO_DAY, time(tzinfo=UTC)) + timedelta(seconds=_BURST_OFFSET))
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


def read_calls(table: Table) -> list[str]:
    """Every DynamoDB operation made on the table's client from now on, by name, counted by botocore itself."""
    seen: list[str] = []
    table.clients.dynamodb.meta.events.register("before-call.dynamodb.*",
                                                lambda model, **_: seen.append(model.name))
    return seen


def table_description(name: str, table_status: str = "ACTIVE", index_status: str = "ACTIVE") -> dict:
    """DescribeTable's `Table` for an events table as the spec makes it: on demand, keyed on event_id, with the
    index."""
    return {
        "TableName": name, "TableStatus": table_status,
        "KeySchema": [{"AttributeName": "event_id", "KeyType": "HASH"}],
        "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
        "GlobalSecondaryIndexes": [{"IndexName": TIMESTAMP_INDEX, "IndexStatus": index_status,
                                    "KeySchema": [{"AttributeName": "timestamp", "KeyType": "HASH"}],
                                    "Projection": {"ProjectionType": "ALL"}}],
    }


def _refuse(stubber: Stubber, operation: str, code: str, http_status: int = 400) -> None:
    api = stubber.client.meta.method_to_api_mapping[operation]
    stubber.add_client_error(operation, code, f"no dynamodb:{api}", http_status_code=http_status)


def stub_error(table: Table, operation: str, code: str, http_status: int = 400) -> Stubber:
    """The table's DynamoDB client answering one call (`scan`, `put_item`, ...) with an error: `with stub_error(...):`.

    The message is `no dynamodb:<API name>`, such as `no dynamodb:Scan`.
    """
    stubber = Stubber(table.clients.dynamodb)
    _refuse(stubber, operation, code, http_status)
    return stubber


@contextmanager
def stub_status(table: Table, table_status: str = "ACTIVE", pitr: str = "ENABLED", ttl: str = "DISABLED",
                ttl_attribute: str | None = None, refuse: dict[str, str] | None = None) -> Iterator[None]:
    """The table's DynamoDB client answering the calls of a status read, in any order: `with stub_status(...):`.

    DescribeTable says `table_status` (table_description), DescribeContinuousBackups `pitr`, DescribeTimeToLive
    `ttl` (on `ttl_attribute`). `refuse` maps any of those operations (`describe_table`, ...) to the error code it
    answers instead, with the message `no dynamodb:<API name>`. The panels are read concurrently, so each
    operation has its own answer (see `answer`), not a place in a queue as with botocore's Stubber.
    """
    refuse = refuse or {}
    answers = {
        "DescribeTable": {"Table": table_description(table.name, table_status)},
        "DescribeContinuousBackups": {"ContinuousBackupsDescription": {
            "ContinuousBackupsStatus": "ENABLED",
            "PointInTimeRecoveryDescription": {"PointInTimeRecoveryStatus": pitr}}},
        "DescribeTimeToLive": {"TimeToLiveDescription": {
            "TimeToLiveStatus": ttl, **({"AttributeName": ttl_attribute} if ttl_attribute else {})}},
    }
    dynamodb = table.clients.dynamodb
    refused = {dynamodb.meta.method_to_api_mapping[operation]: code for operation, code in refuse.items()}
    assert set(refused) <= set(answers), f"a status read makes no {set(refused) - set(answers)} call"
    handlers = [answer(dynamodb, api, None if api in refused else response, error=refused.get(api),
                       message=f"no dynamodb:{api}") for api, response in answers.items()]
    try:
        yield
    finally:
        for api, handler in zip(answers, handlers, strict=True):
            dynamodb.meta.events.unregister(f"before-call.dynamodb.{api}", handler)


def stubbed_status_page(client, table: Table, **answers) -> str:
    """/status, rendered (200), when the status read answers as `stub_status(table, **answers)` says."""
    with stub_status(table, **answers):
        response = client.get("/status")
    assert response.status_code == 200
    return response.get_data(as_text=True)

def answer(client, operation: str, response: dict | None = None, error: str | None = None, message: str = "",
           status: int = 400) -> Callable[..., Any]:
    """Answer every `operation` call of a boto3 client with `response` or the error `error`, without sending it.

    Unlike botocore's Stubber, which wants its calls in one fixed order, this suits calls made
    concurrently (the status page's panels): each operation has its own answer, whenever it comes.
    """
    from botocore.awsrequest import AWSResponse
    from botocore.compat import HTTPHeaders

    def reply(**_):
        if error:
            return AWSResponse("", status, HTTPHeaders(), None), {"Error": {"Code": error, "Message": message},
                                                                  "ResponseMetadata": {"HTTPStatusCode": status}}
        return AWSResponse("", 200, HTTPHeaders(), None), {**(response or {}),
                                                            "ResponseMetadata": {"HTTPStatusCode": 200}}

    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register(f"before-call.{service}.{operation}", reply)
    return reply


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


def csrf_field(page: str) -> str:
    """The CSRF token a form page carries in its hidden field, as a browser would read it."""
    match = CSRF_FIELD.search(page)
    assert match, "the page carries a csrf_token field"
    return match.group(1)


def csrf_token(client) -> str:
    """The CSRF token of the insert form."""
    return csrf_field(client.get("/events/new").get_data(as_text=True))


# ---------------------------------------------------------------------------- over real HTTP


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's server in a process of its own, answering over HTTP on loopback, until the block ends."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time_module.monotonic() + 30
    while True:
        try:
            # moto loads each service's backend on its first request (auto-scaling takes seconds): not in a
            # page's deadline.
            Table.open(settings_for(unique_table(), endpoint)).clients.autoscaling.describe_scalable_targets(
                ServiceNamespace="dynamodb")
            break
        except BotoCoreError:  # not listening yet
            if server.poll() is not None or time_module.monotonic() > deadline:
                server.kill()
                raise
            time_module.sleep(0.2)
    try:
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's server, the embedded DynamoDB of `make run`, answering over HTTP on loopback.

    In a process of its own: an in-process mock (`mocked_aws`) resets every moto backend of its process
    when it ends, which would wipe the shared server's tables under the tests that come after it.
    """
    with moto_server() as endpoint:
        yield endpoint


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

    def start(self) -> LiveServer:
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
