"""Test events that clean up after themselves, at the wire on the embedded DynamoDB: only marked events are ever
deleted (one request or many), exactly once, each id's outcome said; lost answers, locks, audit and TTL."""
from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from dashboard.app import create_app
from dashboard.store import Table
from tests.conftest import LiveServer, admin, csrf_field, csrf_token, put_items, read_calls, settings_for, unique_table
from tests.pages import error_message, fact, row_ids

SECOND = "2024-01-01T00:00:00Z"


def new_table(endpoint: str, ttl: str | None = None) -> Table:
    table = Table.open(settings_for(unique_table(), endpoint))
    admin(table).create_table(point_in_time_recovery=False)
    if ttl:
        table.clients.dynamodb.update_time_to_live(
            TableName=table.name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl})
    return table


def dashboard(table: Table, endpoint: str | None = None, **overrides):
    """A test client of a dashboard on `table`, whose DynamoDB calls go over HTTP to `endpoint` (the table's own)."""
    settings = settings_for(table.name, endpoint or table.clients.endpoint_url, **overrides)
    app = create_app(settings, table=Table.open(settings) if endpoint else table)
    app.config["TESTING"] = True
    return app.test_client()


def pipeline_event(event_id: str) -> dict:
    """Shaped as the pipeline writes them: no mark."""
    return {"event_id": event_id, "timestamp": SECOND, "event_type": "ObjectCreated", "source": "uploads",
            "key": f"in/{event_id}.txt", "size": 12}


def marked_event(event_id: str) -> dict:
    return {"event_id": event_id, "timestamp": SECOND, "event_type": "test", "dashboard_test": True,
            "inserted_by": "local"}


def insert(client, event_id: str, **fields: str):
    page = client.get("/events/new").get_data(as_text=True)
    return client.post("/events", data={"csrf_token": csrf_field(page), "event_id": event_id, "event_type": "test",
                                        "timestamp": SECOND, **fields})


def stored_ids(table: Table) -> set[str]:
    return {event.event_id for event in table.events.page(100).events}


def api_headers(client) -> dict[str, str]:
    return {"X-CSRFToken": csrf_token(client)}


def audit_lines(caplog, kind: str = "delete") -> list[dict]:
    lines = [json.loads(record.getMessage()) for record in caplog.records if record.name == "dashboard.audit"]
    return [line for line in lines if line["audit"] == kind]


@pytest.fixture
def wire_table(moto_endpoint) -> Table:
    return new_table(moto_endpoint)


@pytest.fixture
def wire_client(wire_table):
    return dashboard(wire_table)


# ------------------------------------------------------------------------------------------------ the mark


def test_an_event_inserted_through_the_form_carries_the_mark_and_who_inserted_it(wire_table):
    client = dashboard(wire_table, DASHBOARD_AUTH_HEADER="X-Auth-Request-User")
    client.environ_base["HTTP_X_AUTH_REQUEST_USER"] = "alice"
    assert insert(client, "t-alice").status_code == 303
    assert wire_table.events.get("t-alice").item["dashboard_test"] == {"BOOL": True}
    assert wire_table.events.get("t-alice").values["inserted_by"] == "alice"
    page = client.get("/events/t-alice").get_data(as_text=True)
    assert fact(page, "inserted-by") == "alice" and "data-delete-form" in page


def test_nobody_signed_in_is_recorded_as_local_and_a_pipeline_event_offers_no_delete(wire_table, wire_client):
    put_items(wire_table, [pipeline_event("p-1")])
    insert(wire_client, "t-1")
    assert wire_table.events.get("t-1").values["inserted_by"] == "local"
    pipeline_page = wire_client.get("/events/p-1").get_data(as_text=True)
    assert "data-test-event" not in pipeline_page and "data-delete-form" not in pipeline_page


def test_the_inserted_filter_lists_only_test_events_on_pages_and_the_api_with_every_other_parameter(wire_table,
                                                                                                wire_client):
    put_items(wire_table, [pipeline_event(f"p-{n}") for n in range(5)] + [
        pipeline_event("p-string") | {"dashboard_test": "true"}])
    for n in range(3):
        insert(wire_client, f"t-{n}")
    listed = wire_client.get("/events?inserted=dashboard").get_data(as_text=True)
    assert sorted(row_ids(listed)) == ["t-0", "t-1", "t-2"]
    assert "inserted through this dashboard" in listed
    assert 'name="inserted" type="checkbox" value="dashboard" checked' in listed
    api = wire_client.get("/api/events?inserted=dashboard&limit=2").get_json()
    assert len(api["items"]) == 2 and all(item["dashboard_test"] is True for item in api["items"])
    assert api["filters"] == {"inserted": "dashboard"}
    following = wire_client.get(f"/api/events?inserted=dashboard&limit=2&cursor={api['next_cursor']}").get_json()
    assert {item["event_id"] for item in api["items"] + following["items"]} == {"t-0", "t-1", "t-2"}
    # The cursor belongs to the filtered listing: the unfiltered one refuses it.
    assert wire_client.get(f"/api/events?limit=2&cursor={api['next_cursor']}").status_code == 400
    second = wire_client.get(f"/api/events?inserted=dashboard&timestamp={SECOND}&event_type=test").get_json()
    assert sorted(item["event_id"] for item in second["items"]) == ["t-0", "t-1", "t-2"]
    ranged = wire_client.get(f"/api/events?inserted=dashboard&from={SECOND}&to={SECOND}&source=uploads").get_json()
    assert ranged["items"] == []
    refused = wire_client.get("/api/events?inserted=pipeline")
    assert refused.status_code == 400 and "inserted must be dashboard" in refused.get_json()["message"]


# ------------------------------------------------------------------------------------------------ one at a time


def test_a_pipeline_event_is_never_deleted_by_the_page_or_the_api_and_the_answer_says_why(wire_table, wire_client):
    put_items(wire_table, [pipeline_event("p-1")])
    page = wire_client.post("/events/p-1/delete", data={"csrf_token": csrf_token(wire_client)})
    assert page.status_code == 403 and "not a dashboard test event" in page.get_data(as_text=True)
    api = wire_client.delete("/api/events/p-1", headers=api_headers(wire_client))
    assert api.status_code == 403
    assert api.get_json()["error"] == "Not a dashboard test event" and "not a dashboard test event" in api.get_json()[
        "message"]
    assert stored_ids(wire_table) == {"p-1"} and wire_table.events.get("p-1").values == pipeline_event("p-1")


def test_a_marked_event_is_deleted_exactly_once_then_404(wire_table, wire_client):
    insert(wire_client, "t-1")
    insert(wire_client, "t-2")
    deleted = wire_client.post("/events/t-1/delete", data={"csrf_token": csrf_token(wire_client)})
    text = deleted.get_data(as_text=True)
    assert deleted.status_code == 200 and fact(text, "delete-summary") == "Deleted 1."
    assert 'data-delete-result="deleted" data-event-id="t-1"' in text
    again = wire_client.post("/events/t-1/delete", data={"csrf_token": csrf_token(wire_client)})
    assert again.status_code == 404 and 'data-delete-result="missing"' in again.get_data(as_text=True)
    assert wire_client.delete("/api/events/t-2", headers=api_headers(wire_client)).get_json() == {"deleted": "t-2"}
    gone = wire_client.delete("/api/events/t-2", headers=api_headers(wire_client))
    assert gone.status_code == 404 and gone.get_json()["outcome"] == "missing"
    assert stored_ids(wire_table) == set()


def test_an_id_that_names_a_route_is_deleted_as_that_id(wire_table, wire_client):
    for event_id in ("a/delete", "delete", "x y/z%2F"):
        put_items(wire_table, [marked_event(event_id)])
    for event_id in ("a/delete", "delete", "x y/z%2F"):
        path = "/events/" + quote(event_id, safe="") + "/delete"
        response = wire_client.post(path, data={"csrf_token": csrf_token(wire_client)})
        assert response.status_code == 200, event_id
    assert stored_ids(wire_table) == set()


# ------------------------------------------------------------------------------------------------ many at once


def test_a_bulk_delete_of_50_marked_events_with_one_unmarked_deletes_exactly_the_50_and_says_so(wire_table,
                                                                                              wire_client):
    marked = [f"t-{n:02}" for n in range(50)]
    put_items(wire_table, [marked_event(event_id) for event_id in marked] + [pipeline_event("p-1")])
    listed = wire_client.get("/events?inserted=dashboard&limit=100").get_data(as_text=True)
    offered = re.findall(r'<input type="checkbox" name="id" value="([^"]+)"', listed)
    assert sorted(offered) == marked  # the list offers the test events only
    token = csrf_token(wire_client)
    calls = read_calls(wire_table)
    response = wire_client.post("/events/delete", data={"csrf_token": token,
                                                        "id": offered[:25] + ["p-1"] + offered[25:]})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert fact(page, "delete-summary") == "Deleted 50, 1 was not a test event (kept)."
    assert page.count('data-delete-result="deleted"') == 50 and page.count('data-delete-result="refused"') == 1
    assert calls.count("DeleteItem") == 51 and set(calls) == {"DeleteItem"}  # every one conditional, no batch
    assert stored_ids(wire_table) == {"p-1"}


def test_the_bulk_api_answers_each_id_under_its_outcome(wire_table, wire_client):
    marked = [f"t-{n:02}" for n in range(50)]
    put_items(wire_table, [marked_event(event_id) for event_id in marked] + [pipeline_event("p-1")])
    response = wire_client.post("/api/events/delete", json={"ids": ["p-1", *marked, "none", "t-00"]},
                                headers=api_headers(wire_client))
    body = response.get_json()
    assert response.status_code == 200
    assert body["deleted"] == marked and body["missing"] == ["none"] and body["unknown"] == []
    assert [entry["id"] for entry in body["refused"]] == ["p-1"] and "not a dashboard test event" in body["refused"][
        0]["reason"]
    assert body["summary"] == "Deleted 50, 1 was not a test event (kept), 1 was not found."
    assert stored_ids(wire_table) == {"p-1"}


def test_the_most_ids_at_once_are_all_deleted_on_a_deadline_of_their_own(wire_table, wire_client):
    marked = [f"t-{n:04}" for n in range(1000)]
    put_items(wire_table, [marked_event(event_id) for event_id in marked])
    started = time.monotonic()
    response = wire_client.post("/api/events/delete", json={"ids": marked}, headers=api_headers(wire_client))
    took = time.monotonic() - started
    assert response.status_code == 200 and response.get_json()["summary"] == "Deleted 1,000."
    assert stored_ids(wire_table) == set()
    assert took < 20  # DASHBOARD_DEADLINE_SECONDS (4) per hundred ids, at most 20 s


def test_a_bulk_deadline_is_the_request_deadline_per_hundred_ids_at_most_20_seconds(wire_table):
    from dashboard.web.deleting import bulk_deadline_seconds
    app = create_app(settings_for(wire_table.name, DASHBOARD_DEADLINE_SECONDS="3"), table=wire_table)
    with app.app_context():
        assert [bulk_deadline_seconds(n) for n in (1, 100, 101, 250, 1000)] == [3, 3, 6, 9, 20]


@pytest.mark.parametrize(("body", "message"), [
    ({"ids": []}, "no event chosen"),
    ({"ids": "t-1"}, '{"ids"'),
    (["t-1"], '{"ids"'),
    ({"ids": ["t-1", 7]}, "non-empty string"),
    ({"ids": [""]}, "non-empty string"),
    ({"ids": [f"t-{n}" for n in range(1001)]}, "at most 1,000"),
])
def test_a_bulk_request_that_names_no_usable_ids_is_400_and_deletes_nothing(wire_table, wire_client, body, message):
    put_items(wire_table, [marked_event("t-1")])
    response = wire_client.post("/api/events/delete", json=body, headers=api_headers(wire_client))
    assert response.status_code == 400 and message in response.get_json()["message"]
    assert stored_ids(wire_table) == {"t-1"}


def test_a_bulk_form_with_nothing_ticked_is_400(wire_client):
    response = wire_client.post("/events/delete", data={"csrf_token": csrf_token(wire_client)})
    assert response.status_code == 400 and "no event chosen" in error_message(response.get_data(as_text=True))


# ------------------------------------------------------------------------------------------------ lost answers


@pytest.fixture
def proxied(fault_proxy, moto_endpoint):
    table = new_table(moto_endpoint)
    return table, dashboard(table, fault_proxy.url)


def test_a_delete_whose_answer_is_lost_once_is_reported_deleted_not_missing(fault_proxy, proxied):
    table, client = proxied
    put_items(table, [marked_event("t-1")])
    fault_proxy.fault = "lose-delete"
    response = client.delete("/api/events/t-1", headers=api_headers(client))
    assert fault_proxy.lost == ["DynamoDB_20120810.DeleteItem"]  # the delete happened, its answer did not arrive
    assert response.status_code == 200 and response.get_json() == {"deleted": "t-1"}
    assert stored_ids(table) == set()


def test_a_lost_answer_that_cannot_be_checked_is_unknown_on_the_api_and_the_page(fault_proxy, proxied, caplog):
    caplog.set_level(logging.INFO, logger="dashboard.audit")
    table, client = proxied
    put_items(table, [marked_event("t-1"), marked_event("t-2")])
    token = csrf_token(client)
    fault_proxy.after_lost = "refuse"
    fault_proxy.fault = "lose-delete"
    response = client.delete("/api/events/t-1", headers={"X-CSRFToken": token})
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.get_json()["outcome"] == "unknown" and "may have been deleted" in response.get_json()["message"]
    fault_proxy.fault = "pass"
    fault_proxy.after_lost = "refuse"
    fault_proxy.fault = "lose-delete"
    page = client.post("/events/t-2/delete", data={"csrf_token": token})
    text = page.get_data(as_text=True)
    assert page.status_code == 503 and "may have been deleted" in text and 'data-delete-result="unknown"' in text
    assert 'href="/events/t-2"' in text  # where to look
    fault_proxy.fault = "pass"
    assert stored_ids(table) == set()  # both had been deleted: "not deleted" would have been a lie
    assert [line["outcome"] for line in audit_lines(caplog)] == ["unknown", "unknown"]


def test_a_refused_connection_deletes_nothing_and_says_so(fault_proxy, proxied):
    table, client = proxied
    put_items(table, [marked_event("t-1"), marked_event("t-2")])
    token = csrf_token(client)
    fault_proxy.fault = "refuse"
    one = client.delete("/api/events/t-1", headers={"X-CSRFToken": token})
    assert one.status_code == 503 and one.get_json()["outcome"] == "failed" and "not deleted" in one.get_json()[
        "message"]
    many = client.post("/api/events/delete", json={"ids": ["t-1", "t-2"]}, headers={"X-CSRFToken": token})
    assert many.status_code == 503 and [entry["id"] for entry in many.get_json()["failed"]] == ["t-1", "t-2"]
    fault_proxy.fault = "pass"
    assert stored_ids(table) == {"t-1", "t-2"}


# ------------------------------------------------------------------------------------------------ who may delete


def test_read_only_mode_refuses_every_delete_and_offers_none(wire_table):
    put_items(wire_table, [marked_event("t-1")])
    writable = dashboard(wire_table)
    token = csrf_token(writable)
    client = dashboard(wire_table, DASHBOARD_READ_ONLY="1")
    detail = client.get("/events/t-1").get_data(as_text=True)
    assert "data-test-event" in detail and "data-delete-form" not in detail
    assert "data-bulk-delete" not in client.get("/events?inserted=dashboard").get_data(as_text=True)
    for response in (client.post("/events/t-1/delete", data={"csrf_token": token}),
                     client.post("/events/delete", data={"csrf_token": token, "id": "t-1"})):
        assert response.status_code == 403
        assert "test events cannot be deleted" in error_message(response.get_data(as_text=True))
    for response in (client.delete("/api/events/t-1", headers={"X-CSRFToken": token}),
                     client.post("/api/events/delete", json={"ids": ["t-1"]}, headers={"X-CSRFToken": token})):
        assert response.status_code == 403 and "cannot be deleted" in response.get_json()["message"]
    assert stored_ids(wire_table) == {"t-1"}


def test_without_a_csrf_token_or_from_another_origin_nothing_is_deleted(wire_table, wire_client):
    put_items(wire_table, [marked_event("t-1")])
    assert wire_client.delete("/api/events/t-1").status_code == 400
    assert wire_client.post("/events/t-1/delete").status_code == 400
    foreign = wire_client.delete("/api/events/t-1", headers={**api_headers(wire_client),
                                                            "Origin": "https://evil.example"})
    assert foreign.status_code == 403
    assert stored_ids(wire_table) == {"t-1"}


def environments_app(tmp_path: Path, endpoint: str, prod: dict[str, object]):
    tables = {name: new_table(endpoint).name for name in ("dev", "prod")}
    lines = []
    for name, table in tables.items():
        lines += [f"[environments.{name}]", f'table = "{table}"', f'endpoint = "{endpoint}"']
        lines += [f"{key} = {str(value).lower()}" for key, value in (prod if name == "prod" else {}).items()]
    config = tmp_path / "dashboard.toml"
    config.write_text("\n".join(lines) + "\n")
    app = create_app(settings_for("unused-events", DASHBOARD_CONFIG=str(config)))
    app.config["TESTING"] = True
    found = app.extensions["environments"]
    return app.test_client(), found.table(found.by_name["prod"])


def test_a_locked_production_environment_refuses_deletes(tmp_path, moto_endpoint):
    client, prod = environments_app(tmp_path, moto_endpoint, {"production": True})
    put_items(prod, [marked_event("t-1")])
    token = csrf_field(client.get("/dev/events/new").get_data(as_text=True))
    refused = client.post("/prod/events/t-1/delete", data={"csrf_token": token})
    assert refused.status_code == 403 and "Writes are off in the production environment prod" in error_message(
        refused.get_data(as_text=True)) and "cannot be deleted" in refused.get_data(as_text=True)
    assert client.delete("/prod/api/events/t-1", headers={"X-CSRFToken": token}).status_code == 403
    assert stored_ids(prod) == {"t-1"}


def test_a_production_environment_that_allows_writes_asks_to_type_its_name_before_a_delete(tmp_path, moto_endpoint,
                                                                                           caplog):
    caplog.set_level(logging.INFO, logger="dashboard.audit")
    client, prod = environments_app(tmp_path, moto_endpoint, {"production": True, "writes": True})
    put_items(prod, [marked_event(f"t-{n}") for n in range(4)])
    detail = client.get("/prod/events/t-0").get_data(as_text=True)
    assert 'name="confirm_environment"' in detail and "Type prod to delete from production" in detail
    token = csrf_field(detail)
    for typed in ("", "dev", "Prod"):
        wrong = client.post("/prod/events/t-0/delete", data={"csrf_token": token, "confirm_environment": typed})
        assert wrong.status_code == 422 and "type prod" in wrong.get_data(as_text=True), typed
        bulk = client.post("/prod/events/delete", data={"csrf_token": token, "id": ["t-1", "t-2"],
                                                        "confirm_environment": typed})
        assert bulk.status_code == 422 and bulk.get_data(as_text=True).count("checked") == 2
        api = client.post("/prod/api/events/delete", json={"ids": ["t-1"], "confirm_environment": typed},
                          headers={"X-CSRFToken": token})
        assert api.status_code == 422 and "nothing was deleted" in api.get_json()["message"]
        assert client.delete("/prod/api/events/t-3", json={"confirm_environment": typed},
                             headers={"X-CSRFToken": token}).status_code == 422
    assert stored_ids(prod) == {"t-0", "t-1", "t-2", "t-3"}
    assert client.post("/prod/events/t-0/delete", data={"csrf_token": token, "confirm_environment": "prod"}
                       ).status_code == 200
    assert client.post("/prod/events/delete", data={"csrf_token": token, "id": ["t-1", "t-2"],
                                                    "confirm_environment": "prod"}).status_code == 200
    assert client.delete("/prod/api/events/t-3", json={"confirm_environment": "prod"},
                         headers={"X-CSRFToken": token}).get_json() == {"deleted": "t-3"}
    assert stored_ids(prod) == set()
    outcomes = [line["outcome"] for line in audit_lines(caplog)]
    assert outcomes == ["invalid"] * 12 + ["deleted"] * 3


# ------------------------------------------------------------------------------------------------ audit


def test_every_delete_leaves_one_audit_line_with_who_which_ids_and_what_came_of_each(wire_table, caplog):
    caplog.set_level(logging.INFO, logger="dashboard.audit")
    put_items(wire_table, [marked_event("t-1"), marked_event("t-2"), pipeline_event("p-1")])
    client = dashboard(wire_table, DASHBOARD_AUTH_HEADER="X-Auth-Request-User")
    client.environ_base["HTTP_X_AUTH_REQUEST_USER"] = "alice"
    client.post("/events/t-1/delete", data={"csrf_token": csrf_token(client)})
    client.post("/api/events/delete", json={"ids": ["t-2", "p-1", "none"]}, headers=api_headers(client))
    one, many = audit_lines(caplog)
    assert {key: one[key] for key in ("user", "event_ids", "outcome", "results", "table")} == {
        "user": "alice", "event_ids": ["t-1"], "outcome": "deleted", "results": {"deleted": ["t-1"]},
        "table": wire_table.name}
    assert many["user"] == "alice" and many["event_ids"] == ["t-2", "p-1", "none"] and many["outcome"] == "mixed"
    assert many["results"] == {"deleted": ["t-2"], "refused": ["p-1"], "missing": ["none"]}
    assert one["request_id"] and many["request_id"] and one["request_id"] != many["request_id"]


# ------------------------------------------------------------------------------------------------ TTL


def test_with_ttl_on_the_form_offers_an_expiry_and_writes_its_epoch_into_the_ttl_attribute(moto_endpoint):
    table = new_table(moto_endpoint, ttl="expires_at")
    client = dashboard(table)
    form = client.get("/events/new").get_data(as_text=True)
    assert 'name="expires_in"' in form and "1 hour" in form and "1 day" in form and "1 week" in form
    for choice, seconds in (("1h", 3600), ("1d", 86400), ("1w", 604800)):
        before = int(time.time())
        assert insert(client, f"t-{choice}", expires_in=choice).status_code == 303
        after = int(time.time())
        stored = table.events.get(f"t-{choice}").item["expires_at"]
        assert set(stored) == {"N"} and before + seconds <= int(stored["N"]) <= after + seconds
    insert(client, "t-never", expires_in="")
    assert "expires_at" not in table.events.get("t-never").item
    assert insert(client, "t-bad", expires_in="1y").status_code == 422


def test_the_event_page_loads_when_dynamodb_will_remove_it_on_its_own(moto_endpoint):
    table = new_table(moto_endpoint, ttl="expires_at")
    client = dashboard(table)
    insert(client, "t-1", expires_in="1d")
    put_items(table, [marked_event("t-old") | {"expires_at": 1_000_000_000}])
    calls = read_calls(table)
    detail = client.get("/events/t-1").get_data(as_text=True)
    assert calls == ["GetItem"]  # the event's page keeps its one call; the expiry is a request of its own
    assert 'hx-get="/expiry?event_id=t-1"' in detail and 'href="/expiry?event_id=t-1"' in detail
    expiry = client.get("/expiry?event_id=t-1", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "DynamoDB will remove it after" in expiry and "expires_at" in expiry
    assert re.search(r"\((23 h|1 d) from now", expiry)
    assert "1 GetItem" in expiry
    expired = client.get("/expiry?event_id=t-old").get_data(as_text=True)
    assert "2001-09-09T01:46:40Z" in expired and "awaiting removal" in expired
    assert client.get("/expiry?event_id=none").status_code == 404


def test_without_ttl_no_expiry_is_offered_or_written(wire_table, wire_client):
    form = wire_client.get("/events/new").get_data(as_text=True)
    assert 'name="expires_in"' not in form
    insert(wire_client, "t-1", expires_in="1h")
    assert set(wire_table.events.get("t-1").item) == {"event_id", "event_type", "timestamp", "dashboard_test",
                                                      "inserted_by"}
    assert "no TTL on" in wire_client.get("/expiry?event_id=t-1").get_data(as_text=True)


# ------------------------------------------------------------------------------------------------ over real HTTP


def test_over_http_a_script_deletes_its_test_events_with_the_csrf_header_as_htmx_sends_it(wire_table):
    put_items(wire_table, [marked_event("t-1"), marked_event("t-2"), pipeline_event("p-1")])
    app = create_app(settings_for(wire_table.name, wire_table.clients.endpoint_url), table=wire_table)
    server = LiveServer(app).start()
    try:
        session = requests.Session()
        page = session.get(f"{server.url}/events?inserted=dashboard", timeout=10).text
        token = re.search(r'"X-CSRFToken": "([^"]+)"', page)
        assert token
        headers = {"X-CSRFToken": token.group(1)}
        assert session.delete(f"{server.url}/api/events/t-1", headers=headers, timeout=10).json() == {
            "deleted": "t-1"}
        refused = session.delete(f"{server.url}/api/events/p-1", headers=headers, timeout=10)
        assert refused.status_code == 403
        many = session.post(f"{server.url}/api/events/delete", json={"ids": ["t-2", "p-1"]}, headers=headers,
                            timeout=10).json()
        assert many["deleted"] == ["t-2"] and many["refused"][0]["id"] == "p-1"
        assert session.delete(f"{server.url}/api/events/t-2", timeout=10).status_code == 400  # no token
    finally:
        server.stop()
    assert stored_ids(wire_table) == {"p-1"}


def test_a_delete_route_never_shadows_reading_an_event_whose_id_ends_like_it(wire_table, wire_client):
    put_items(wire_table, [pipeline_event("x/delete")])
    assert wire_client.get("/events/x/delete").status_code == 200
    assert wire_client.get("/api/events/x/delete").get_json()["event_id"] == "x/delete"
