"""Browser fixtures: Debian's Chromium driven by Playwright against the live dashboard (tests/conftest.py).

One browser per session, a fresh context per test. Every context is watched: a test fails when a
page throws, logs an error to the console that the test did not expect (CSP violations included),
or asks any origin but the dashboard's own for anything.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage

from tests.browser.browsing import LAPTOP

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

# An init script, so it is not subject to the page's CSP: every violation reaches the console.
_REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("CSP violation: " + event.violatedDirective + " blocked " + (event.blockedURI || "inline"));
});
"""


@dataclass
class Watch:
    """What the pages of one context did that a user would never see but a developer must."""

    origin: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    expected: list[re.Pattern[str]] = field(default_factory=list)

    def console_error(self, message: ConsoleMessage) -> None:
        """Keep the text of a console message if it is an error (the context's "console" event)."""
        if message.type == "error":
            self.console_errors.append(message.text)

    def expect_console_error(self, pattern: str) -> None:
        """A console error this test provokes on purpose (such as the browser's note on a 400)."""
        self.expected.append(re.compile(pattern))

    def unexpected_console_errors(self) -> list[str]:
        return [text for text in self.console_errors if not any(p.search(text) for p in self.expected)]

    def foreign_requests(self) -> list[str]:
        return [url for _, url in self.requests if not (url == self.origin or url.startswith(self.origin + "/"))]

    def posts(self, path: str) -> list[str]:
        return [url for method, url in self.requests if method == "POST" and url.split("?")[0] == self.origin + path]

    def assert_clean(self) -> None:
        assert not self.page_errors, f"uncaught errors in the page: {self.page_errors}"
        assert not self.unexpected_console_errors(), f"console errors: {self.unexpected_console_errors()}"
        assert not self.foreign_requests(), f"requests to other origins: {self.foreign_requests()}"


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not installed at {CHROMIUM}: browser tests skipped")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def rigged_dashboard(moto_endpoint, demo_table):
    """Start another dashboard on the demo table, one attempt per call, whose clients a test rigs to fail:
    `app, url = rigged_dashboard()`. Each is stopped at the end of the module."""
    from dashboard.app import create_app
    from tests.conftest import LiveServer, settings_for

    servers = []

    def start():
        app = create_app(settings_for(demo_table[0], moto_endpoint, local=True, DYNAMODB_MAX_ATTEMPTS=1))
        servers.append(LiveServer(app).start())
        return app, servers[-1].url

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def scratch_server(live_server, demo_table):
    """A second dashboard on a table of its own, for the journeys that write.

    The demo table then holds exactly its 600 events whatever order the tests run in: the first
    pages of a scan, the screenshots and every row count stay the same.
    """
    from dashboard.app import create_app
    from dashboard.app.demo import demo_events
    from dashboard.store import Table
    from tests.conftest import admin, put_items

    settings = dataclasses.replace(live_server.app.config["SETTINGS"], table_name=f"{demo_table[0]}-scratch")
    table = Table.open(settings)
    admin(table).create_table()
    put_items(table, demo_events(30, date(2024, 1, 2), seed=5))
    server = type(live_server)(create_app(settings)).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def demo_capacity(live_server):
    """CloudWatch samples for the demo table, as `make run` writes them: yesterday's writes and throttled burst."""
    from datetime import datetime, timedelta

    from dashboard.app.demo import demo_events, demo_metrics
    from tests.conftest import admin

    yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
    return admin(live_server.app.extensions["events_table"]).put_metrics(demo_metrics(demo_events(600, yesterday, 11)))


@pytest.fixture(scope="session")
def budget_server(live_server):
    """The demo dashboard with a read budget so small that a filtered range page stops early and offers Continue.

    No time budget to speak of: where a page stops depends on RCUs only, so the journey is the same on a busy machine.
    """
    from dashboard.app import create_app

    settings = dataclasses.replace(live_server.app.config["SETTINGS"], read_budget_rcu=10.0, read_budget_seconds=300.0)
    server = type(live_server)(create_app(settings)).start()
    yield server
    server.stop()


@pytest.fixture
def base_url(live_server, demo_capacity) -> str:
    return live_server.url


@pytest.fixture
def scratch_url(scratch_server) -> str:
    return scratch_server.url


@pytest.fixture
def new_context(browser, base_url: str) -> Iterator[Callable[..., object]]:
    """Open a watched browser context: `new_context(java_script_enabled=False)`, `color_scheme="dark"`, ...

    `origin=` points it at another server (the scratch one); relative URLs go to that origin.
    """
    opened = []

    def open_context(origin: str = base_url, **options):
        options.setdefault("viewport", LAPTOP)
        context = browser.new_context(base_url=origin, **options)
        context.set_default_timeout(10_000)
        watch = Watch(origin=origin)
        context.on("console", watch.console_error)
        context.on("weberror", lambda error: watch.page_errors.append(str(error.error)))
        context.on("request", lambda request: watch.requests.append((request.method, request.url)))
        if options.get("java_script_enabled", True):
            context.add_init_script(_REPORT_CSP_VIOLATIONS)
        context.watch = watch
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        context.close()
    for context in opened:
        context.watch.assert_clean()


@pytest.fixture
def page(new_context):
    """A page at laptop size with JavaScript on, in a context of its own."""
    return new_context().new_page()


@pytest.fixture
def watch(page) -> Watch:
    return page.context.watch


@pytest.fixture
def nojs_page(new_context):
    """A page in a context with JavaScript disabled: plain links and forms only."""
    return new_context(java_script_enabled=False).new_page()


@pytest.fixture
def scratch_page(new_context, scratch_url: str):
    """A page on the scratch dashboard, the one the writing journeys use."""
    return new_context(origin=scratch_url).new_page()


@pytest.fixture
def nojs_scratch_page(new_context, scratch_url: str):
    return new_context(origin=scratch_url, java_script_enabled=False).new_page()


@pytest.fixture
def budget_page(new_context, budget_server):
    return new_context(origin=budget_server.url).new_page()


@pytest.fixture
def nojs_budget_page(new_context, budget_server):
    return new_context(origin=budget_server.url, java_script_enabled=False).new_page()


@pytest.fixture(scope="session")
def nested_event_id(demo_table) -> str:
    """A demo event whose attributes include a map, a list, sets and binary."""
    _, events = demo_table
    return next(event["event_id"] for event in events if "metadata" in event)
