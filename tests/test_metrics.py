"""Capacity over time: CloudWatch series on /status and /api/status, against the embedded server over HTTP.

Metric data is put at known moments before now (10 min, 3 h and 2 days ago), so that each window
holds a known part of it: the figures each window must show follow from the values alone.
"""
from __future__ import annotations

import html
import re
import time
from datetime import UTC, datetime, timedelta

import pytest

from dashboard.app import create_app
from dashboard.store import TIMESTAMP_INDEX, Table
from dashboard.store.admin import MetricSample
from tests.conftest import admin, settings_for, unique_table
from tests.wire import DeniedCloudWatch, SilentEndpoint

NOW = datetime.now(UTC).replace(second=30, microsecond=0)
RECENT, HOURS_AGO, DAYS_AGO = NOW - timedelta(minutes=10), NOW - timedelta(hours=3), NOW - timedelta(days=2)

# (scope, series key) -> {window: (latest, peak, total)} as the page prints them.
EXPECTED: dict[tuple[str, str], dict[str, tuple[str, str, str | None]]] = {
    ("table", "ConsumedReadCapacityUnits"): {"1h": ("30", "30", "30"), "24h": ("30", "120", "150"),
                                             "7d": ("30", "500", "650")},
    ("table", "ThrottledRequests"): {"1h": ("—", "—", "0"), "24h": ("7", "7", "7"), "7d": ("7", "7", "7")},
    ("table", "SuccessfulRequestLatency.GetItem"): {"1h": ("5", "5", None), "24h": ("5", "8", None),
                                                    "7d": ("5", "8", None)},
    ("index", "ConsumedWriteCapacityUnits"): {"1h": ("—", "—", "0"), "24h": ("7.5", "7.5", "7.5"),
                                              "7d": ("7.5", "7.5", "9.5")},
}


def samples() -> list[MetricSample]:
    return [
        # Two values in one minute: a period's Sum adds them.
        MetricSample("ConsumedReadCapacityUnits", RECENT, 10), MetricSample("ConsumedReadCapacityUnits", RECENT, 20),
        MetricSample("ConsumedReadCapacityUnits", HOURS_AGO, 120),
        MetricSample("ConsumedReadCapacityUnits", DAYS_AGO, 500),
        # Reported per operation; the panel adds the operations into one series.
        MetricSample("ThrottledRequests", HOURS_AGO, 2, operation="Query"),
        MetricSample("ThrottledRequests", HOURS_AGO, 5, operation="Scan"),
        # An average per period, never added up.
        MetricSample("SuccessfulRequestLatency", RECENT, 4, operation="GetItem"),
        MetricSample("SuccessfulRequestLatency", RECENT, 6, operation="GetItem"),
        MetricSample("SuccessfulRequestLatency", HOURS_AGO, 8, operation="GetItem"),
        MetricSample("ConsumedWriteCapacityUnits", HOURS_AGO, 7.5, index=TIMESTAMP_INDEX),
        MetricSample("ConsumedWriteCapacityUnits", DAYS_AGO, 2, index=TIMESTAMP_INDEX),
    ]


def open_table(endpoint: str) -> tuple[str, Table]:
    name = unique_table()
    table = Table.open(settings_for(name, endpoint))
    admin(table).create_table()
    return name, table


@pytest.fixture(scope="module")
def measured(moto_endpoint):
    """A table on the embedded server with the samples above in its CloudWatch, and a dashboard on it."""
    name, table = open_table(moto_endpoint)
    admin(table).put_metrics(samples())
    return create_app(settings_for(name, moto_endpoint)).test_client()


@pytest.fixture(scope="module")
def quiet(moto_endpoint):
    """Consumption but no throttling at all."""
    name, table = open_table(moto_endpoint)
    admin(table).put_metrics([MetricSample("ConsumedReadCapacityUnits", RECENT, 3),
                              MetricSample("ConsumedWriteCapacityUnits", HOURS_AGO, 1, index=TIMESTAMP_INDEX)])
    return create_app(settings_for(name, moto_endpoint)).test_client()


def figures(page: str, scope: str) -> dict[str, tuple[str, str, str | None]]:
    """(latest, peak, total) of each series card in one group of the panel, as data attributes carry them."""
    group = re.search(rf'<ul class="metrics"[^>]*data-scope="{scope}">(.*?)</ul>', page, re.S)
    assert group, f"the metrics panel has a {scope} group"
    found: dict[str, tuple[str, str, str | None]] = {}
    for key, card in re.findall(r'<figure[^>]*data-series="([^"]+)"(.*?)</figure>', group.group(1), re.S):
        latest, peak, total = (re.search(rf'data-{name}="([^"]*)"', card) for name in ("latest", "peak", "total"))
        assert latest and peak, f"the {key} card shows its latest and peak"
        found[key] = (html.unescape(latest.group(1)), html.unescape(peak.group(1)),
                      html.unescape(total.group(1)) if total else None)
    return found


def findings(page: str) -> list[tuple[str, str]]:
    return [(level, " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split()))
            for level, text in re.findall(r'<li class="finding finding-(\w+)">(.*?)</li>', page, re.S)]


def panel(page: str) -> str:
    found = re.search(r'<section[^>]*data-panel="metrics".*?</section>', page, re.S)
    assert found, "the status page has the metrics panel"
    return found.group(0)


@pytest.mark.parametrize("window", ["1h", "24h", "7d"])
def test_the_page_shows_latest_peak_and_total_of_each_series_per_window(measured, window):
    response = measured.get(f"/status?window={window}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and f'data-window="{window}"' in page
    for (scope, key), expected in EXPECTED.items():
        assert figures(page, scope)[key] == expected[window], (scope, key, window)
    assert re.search(rf'data-window-link="{window}" aria-current="true"', page)


@pytest.mark.parametrize("window", ["1h", "24h", "7d"])
def test_the_api_carries_the_same_series(measured, window):
    data = measured.get(f"/api/status?window={window}").get_json()
    metrics = data["metrics"]
    assert metrics["window"] == window and metrics["available"] and data["errors"] == {}
    groups = {"table": metrics["table"], "index": metrics["index"]["series"]}
    assert metrics["index"]["name"] == TIMESTAMP_INDEX
    for (scope, key), expected in EXPECTED.items():
        series = next(series for series in groups[scope] if series["key"] == key)
        latest, peak, total = expected[window]
        assert (series["latest"]["value"] if series["latest"] else None) == (None if latest == "—" else float(latest))
        assert series["peak"] == (None if peak == "—" else float(peak))
        assert series["total"] == (None if total is None else float(total))


def test_the_api_points_are_period_starts_inside_the_window(measured):
    metrics = measured.get("/api/status?window=24h").get_json()["metrics"]
    start, end = datetime.fromisoformat(metrics["start"]), datetime.fromisoformat(metrics["end"])
    assert end - start == timedelta(hours=24) and metrics["period_seconds"] == 300
    reads = next(series for series in metrics["table"] if series["key"] == "ConsumedReadCapacityUnits")
    moments = [datetime.fromisoformat(point["at"]) for point in reads["points"]]
    assert moments == sorted(moments) and all(start <= moment < end for moment in moments)
    assert all(moment.timestamp() % 300 == 0 for moment in moments)


def test_throttling_is_a_finding_exactly_when_the_window_holds_throttle_data(measured, quiet):
    # The measured table throttled 3 hours ago: outside the last hour, inside the last 24 hours.
    assert not [text for _, text in findings(measured.get("/status?window=1h").get_data(as_text=True))
                if "hrottl" in text]
    assert ("warn", "Check Throttling in the last 24 hours: 7 throttled requests") in findings(
        measured.get("/status?window=24h").get_data(as_text=True))
    api = measured.get("/api/status?window=7d").get_json()["findings"]
    assert {"level": "warn", "message": "Throttling in the last 7 days: 7 throttled requests"} in api
    for window in ("1h", "24h", "7d"):
        page = quiet.get(f"/status?window={window}").get_data(as_text=True)
        assert not [text for _, text in findings(page) if "hrottl" in text]
        assert findings(page) == [("ok", "OK Table and indexes ACTIVE, point-in-time recovery on")]


def test_throttling_in_consecutive_periods_is_a_problem(moto_endpoint):
    name, table = open_table(moto_endpoint)
    admin(table).put_metrics([MetricSample("WriteThrottleEvents", RECENT + timedelta(minutes=minute), 4)
                              for minute in range(3)])
    client = create_app(settings_for(name, moto_endpoint)).test_client()
    assert findings(client.get("/status").get_data(as_text=True))[0] == (
        "bad", "Problem Sustained throttling, 3 periods of 1 min in a row, in the last hour: 12 write throttle events")


@pytest.mark.parametrize("url", ["/status?window=2h", "/api/status?window=", "/status?window=1H"])
def test_an_unknown_window_is_400_with_the_windows_named(measured, url):
    response = measured.get(url)
    assert response.status_code == 400 and "1h, 24h, 7d" in response.get_data(as_text=True)


def test_a_denied_get_metric_data_says_so_and_the_rest_of_the_page_renders(moto_endpoint):
    denied = DeniedCloudWatch()
    try:
        name, _ = open_table(moto_endpoint)
        app = create_app(settings_for(name, moto_endpoint, AWS_ENDPOINT_URL_CLOUDWATCH=denied.url))
        response = app.test_client().get("/status")
        data = app.test_client().get("/api/status").get_json()
    finally:
        denied.close()
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and denied.calls == ["GetMetricData", "GetMetricData"]
    # The refusal names the call, never AWS's own text (which may hold a role's ARN).
    assert 'data-unavailable="denied"' in panel(page)
    assert "CloudWatch refused access to GetMetricData (AccessDenied)" in panel(page)
    assert "CloudWatch refused access" in panel(page)
    # Every other panel is read and shown as usual.
    assert 'data-table-status><span class="badge badge-ok">ACTIVE' in page and "data-pitr-status" in page
    assert findings(page) == [("ok", "OK Table and indexes ACTIVE, point-in-time recovery on")]
    assert data["status"] == "ACTIVE" and data["metrics"]["available"] is False
    assert data["metrics"]["error"]["reason"] == "denied"
    assert data["errors"]["metrics"] == "CloudWatch refused access to GetMetricData (AccessDenied)"


def test_a_hung_cloudwatch_leaves_the_page_on_time_with_the_panel_timed_out(moto_endpoint):
    silent = SilentEndpoint()
    try:
        name, _ = open_table(moto_endpoint)
        app = create_app(settings_for(name, moto_endpoint, AWS_ENDPOINT_URL_CLOUDWATCH=silent.url,
                                      CLOUDWATCH_TIMEOUT=1))
        started = time.monotonic()
        response = app.test_client().get("/status")
        elapsed = time.monotonic() - started
    finally:
        silent.close()
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-unavailable="timeout"' in panel(page)
    assert "timed out" in panel(page) and "ACTIVE" in page and "data-pitr-status" in page
    # A generous bound: botocore's defaults (60 s read timeout, retried) would be far beyond it.
    assert elapsed < 15


def test_the_page_stops_waiting_for_metrics_at_its_deadline(table, monkeypatch):
    import threading
    release = threading.Event()

    def never_before_release(window):
        release.wait(30)
        raise AssertionError("the page should not have waited for this")

    monkeypatch.setattr(table.status.metrics, "read", never_before_release)
    monkeypatch.setattr(table.status, "metrics_wait", 0.2)
    try:
        status = table.status.status()
    finally:
        release.set()
    assert status.metrics.unavailable.reason == "timeout" and "within 0.2 s" in status.metrics.unavailable.message
    assert status.description.status == "ACTIVE" and status.pitr.status == "ENABLED"


def test_cloudwatch_is_asked_at_the_dynamodb_stand_in_unless_told_otherwise():
    from dashboard.settings.config import Settings
    base = {"SECRET_KEY": "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "DASHBOARD_AUTH": "off",
            "AWS_ENDPOINT_URL_DYNAMODB": "http://localhost:8000"}
    assert Settings.from_mapping(base).cloudwatch_endpoint == "http://localhost:8000"
    own = Settings.from_mapping({**base, "AWS_ENDPOINT_URL_CLOUDWATCH": "http://localhost:4566"})
    assert own.cloudwatch_endpoint == "http://localhost:4566"
    assert Settings.from_mapping({**base, "AWS_ENDPOINT_URL_DYNAMODB": ""}).cloudwatch_endpoint is None


def test_the_demo_metrics_follow_the_demo_events_and_throttle_the_largest_burst():
    from dashboard.app.demo import BURSTS, demo_events, demo_metrics
    now = datetime(2024, 1, 2, 16, 0, 30, tzinfo=UTC)
    events = list(demo_events(600, (now - timedelta(days=1)).date(), seed=11))
    samples = demo_metrics(events, now)
    writes = [s for s in samples if s.metric == "ConsumedWriteCapacityUnits"]
    assert sum(s.value for s in writes if s.index is None) == sum(s.value for s in writes if s.index) == len(events)
    second, _ = max(BURSTS, key=lambda burst: burst[1])
    burst = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=second)
    throttled = [s for s in samples if "Throttle" in s.metric]
    assert throttled and {s.at for s in throttled} == {burst}
    assert all(now - timedelta(days=7) <= s.at <= now for s in samples)
    # As coarse as the windows allow: moto's GetMetricData walks every sample of the window per period.
    assert len(samples) < 1000


def test_pages_of_an_answer_are_joined_point_by_point(table):
    from botocore.stub import Stubber

    from dashboard.store.table_records import WINDOWS
    reader = table.status.metrics
    start, _ = reader.bounds(WINDOWS["1h"])
    first, second = start + timedelta(minutes=1), start + timedelta(minutes=2)
    stubber = Stubber(table.clients.cloudwatch)
    stubber.add_response("get_metric_data", {"NextToken": "page-2", "MetricDataResults": [
        {"Id": "q0", "Timestamps": [first], "Values": [3.0], "StatusCode": "PartialData"}]})
    stubber.add_response("get_metric_data", {"MetricDataResults": [
        {"Id": "q0", "Timestamps": [second], "Values": [4.0], "StatusCode": "Complete"},
        # ThrottledRequests is asked per operation (q4: GetItem, q5: Query ...): one series adds them up.
        {"Id": "q4", "Timestamps": [first], "Values": [1.0], "StatusCode": "Complete"},
        {"Id": "q5", "Timestamps": [first], "Values": [2.0], "StatusCode": "Complete"}]},
        expected_params=None)
    with stubber:
        metrics = reader.read(WINDOWS["1h"])
    stubber.assert_no_pending_responses()
    reads, throttled = metrics.table[0], metrics.table[4]
    assert [(p.at, p.value) for p in reads.points] == [(first, 3.0), (second, 4.0)] and reads.total == 7.0
    assert throttled.key == "ThrottledRequests" and [(p.at, p.value) for p in throttled.points] == [(first, 3.0)]


def test_more_queries_than_one_call_takes_are_split_across_calls(table, monkeypatch):
    from dashboard.store import metrics as metrics_module
    monkeypatch.setattr(metrics_module, "MAX_QUERIES_PER_CALL", 10)
    sizes = []
    table.clients.cloudwatch.meta.events.register(
        "provide-client-params.cloudwatch.GetMetricData",
        lambda params, **_: sizes.append(len(params["MetricDataQueries"])))
    table.status.metrics.read(metrics_module.WINDOWS["1h"])
    assert sizes == [10, 10, 2]


def test_one_call_asks_for_every_series_of_the_table_and_the_index(table):
    from dashboard.store import metrics as metrics_module
    seen = []
    table.clients.cloudwatch.meta.events.register(
        "provide-client-params.cloudwatch.GetMetricData", lambda params, **_: seen.append(params))
    table.status.status(metrics_module.WINDOWS["24h"])
    assert len(seen) == 1
    queries = seen[0]["MetricDataQueries"]
    assert len(queries) == 22 and all(query["MetricStat"]["Period"] == 300 for query in queries)
    index_queries = [query for query in queries if any(d["Name"] == "GlobalSecondaryIndexName"
                                                       for d in query["MetricStat"]["Metric"]["Dimensions"])]
    assert sorted(query["MetricStat"]["Metric"]["MetricName"] for query in index_queries) == [
        "ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits", "OnlineIndexPercentageProgress",
        "ReadThrottleEvents", "WriteThrottleEvents"]
