"""store/deletes.py and store/expiry.py: deletes only ever conditional on the mark, each id's outcome said."""
from __future__ import annotations

import pytest

from dashboard.store import Filters, Table
from dashboard.store.deletes import DELETED, FAILED, MAX_DELETE_IDS, MISSING, REFUSED, DeleteReport
from tests.conftest import admin, put_items, read_calls, stub_error

SECOND = "2024-01-01T00:00:00Z"


def marked(event_id: str, **attributes) -> dict:
    return {"event_id": event_id, "timestamp": SECOND, "event_type": "test", "dashboard_test": True,
            "inserted_by": "alice", **attributes}


def pipeline(event_id: str, **attributes) -> dict:
    return {"event_id": event_id, "timestamp": SECOND, "event_type": "ObjectCreated", **attributes}


def stored_ids(table: Table) -> set[str]:
    return {event.event_id for event in table.events.page(100).events}


def test_a_marked_event_is_deleted_by_one_conditional_delete_item_and_only_once(table):
    put_items(table, [marked("t-1")])
    calls = read_calls(table)
    assert table.deletes.delete("t-1").outcome == DELETED
    assert calls == ["DeleteItem"]
    assert stored_ids(table) == set()
    again = table.deletes.delete("t-1")
    assert again.outcome == MISSING and "no event" in again.reason


@pytest.mark.parametrize("lookalike", [
    pipeline("p-1"),
    pipeline("p-1", dashboard_test="true"),  # a string is not the Boolean mark
    pipeline("p-1", dashboard_test=False),
    pipeline("p-1", dashboard_test=1),
    pipeline("p-1", inserted_by="alice"),
])
def test_an_event_without_the_boolean_mark_is_refused_and_kept(table, lookalike):
    put_items(table, [lookalike])
    calls = read_calls(table)
    result = table.deletes.delete("p-1")
    assert result.outcome == REFUSED and "not a dashboard test event" in result.reason
    assert calls == ["DeleteItem"]  # the condition decides, with the item it failed on: no read first
    assert stored_ids(table) == {"p-1"}


def test_a_backend_error_is_failed_not_deleted(table):
    put_items(table, [marked("t-1")])
    with stub_error(table, "delete_item", "ThrottlingException"):
        result = table.deletes.delete("t-1")
    assert result.outcome == FAILED and "not deleted" in result.reason and "throttling" in result.reason
    assert stored_ids(table) == {"t-1"}


def test_many_ids_each_get_their_outcome_in_the_order_asked_and_each_id_once(table):
    put_items(table, [marked(f"t-{n}") for n in range(5)] + [pipeline("p-1")])
    report = table.deletes.delete_many(["t-3", "p-1", "t-0", "gone", "t-3", "t-1", "t-2", "t-4"])
    assert [(result.event_id, result.outcome) for result in report.results] == [
        ("t-3", DELETED), ("p-1", REFUSED), ("t-0", DELETED), ("gone", MISSING), ("t-1", DELETED),
        ("t-2", DELETED), ("t-4", DELETED)]
    assert report.counts() == {"deleted": 5, "refused": 1, "missing": 1, "unknown": 0, "failed": 0}
    assert stored_ids(table) == {"p-1"}


def test_more_than_the_most_ids_is_refused_before_any_call(table):
    calls = read_calls(table)
    with pytest.raises(ValueError):
        table.deletes.delete_many([f"t-{n}" for n in range(MAX_DELETE_IDS + 1)])
    assert calls == []


def test_a_report_where_every_id_failed_says_nothing_was_settled():
    from dashboard.store import DeleteResult
    assert DeleteReport([DeleteResult("a", FAILED), DeleteResult("b", FAILED)]).nothing_settled
    assert not DeleteReport([DeleteResult("a", FAILED), DeleteResult("b", MISSING)]).nothing_settled
    assert not DeleteReport([]).nothing_settled


def test_the_inserted_filter_lists_only_marked_events(table):
    put_items(table, [marked("t-1"), marked("t-2"), pipeline("p-1"), pipeline("p-2", dashboard_test="true"),
                      pipeline("p-3", dashboard_test=1)])
    page = table.events.page(25, filters=Filters(inserted="dashboard"))
    assert sorted(event.event_id for event in page.events) == ["t-1", "t-2"]
    second = table.events.by_timestamp(SECOND, 25, filters=Filters(inserted="dashboard", source="nowhere"))
    assert second.events == []


# ------------------------------------------------------------------------------------------------ TTL


def enable_ttl(table: Table, attribute: str = "expires_at") -> None:
    table.clients.dynamodb.update_time_to_live(
        TableName=table.name, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute})


def test_the_ttl_attribute_is_none_while_ttl_is_off_and_asked_once_a_minute(table):
    calls = read_calls(table)
    assert table.expiry.attribute() is None
    enable_ttl(table)
    assert table.expiry.attribute() is None  # remembered for a minute
    assert calls.count("DescribeTimeToLive") == 1


def test_the_ttl_attribute_once_enabled_and_an_events_removal_time(mocked_aws):
    from tests.conftest import settings_for, unique_table
    table = Table.open(settings_for(unique_table()))
    admin(table).create_table(wait=False)
    enable_ttl(table)
    put_items(table, [marked("t-1", expires_at=1_900_000_000), marked("t-2")])
    assert table.expiry.attribute() == "expires_at"
    removal = table.expiry.removal("t-1")
    assert removal is not None and (removal.attribute, removal.epoch) == ("expires_at", 1_900_000_000)
    without = table.expiry.removal("t-2")
    assert without is not None and without.epoch is None
    from dashboard.store import EventNotFound
    with pytest.raises(EventNotFound):
        table.expiry.removal("none")


def test_a_ttl_on_the_key_is_never_offered(table):
    enable_ttl(table, "event_id")
    assert table.expiry.attribute() is None


def test_a_denied_describe_time_to_live_means_no_expiry_is_offered(table):
    with stub_error(table, "describe_time_to_live", "AccessDeniedException"):
        assert table.expiry.attribute() is None
