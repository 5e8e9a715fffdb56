"""health.py: one rule for each state's level, shared by the findings and the status page's badges."""
from dataclasses import replace

import pytest

from dashboard import health
from dashboard.store.records import AutoScalingStatus, PitrStatus, TableStatus, TtlStatus
from dashboard.store.status import describe
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
