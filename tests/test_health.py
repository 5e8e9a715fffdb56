"""health.py: one rule for each state's level, shared by the findings and the status page's badges."""
from dataclasses import replace

import pytest

from dashboard.questions import health
from dashboard.store.status import describe
from dashboard.store.table_records import AutoScalingStatus, PitrStatus, TableStatus, TtlStatus
from tests.conftest import stubbed_status_page, table_description
from tests.pages import fact, findings


def described(table_status: str = "ACTIVE", index_status: str = "ACTIVE") -> TableStatus:
    return TableStatus("t-events", describe(table_description("t-events", table_status, index_status)), None,
                       PitrStatus("ENABLED"), TtlStatus("DISABLED"), AutoScalingStatus([]))


@pytest.mark.parametrize("state,subject,expected", [
    ("ACTIVE", "resource", "ok"), ("ENABLED", "resource", "ok"), ("ENABLED (AWS owned key)", "resource", "ok"),
    ("CREATING", "resource", "warn"), ("UPDATING", "resource", "warn"), ("ENABLING", "pitr", "warn"),
    ("DELETING", "resource", "bad"), ("INACCESSIBLE_ENCRYPTION_CREDENTIALS", "resource", "bad"),
    ("DISABLED", "pitr", "warn"), ("DISABLED", "resource", "bad"), ("DISABLED", "feature", "neutral"),
    ("off", "feature", "neutral"), ("UNKNOWN", "pitr", "bad"),
])
def test_each_state_has_one_level(state, subject, expected):
    assert health.level(state, subject) == expected


@pytest.mark.parametrize("state", ["CREATING", "UPDATING", "DELETING", "ARCHIVED"])
def test_a_table_finding_has_the_level_of_its_badge(state):
    found = dict((message, level) for level, message in health.findings(described(table_status=state)))
    assert found[f"Table is {state}, not ACTIVE"] == health.level(state)


def test_a_creating_index_is_a_warning_not_a_problem():
    creating = health.findings(described(index_status="CREATING"))
    assert ("warn", "Index timestamp-index is CREATING, not ACTIVE") in creating


def test_findings_put_the_worst_first():
    status = replace(described(table_status="DELETING"), pitr=PitrStatus("DISABLED"))
    assert [level for level, _ in health.findings(status)] == ["bad", "warn"]


def test_a_healthy_table_has_one_ok_finding():
    assert health.findings(described()) == [("ok", "Table and indexes ACTIVE, point-in-time recovery on")]


def test_the_status_page_badges_a_creating_table_as_its_finding_does(client, table):
    page = stubbed_status_page(client, table, table_status="CREATING")
    assert fact(page, "table-status") == "CREATING"
    assert '<dd data-table-status><span class="badge badge-warn">' in page
    assert findings(page) == [("warn", "Table is CREATING, not ACTIVE")]


def test_api_status_carries_the_same_findings(client):
    data = client.get("/api/status").get_json()
    assert data["findings"] == [{"level": "ok", "message": "Table and indexes ACTIVE, point-in-time recovery on"}]


# ---------------------------------------------------------------------------- CloudWatch findings

from datetime import UTC, datetime, timedelta  # noqa: E402

from dashboard.store.table_records import WINDOWS, CapacityMetrics, MetricPoint, MetricSeries  # noqa: E402

START = datetime(2024, 1, 1, tzinfo=UTC)


def counted(metric: str, minutes: dict[int, float], throttle: bool = False) -> MetricSeries:
    points = [MetricPoint(START + timedelta(minutes=minute), value) for minute, value in sorted(minutes.items())]
    label = {"ConsumedReadCapacityUnits": "Consumed read capacity", "ReadThrottleEvents": "Read throttle events",
             "ThrottledRequests": "Throttled requests"}[metric]
    return MetricSeries(metric, metric, label, "RCU" if metric.startswith("Consumed") else "events", "Sum", True,
                        throttle, points)


def with_metrics(status: TableStatus, table=(), index=()) -> TableStatus:
    window = WINDOWS["1h"]
    return replace(status, metrics=CapacityMetrics(window, START, START + window.span, list(table), list(index)))


def test_no_throttle_data_is_no_finding():
    status = with_metrics(described(), [counted("ReadThrottleEvents", {}, throttle=True),
                                        counted("ConsumedReadCapacityUnits", {5: 100.0})])
    assert health.findings(status) == [("ok", "Table and indexes ACTIVE, point-in-time recovery on")]


def test_throttling_in_separate_periods_is_a_warning():
    status = with_metrics(described(), [counted("ReadThrottleEvents", {3: 2.0, 5: 1.0, 7: 4.0}, throttle=True)],
                          [counted("ThrottledRequests", {9: 1.0}, throttle=True)])
    assert health.findings(status) == [
        ("warn", "Throttling in the last hour: 7 read throttle events, 1 throttled requests on timestamp-index")]


def test_throttling_in_three_periods_in_a_row_is_a_problem_whichever_series_reports_it():
    status = with_metrics(described(), [counted("ReadThrottleEvents", {3: 2.0, 5: 1.0}, throttle=True),
                                        counted("ThrottledRequests", {4: 1.0}, throttle=True)])
    assert health.findings(status)[0] == (
        "bad", "Sustained throttling, 3 periods of 1 min in a row, in the last hour: 3 read throttle events, "
               "1 throttled requests")


def test_provisioned_consumption_near_capacity_is_a_warning():
    raw = {"TableName": "t-events", "TableStatus": "ACTIVE",
           "KeySchema": [{"AttributeName": "event_id", "KeyType": "HASH"}],
           "BillingModeSummary": {"BillingMode": "PROVISIONED"},
           "ProvisionedThroughput": {"ReadCapacityUnits": 10, "WriteCapacityUnits": 10}}
    status = TableStatus("t-events", describe(raw), None, PitrStatus("ENABLED"), TtlStatus("DISABLED"),
                         AutoScalingStatus([]))
    # 540 RCU over one minute is 9 RCU/s: 90 % of 10.
    near = with_metrics(status, [counted("ConsumedReadCapacityUnits", {2: 60.0, 4: 540.0})])
    assert ("warn", "Table t-events: consumed read capacity peaked at 9.0 RCU/s, 90% of the provisioned 10 RCU") \
        in health.findings(near)
    far = with_metrics(status, [counted("ConsumedReadCapacityUnits", {4: 300.0})])
    assert not [message for _, message in health.findings(far) if "peaked" in message]
