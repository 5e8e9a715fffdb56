"""The JSON API: same paging as the pages, exact numbers, JSON errors."""
from decimal import Decimal
from urllib.parse import quote

import pytest
import simplejson

from tests.conftest import put_items, seed


def body(response):
    return simplejson.loads(response.get_data(as_text=True), use_decimal=True)


def test_api_events_pages_with_next_cursor_until_the_end(client, table):
    seed(table, 13)
    ids, cursor, calls = [], None, 0
    while True:
        query = {"limit": 5} | ({"cursor": cursor} if cursor else {})
        data = body(client.get("/api/events", query_string=query))
        assert set(data) >= {"items", "next_cursor", "consumed_capacity"}
        # moto, like DynamoDB, reports what each read cost: a positive number, never absent.
        assert isinstance(data["consumed_capacity"], (int, float, Decimal)) and data["consumed_capacity"] > 0
        ids += [item["event_id"] for item in data["items"]]
        cursor = data["next_cursor"]
        calls += 1
        if cursor is None:
            break
    assert sorted(ids) == [f"e-{n:04}" for n in range(13)] and calls <= 4


def test_api_timestamp_search_answers_the_stored_utc_form(client, table):
    seed(table, 3)
    data = body(client.get("/api/events?timestamp=2024-01-01 00:00:00"))
    assert len(data["items"]) == 3 and data["timestamp"] == "2024-01-01T00:00:00Z"


@pytest.mark.parametrize("query,message", [
    ("timestamp=nope", "timestamp 'nope' is not understood: expected an ISO-8601 date and time"),
    ("limit=500", "limit must be a whole number from 1 to 100"),
    ("cursor=forged", "cursor is malformed or was tampered with"),
])
def test_api_bad_parameters_are_json_400_before_any_read(offline_client, query, message):
    response = offline_client.get(f"/api/events?{query}")
    assert response.status_code == 400 and response.mimetype == "application/json"
    data = body(response)
    assert data["status"] == 400 and data["message"].startswith(message)


def test_api_event_keeps_numbers_exact(client, table):
    put_items(table, [{"event_id": "n/1", "timestamp": "2024-01-01T00:00:00Z",
                     "big": Decimal("12345678901234567890123456789012345678"), "frac": Decimal("0.1"),
                     "tags": {"b", "a"}, "blob": b"\x01"}])
    response = client.get("/api/events/" + quote("n/1", safe=""))
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert '"big": 12345678901234567890123456789012345678' in text
    assert '"frac": 0.1' in text
    data = body(response)
    assert data["big"] == Decimal("12345678901234567890123456789012345678")
    assert data["tags"] == ["a", "b"] and data["blob"] == "AQ=="


def test_api_event_in_dynamodb_json_keeps_the_type_tags(client, table):
    put_items(table, [{"event_id": "typed", "timestamp": "2024-01-01T00:00:00Z", "tags": {"x"}}])
    data = body(client.get("/api/events/typed?format=dynamodb"))
    assert data["tags"] == {"SS": ["x"]} and data["event_id"] == {"S": "typed"}


def test_api_unknown_event_is_404_json(client, table):
    response = client.get("/api/events/missing")
    assert response.status_code == 404 and body(response)["status"] == 404
    assert body(response)["message"] == f"no event with id 'missing' in table {table.name}"


def test_api_status_has_the_documented_fields(client, table):
    data = body(client.get("/api/status"))
    assert data["table_name"] == table.name
    assert data["status"] == "ACTIVE" and data["billing_mode"] == "PAY_PER_REQUEST"
    assert data["read_capacity"] is None and data["write_capacity"] is None
    assert isinstance(data["item_count"], int)
    assert [index["name"] for index in data["indexes"]] == ["timestamp-index"]
    assert set(data["indexes"][0]) >= {"name", "status", "item_count"}
    assert data["pitr"]["status"] == "ENABLED"
    assert set(data["pitr"]) >= {"status", "earliest_restorable", "latest_restorable"}


def test_unknown_api_route_is_json_404(offline_client):
    response = offline_client.get("/api/nothing-here")
    assert response.status_code == 404 and body(response)["error"] == "Not Found"
