"""store.py against moto's in-process DynamoDB: reads, the conditional write, status panels, SDK errors mapped."""
from decimal import Decimal

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from dashboard.store import (
    TIMESTAMP_INDEX,
    AccessDenied,
    BackendUnavailable,
    EventExists,
    EventNotFound,
    StoreError,
    Table,
    TableMissing,
    Throttled,
)
from tests.conftest import admin, put_items, read_calls, seed, settings_for, stub_error, stub_status


def test_create_table_matches_the_spec(table):
    status = table.status.status()
    described = status.description
    assert described.key_schema == [("event_id", "HASH")]
    assert described.billing_mode == "PAY_PER_REQUEST"
    assert [(i.name, i.key_schema) for i in described.indexes] == [(TIMESTAMP_INDEX, [("timestamp", "HASH")])]
    assert status.pitr.status == "ENABLED"
    assert described.sse_status == "ENABLED"
    assert admin(table).create_table(wait=False) is False  # idempotent: an existing table is left alone


def test_enabling_pitr_waits_while_backups_are_still_being_set_up(table, monkeypatch):
    monkeypatch.setattr("dashboard.store.admin.time.sleep", lambda seconds: None)
    stubber = Stubber(table.clients.dynamodb)
    for _ in range(2):
        stubber.add_client_error("update_continuous_backups", "ContinuousBackupsUnavailableException", "not yet")
    stubber.add_response("update_continuous_backups",
                         {"ContinuousBackupsDescription": {"ContinuousBackupsStatus": "ENABLED"}})
    with stubber:
        admin(table).enable_pitr()
    stubber.assert_no_pending_responses()


def test_paging_visits_every_item_once_with_one_scan_per_page(table):
    seed(table, 23)
    seen = read_calls(table)
    ids, key, pages = [], None, 0
    while True:
        page = table.events.page(5, key)
        pages += 1
        ids += [event.event_id for event in page.events]
        key = page.next_key
        if key is None:
            break
    assert sorted(ids) == [f"e-{n:04}" for n in range(23)]
    assert len(ids) == len(set(ids))
    assert seen == ["Scan"] * pages


def test_timestamp_pages_use_the_index_and_never_scan(table):
    seed(table, 12, "2024-01-01T00:00:00Z", "a")
    seed(table, 3, "2024-01-01T00:00:01Z", "b")
    seen = read_calls(table)
    first = table.events.by_timestamp("2024-01-01T00:00:00Z", 5)
    assert len(first.events) == 5 and set(first.next_key) == {"event_id", "timestamp"}
    ids = [e.event_id for e in first.events]
    key = first.next_key
    while key:
        page = table.events.by_timestamp("2024-01-01T00:00:00Z", 5, key)
        ids += [e.event_id for e in page.events]
        key = page.next_key
    assert sorted(ids) == [f"a-{n:04}" for n in range(12)]
    assert set(seen) == {"Query"}
    assert table.events.by_timestamp("2030-01-01T00:00:00Z", 5).events == []


def test_page_reports_consumed_capacity(table):
    seed(table, 2)
    assert table.events.page(10).consumed_rcu > 0


def test_get_returns_every_type_exactly(table):
    put_items(table, [{
        "event_id": "all/the #types %",
        "timestamp": "2024-01-01T00:00:00Z",
        "big": Decimal("12345678901234567890123456789012345678"),
        "tiny": Decimal("0.000000000000000000000000000000000001"),
        "blob": b"\x00\xff", "flag": False, "nothing": None, "empty": "",
        "names": {"a", "b"}, "numbers": {Decimal("1.5"), Decimal("2")}, "blobs": {b"x"},
        "map": {"nested": ["x", Decimal("1")]}, "list": [],
    }])
    event = table.events.get("all/the #types %")
    assert event.item["big"] == {"N": "12345678901234567890123456789012345678"}
    assert event.values["big"] == Decimal("12345678901234567890123456789012345678")
    assert event.values["tiny"] == Decimal("1E-36")
    assert event.values["blob"] == b"\x00\xff" and isinstance(event.values["blob"], bytes)
    assert event.values["flag"] is False and event.values["nothing"] is None and event.values["empty"] == ""
    assert event.values["names"] == {"a", "b"} and event.values["blobs"] == {b"x"}
    assert event.values["map"] == {"nested": ["x", Decimal("1")]} and event.values["list"] == []


def test_unknown_id_raises_not_found(table):
    with pytest.raises(EventNotFound):
        table.events.get("nope")


def test_put_new_never_overwrites(table):
    table.events.put_new({"event_id": "dup", "timestamp": "2024-01-01T00:00:00Z", "source": "original"})
    with pytest.raises(EventExists):
        table.events.put_new({"event_id": "dup", "timestamp": "2024-01-02T00:00:00Z", "source": "clobber"})
    assert table.events.get("dup").values["source"] == "original"


def test_approximate_count_is_cached(table):
    seed(table, 3)
    seen = read_calls(table)
    first = table.status.approximate_count()
    second = table.status.approximate_count()
    assert first == second == 3 and seen == ["DescribeTable"]


def test_a_failing_describe_table_is_asked_once_a_minute_not_per_page(table):
    clock = [1000.0]
    table.status._clock = lambda: clock[0]
    with stub_error(table, "describe_table", "AccessDeniedException"):
        assert table.status.approximate_count() is None
        assert table.status.approximate_count() is None  # no second call: the stubber would raise
    clock[0] += 61
    assert table.status.approximate_count() == 0


def test_missing_table_is_backend_unavailable(mocked_aws):
    missing = Table.open(settings_for("no-such-table"))
    with pytest.raises(TableMissing, match="no-such-table"):
        missing.events.page(10)
    assert missing.status.approximate_count() is None


@pytest.mark.parametrize("code,error", [
    ("ProvisionedThroughputExceededException", Throttled),
    ("ThrottlingException", Throttled),
    ("AccessDeniedException", AccessDenied),
    ("InternalServerError", BackendUnavailable),
])
def test_sdk_errors_become_domain_errors(table, code, error):
    with stub_error(table, "scan", code, 500 if code == "InternalServerError" else 400), pytest.raises(error):
        table.events.page(10)


def test_a_denied_or_unsupported_status_panel_says_which_and_the_others_answer(table):
    with stub_status(table, refuse={"describe_continuous_backups": "AccessDeniedException",
                                    "describe_time_to_live": "UnknownOperationException"}):
        status = table.status.status()
    assert status.description is not None and status.description.status == "ACTIVE"
    assert status.pitr.status == "UNKNOWN" and status.pitr.unavailable.reason == "denied"
    assert status.ttl.unavailable.reason == "unsupported"


def test_a_dead_endpoint_is_tried_three_times_not_ten():
    dead = Table.open(settings_for("t-events", "http://127.0.0.1:9", DYNAMODB_CONNECT_TIMEOUT=1,
                                                 DYNAMODB_READ_TIMEOUT=1))
    attempts = []
    dead.clients.dynamodb.meta.events.register("before-send.dynamodb.Scan", lambda **_: attempts.append(1))
    with pytest.raises(BackendUnavailable, match="did not answer"):
        dead.events.page(10)
    # Standard retry mode with 3 attempts, never botocore's legacy 10 with long waits.
    assert len(attempts) == 3


@pytest.mark.parametrize("code", ["ProvisionedThroughputExceededException", "AccessDeniedException",
                                  "ResourceNotFoundException", "ValidationException", "InternalServerError",
                                  "UnknownOperationException"])
def test_every_store_error_keeps_its_sdk_cause_and_code(table, code):
    with stub_error(table, "scan", code), pytest.raises(StoreError) as raised:
        table.events.page(10)
    assert raised.value.code == code
    assert isinstance(raised.value.__cause__, ClientError)
    assert raised.value.__cause__.response["Error"]["Code"] == code


def test_a_duplicate_keeps_the_conditional_failure_as_its_cause(table):
    table.events.put_new({"event_id": "dup", "timestamp": "2024-01-01T00:00:00Z"})
    with pytest.raises(EventExists) as raised:
        table.events.put_new({"event_id": "dup", "timestamp": "2024-01-01T00:00:00Z"})
    assert raised.value.code == "ConditionalCheckFailedException"
    assert isinstance(raised.value.__cause__, ClientError)


def test_no_answer_at_all_is_unavailable_with_botocores_reason_as_code():
    dead = Table.open(settings_for("t-events", "http://127.0.0.1:9", DYNAMODB_MAX_ATTEMPTS=1))
    with pytest.raises(BackendUnavailable) as raised:
        dead.events.get("x")
    assert raised.value.code == "EndpointConnectionError"
    assert raised.value.__cause__ is not None


def test_a_meter_adds_up_calls_rcus_and_items_and_says_when_the_budget_is_spent():
    from dashboard.store import ReadBudget
    from dashboard.store.reading import Meter
    now = [100.0]
    meter = Meter(ReadBudget(seconds=3, rcu=2), clock=lambda: now[0])
    meter.record({"ScannedCount": 10, "ConsumedCapacity": {"CapacityUnits": 0.5}})
    meter.record({"ScannedCount": 5})  # a stand-in that reports no capacity still counts the call
    assert (meter.calls, meter.rcu, meter.items_read, meter.spent()) == (2, 0.5, 15, False)
    meter.record({"ConsumedCapacity": {"CapacityUnits": 1.5}})
    assert meter.spent()
    later = Meter(ReadBudget(seconds=3, rcu=2), clock=lambda: now[0])
    now[0] += 3
    assert later.spent() and not Meter(None).spent()


def test_filters_become_one_condition_with_placeholders_for_every_name_and_value(table):
    from dashboard.store import Filters
    from dashboard.store.events import read_request, second_condition
    from dashboard.store.reading import filter_condition
    assert filter_condition(Filters()) is None and filter_condition(None) is None
    request = read_request(table.name, second_condition("2024-01-01T00:00:00Z"),
                           filter_condition(Filters(source="a b", key_prefix="logs/")))
    assert "logs/" not in request["FilterExpression"] and "a b" not in request["FilterExpression"]
    assert set(request["ExpressionAttributeNames"].values()) == {"timestamp", "source", "key"}
    assert {value["S"] for value in request["ExpressionAttributeValues"].values()} == {
        "2024-01-01T00:00:00Z", "a b", "logs/"}


def test_a_filtered_page_reads_on_until_it_is_full_and_starts_the_next_after_its_last_event(table):
    seed(table, 30, prefix="miss", source="other")
    seed(table, 12, prefix="hit", source="wanted")
    seen = read_calls(table)
    from dashboard.store import Filters
    shown, start = [], None
    while True:
        page = table.events.page(5, start, Filters(source="wanted"))
        assert page.events or page.next_key is None
        shown += [event.event_id for event in page.events]
        start = page.next_key
        if start is None:
            break
    assert sorted(shown) == [f"hit-{n:04}" for n in range(12)]
    assert set(seen) == {"Scan"}
