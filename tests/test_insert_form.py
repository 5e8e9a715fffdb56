"""The test-event insert form: CSRF, per-field validation, the conditional put, read-only mode."""
import re

import pytest

from dashboard.app import create_app
from dashboard.web.environments import READ_ONLY_MESSAGE
from tests.conftest import csrf_field, csrf_token, settings_for, stub_error
from tests.pages import error_message, fact


def valid_form(client, **changes):
    form = {"csrf_token": csrf_token(client), "event_id": "test-form-1", "event_type": "test",
            "source": "my-bucket", "key": "path/to/file.txt", "event_name": "ObjectCreated:Put",
            "size": "1024", "content_type": "text/plain", "timestamp": "2024-01-01T00:00:00Z"}
    form.update(changes)
    return form


def scan_ids(table):
    return [e.event_id for e in table.events.page(100).events]


def test_the_form_is_prefilled_with_a_fresh_id_and_now(offline_client):
    first = offline_client.get("/events/new").get_data(as_text=True)
    second = offline_client.get("/events/new").get_data(as_text=True)
    ids = [field_value(page, "event_id") for page in (first, second)]
    assert all(re.fullmatch(r"test-[0-9a-f-]{36}", event_id) for event_id in ids), ids
    assert ids[0] != ids[1]
    assert re.search(r'name="timestamp"[^>]*value="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"', first)
    assert re.search(r'<input[^>]*name="event_type"[^>]*value="test"', first)
    assert csrf_field(first)


def test_success_redirects_303_to_the_new_event_with_size_stored_as_a_number(client, table):
    response = client.post("/events", data=valid_form(client, timestamp="2024-01-01 02:00:00+02:00"))
    assert response.status_code == 303
    assert response.headers["Location"] == "/events/test-form-1"
    event = table.events.get("test-form-1")
    assert event.item["size"] == {"N": "1024"}
    assert event.item["timestamp"] == {"S": "2024-01-01T00:00:00Z"}
    assert event.item["key"] == {"S": "path/to/file.txt"}
    landing = client.get(response.headers["Location"])
    assert landing.status_code == 200 and fact(landing.get_data(as_text=True), "inserted") == "Event inserted."
    assert "Event inserted." not in client.get(response.headers["Location"]).get_data(as_text=True)


def test_empty_optional_fields_are_left_out(client, table):
    client.post("/events", data=valid_form(client, source="", key="", size="", content_type="", event_name=""))
    # Issue 25: every event inserted through the form carries its mark, who inserted it (`local`: nobody signs in).
    assert set(table.events.get("test-form-1").item) == {"event_id", "event_type", "timestamp", "dashboard_test",
                                                         "inserted_by"}


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_missing_or_bad_csrf_token_is_400_and_nothing_is_written(client, table, token):
    form = valid_form(client)
    if token is None:
        del form["csrf_token"]
    else:
        form["csrf_token"] = token
    response = client.post("/events", data=form)
    assert response.status_code == 400
    assert error_message(response.get_data(as_text=True)).endswith(
        "Reload the form and submit it again; nothing was written.")
    assert scan_ids(table) == []


@pytest.mark.parametrize("field,value,message", [
    ("size", "-1", "whole number"), ("size", "abc", "whole number"), ("size", "1.5", "whole number"),
    ("size", "1" * 39, "whole number"), ("timestamp", "next tuesday", "2024-01-01T00:00:00Z"),
    ("timestamp", "", "timestamp is required"), ("event_id", "", "event id is required"),
    ("event_id", " padded ", "spaces"), ("event_type", "", "event type is required"),
    ("event_id", "x" * 1025, "1024"),
])
def test_invalid_fields_are_422_with_the_error_beside_the_field(client, table, field, value, message):
    response = client.post("/events", data=valid_form(client, **{field: value}))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    block = re.search(rf'<div class="field has-error" data-field="{field}">(.*?)</div>', page, re.S)
    assert block, f"{field} is marked as in error"
    assert message in block.group(1)
    assert 'aria-invalid="true"' in block.group(1)
    assert scan_ids(table) == []


def test_several_errors_are_all_shown_and_the_typed_values_kept(offline_client):
    response = offline_client.post("/events", data=valid_form(offline_client, size="big", timestamp="soon",
                                                              source="kept-bucket"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert page.count('class="field has-error"') == 2
    assert 'value="kept-bucket"' in page


def test_an_existing_id_is_409_and_the_original_is_untouched(client, table):
    table.events.put_new({"event_id": "taken", "timestamp": "2020-01-01T00:00:00Z", "source": "original"})
    response = client.post("/events", data=valid_form(client, event_id="taken", source="clobber"))
    assert response.status_code == 409
    assert fact(response.get_data(as_text=True), "form-errors").startswith(
        "An event with this id already exists and was left as it is.")
    assert table.events.get("taken").values["source"] == "original"
    assert table.events.get("taken").values["timestamp"] == "2020-01-01T00:00:00Z"


def test_a_double_submit_writes_one_event(client, table):
    form = valid_form(client, event_id="double")
    assert client.post("/events", data=form).status_code == 303
    assert client.post("/events", data=form).status_code == 409
    assert scan_ids(table) == ["double"]


def test_htmx_errors_swap_the_form_fragment(offline_client):
    response = offline_client.post("/events", data=valid_form(offline_client, size="x"),
                                   headers={"HX-Request": "true"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.lstrip().startswith("<form") and "<html" not in page


def test_htmx_success_navigates_to_the_new_event(client, table):
    response = client.post("/events", data=valid_form(client, event_id="via-htmx"), headers={"HX-Request": "true"})
    assert response.status_code == 201
    assert response.headers["HX-Redirect"] == "/events/via-htmx"
    assert table.events.get("via-htmx").event_id == "via-htmx"


def test_an_htmx_post_may_carry_the_token_in_a_header(client, table):
    form = valid_form(client, event_id="header-token")
    token = form.pop("csrf_token")
    response = client.post("/events", data=form, headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 201


def test_read_only_mode_has_no_form_and_refuses_posts(table):
    app = create_app(settings_for(table.name, DASHBOARD_READ_ONLY="1"), table=table)
    client = app.test_client()
    assert client.get("/events/new").status_code == 403
    refused = client.post("/events", data={"event_id": "x", "timestamp": "2024-01-01T00:00:00Z"})
    # Every read-only page has a "read-only" badge in its header: the refusal must say why itself.
    assert refused.status_code == 403 and error_message(refused.get_data(as_text=True)) == READ_ONLY_MESSAGE
    with_token = client.post("/events", data={"event_id": "x", "timestamp": "2024-01-01T00:00:00Z",
                                              "csrf_token": "whatever"})
    assert with_token.status_code == 403
    assert "Insert test event" not in client.get("/events").get_data(as_text=True)
    assert scan_ids(table) == []


def test_a_backend_failure_on_insert_is_503_and_keeps_what_was_typed(client, table):
    form = valid_form(client, event_id="kept-id", source="kept-source")
    with stub_error(table, "put_item", "InternalServerError", 500):
        response = client.post("/events", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert 'value="kept-id"' in page and 'value="kept-source"' in page
    assert fact(page, "backend-error").startswith(
        "DynamoDB answered with an error (InternalServerError) The event was not written.")
    assert client.post("/events", data=form).status_code == 303
    assert scan_ids(table) == ["kept-id"]


def field_value(page: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]*)"', page)
    assert match, f"the form has no {name} field with a value"
    return match.group(1)


def test_a_time_left_untouched_is_the_time_of_submitting(client, table, monkeypatch):
    page = client.get("/events/new").get_data(as_text=True)
    shown = field_value(page, "timestamp")
    assert field_value(page, "timestamp_prefilled") == shown
    monkeypatch.setattr("dashboard.formats.times.now_stored", lambda: "2031-05-06T07:08:09Z")
    client.post("/events", data=valid_form(client, timestamp=shown, timestamp_prefilled=shown))
    assert table.events.get("test-form-1").values["timestamp"] == "2031-05-06T07:08:09Z"


def test_a_time_typed_over_the_prefilled_one_is_kept(client, table):
    client.post("/events", data=valid_form(client, timestamp="2024-02-03 04:05:06",
                                           timestamp_prefilled="2031-05-06T07:08:09Z"))
    assert table.events.get("test-form-1").values["timestamp"] == "2024-02-03T04:05:06Z"


def test_insert_a_copy_fills_the_form_with_the_events_attributes_and_a_fresh_id(client, table):
    from tests.conftest import put_items
    put_items(table, [{"event_id": "s3-original", "event_type": "s3", "source": "bucket-a", "key": "logs/a b.gz",
                       "event_name": "ObjectRemoved:Delete", "size": 12, "content_type": "application/gzip",
                       "timestamp": "2024-01-01T13:00:00Z", "flag": True}])
    detail = client.get("/events/s3-original").get_data(as_text=True)
    assert 'href="/events/new?copy=s3-original"' in detail
    page = client.get("/events/new?copy=s3-original").get_data(as_text=True)
    assert [field_value(page, name) for name in ("event_type", "source", "key", "event_name", "size", "content_type")] \
        == ["s3", "bucket-a", "logs/a b.gz", "ObjectRemoved:Delete", "12", "application/gzip"]
    assert field_value(page, "event_id").startswith("test-") and "data-copy-of" in page
    assert field_value(page, "timestamp") != "2024-01-01T13:00:00Z"  # a fresh event happens now


def test_copying_an_unknown_event_is_404(client):
    assert client.get("/events/new?copy=no-such-event").status_code == 404
