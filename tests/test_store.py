"""store.py against moto's in-process DynamoDB: reads, the conditional write, status panels, SDK errors mapped."""
from decimal import Decimal

import pytest
from botocore.stub import Stubber

from dashboard.store import (AccessDenied, BackendUnavailable, EventExists, EventNotFound, EventStore, TableMissing,
                             Throttled, TIMESTAMP_INDEX)


def calls(store: EventStore) -> list[str]:
    """Every DynamoDB operation the store makes from now on, by name."""
    seen: list[str] = []
    store._dynamodb.meta.events.register("before-call.dynamodb.*", lambda model, **_: seen.append(model.name))
    return seen


def seed(store, count, timestamp="2024-01-01T00:00:00Z", prefix="e"):
    store.put_many({"event_id": f"{prefix}-{n:04}", "timestamp": timestamp, "event_type": "test"} for n in range(count))


def test_create_table_matches_the_spec(store):
    status = store.status()
    table = status.description
    assert table.key_schema == [("event_id", "HASH")]
    assert table.billing_mode == "PAY_PER_REQUEST"
    assert [(i.name, i.key_schema) for i in table.indexes] == [(TIMESTAMP_INDEX, [("timestamp", "HASH")])]
    assert status.pitr.status == "ENABLED"
    assert table.sse_status == "ENABLED"
    assert store.create_table(wait=False) is False  # idempotent: an existing table is left alone


def test_enabling_pitr_waits_while_backups_are_still_being_set_up(store, monkeypatch):
    monkeypatch.setattr("dashboard.store.time.sleep", lambda seconds: None)
    stubber = Stubber(store._dynamodb)
    for _ in range(2):
        stubber.add_client_error("update_continuous_backups", "ContinuousBackupsUnavailableException", "not yet")
    stubber.add_response("update_continuous_backups", {"ContinuousBackupsDescription": {"ContinuousBackupsStatus": "ENABLED"}})
    with stubber:
        store._enable_pitr()
    stubber.assert_no_pending_responses()


def test_paging_visits_every_item_once_with_one_scan_per_page(store):
    seed(store, 23)
    seen = calls(store)
    ids, key, pages = [], None, 0
    while True:
        page = store.page(5, key)
        pages += 1
        ids += [event.event_id for event in page.events]
        key = page.next_key
        if key is None:
            break
    assert sorted(ids) == [f"e-{n:04}" for n in range(23)]
    assert len(ids) == len(set(ids))
    assert seen == ["Scan"] * pages


def test_timestamp_pages_use_the_index_and_never_scan(store):
    seed(store, 12, "2024-01-01T00:00:00Z", "a")
    seed(store, 3, "2024-01-01T00:00:01Z", "b")
    seen = calls(store)
    first = store.by_timestamp("2024-01-01T00:00:00Z", 5)
    assert len(first.events) == 5 and set(first.next_key) == {"event_id", "timestamp"}
    ids = [e.event_id for e in first.events]
    key = first.next_key
    while key:
        page = store.by_timestamp("2024-01-01T00:00:00Z", 5, key)
        ids += [e.event_id for e in page.events]
        key = page.next_key
    assert sorted(ids) == [f"a-{n:04}" for n in range(12)]
    assert set(seen) == {"Query"}
    assert store.by_timestamp("2030-01-01T00:00:00Z", 5).events == []


def test_page_reports_consumed_capacity(store):
    seed(store, 2)
    assert store.page(10).consumed_rcu is not None


def test_get_returns_every_type_exactly(store):
    store.put_many([{
        "event_id": "all/the #types %",
        "timestamp": "2024-01-01T00:00:00Z",
        "big": Decimal("12345678901234567890123456789012345678"),
        "tiny": Decimal("0.000000000000000000000000000000000001"),
        "blob": b"\x00\xff", "flag": False, "nothing": None, "empty": "",
        "names": {"a", "b"}, "numbers": {Decimal("1.5"), Decimal("2")}, "blobs": {b"x"},
        "map": {"nested": ["x", Decimal("1")]}, "list": [],
    }])
    event = store.get("all/the #types %")
    assert event.item["big"] == {"N": "12345678901234567890123456789012345678"}
    assert event.values["big"] == Decimal("12345678901234567890123456789012345678")
    assert event.values["tiny"] == Decimal("1E-36")
    assert event.values["blob"] == b"\x00\xff" and isinstance(event.values["blob"], bytes)
    assert event.values["flag"] is False and event.values["nothing"] is None and event.values["empty"] == ""
    assert event.values["names"] == {"a", "b"} and event.values["blobs"] == {b"x"}
    assert event.values["map"] == {"nested": ["x", Decimal("1")]} and event.values["list"] == []


def test_unknown_id_raises_not_found(store):
    with pytest.raises(EventNotFound):
        store.get("nope")


def test_put_new_never_overwrites(store):
    store.put_new({"event_id": "dup", "timestamp": "2024-01-01T00:00:00Z", "source": "original"})
    with pytest.raises(EventExists):
        store.put_new({"event_id": "dup", "timestamp": "2024-01-02T00:00:00Z", "source": "clobber"})
    assert store.get("dup").values["source"] == "original"


def test_approximate_count_is_cached(store):
    seed(store, 3)
    seen = calls(store)
    first = store.approximate_count()
    second = store.approximate_count()
    assert first == second and seen == ["DescribeTable"]


def test_a_failing_describe_table_is_asked_once_a_minute_not_per_page(store):
    clock = [1000.0]
    store._clock = lambda: clock[0]
    stubber = Stubber(store._dynamodb)
    stubber.add_client_error("describe_table", "AccessDeniedException", "denied")
    with stubber:
        assert store.approximate_count() is None
        assert store.approximate_count() is None  # no second call: the stubber would raise
    clock[0] += 61
    assert store.approximate_count().count == 0


def test_missing_table_is_backend_unavailable(mocked_aws):
    from tests.conftest import settings_for
    missing = EventStore.from_settings(settings_for("no-such-table"))
    with pytest.raises(TableMissing, match="no-such-table"):
        missing.page(10)
    assert missing.approximate_count() is None


def _stub_error(store, operation, code, status=400):
    stubber = Stubber(store._dynamodb)
    stubber.add_client_error(operation, service_error_code=code, service_message=f"{code} happened",
                             http_status_code=status)
    stubber.activate()
    return stubber


@pytest.mark.parametrize("code,error", [
    ("ProvisionedThroughputExceededException", Throttled),
    ("ThrottlingException", Throttled),
    ("AccessDeniedException", AccessDenied),
    ("InternalServerError", BackendUnavailable),
])
def test_sdk_errors_become_domain_errors(store, code, error):
    _stub_error(store, "scan", code, 500 if code == "InternalServerError" else 400)
    with pytest.raises(error):
        store.page(10)


def test_a_denied_status_panel_says_so_and_the_others_answer(store):
    stubber = Stubber(store._dynamodb)
    stubber.add_response("describe_table", {"Table": {
        "TableName": store.table_name, "TableStatus": "ACTIVE", "KeySchema": [{"AttributeName": "event_id", "KeyType": "HASH"}],
        "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"}}})
    stubber.add_client_error("describe_continuous_backups", "AccessDeniedException", "not allowed")
    stubber.add_client_error("describe_time_to_live", "UnknownOperationException", "no such API", http_status_code=400)
    with stubber:
        status = store.status()
    assert status.description is not None and status.description.status == "ACTIVE"
    assert status.pitr.status == "UNKNOWN" and status.pitr.unavailable.reason == "denied"
    assert status.ttl.unavailable.reason == "unsupported"


def test_a_dead_endpoint_is_tried_three_times_not_ten():
    from tests.conftest import settings_for
    dead = EventStore.from_settings(settings_for("t-events", "http://127.0.0.1:9", DYNAMODB_CONNECT_TIMEOUT=1,
                                                 DYNAMODB_READ_TIMEOUT=1))
    attempts = []
    dead._dynamodb.meta.events.register("before-send.dynamodb.Scan", lambda **_: attempts.append(1))
    with pytest.raises(BackendUnavailable, match="did not answer"):
        dead.page(10)
    # Standard retry mode with 3 attempts, never botocore's legacy 10 with long waits.
    assert len(attempts) == 3
