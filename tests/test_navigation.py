"""Getting around: go to an event by id, and failures that never leave the user stranded or the history wrong."""
import re
from urllib.parse import quote

from botocore.exceptions import EndpointConnectionError

from tests.pages import error_message, fact, marked_link


def test_go_to_event_opens_a_pasted_id_trimmed_of_spaces(client, table):
    table.events.put_new({"event_id": "s3-0a/b c", "timestamp": "2024-01-01T00:00:00Z"})
    response = client.get("/go", query_string={"event_id": "  s3-0a/b c \n"})
    assert response.status_code == 303 and response.headers["Location"] == "/events/" + quote("s3-0a/b c", safe="")
    assert client.get(response.headers["Location"]).status_code == 200


def test_go_to_an_empty_id_is_400_with_a_message(offline_client):
    response = offline_client.get("/go?event_id=+")
    assert response.status_code == 400 and "event_id is empty" in response.get_data(as_text=True)


def test_go_to_an_unknown_id_is_the_detail_pages_404(client):
    response = client.get("/go?event_id=nope", follow_redirects=True)
    assert response.status_code == 404 and "no event with id &#39;nope&#39;" in response.get_data(as_text=True)


def test_every_page_has_the_go_to_box(client):
    page = client.get("/events").get_data(as_text=True)
    assert '<form class="goto" role="search"' in page and 'name="event_id"' in page


def test_an_htmx_error_answer_is_never_pushed_into_history(offline_client):
    response = offline_client.get("/events?timestamp=soon", headers={"HX-Request": "true"})
    assert response.status_code == 400 and response.headers["HX-Push-Url"] == "false"


def fail_every_call(table):
    def refuse(**_):
        raise EndpointConnectionError(endpoint_url="http://dynamodb.test")
    table.clients.dynamodb.meta.events.register("before-send.dynamodb.*", refuse)


def test_a_503_page_offers_retry_of_the_same_request_and_says_when(client, table):
    fail_every_call(table)
    response = client.get("/events?limit=10&timestamp=2024-01-01T00:00:00Z")
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert 'href="/events?limit=10&amp;timestamp=2024-01-01T00:00:00Z" rel="nofollow" data-retry' in page
    assert "retrying is worth it after about 5 seconds" in " ".join(page.split())


def test_an_htmx_503_carries_its_retry_link_into_the_alert(client, table):
    fail_every_call(table)
    response = client.get("/events?limit=10", headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and response.headers["HX-Retarget"] == "#alerts"
    assert 'href="/events?limit=10" rel="nofollow" data-retry' in page


def test_an_empty_second_offers_the_nearest_seconds_with_events_and_the_minutes_around(client, table):
    from tests.conftest import seed
    seed(table, 2, "2024-01-01T11:59:20Z", "early")
    seed(table, 1, "2024-01-01T12:00:05Z", "late")
    page = client.get("/events?timestamp=2024-01-01T12:00:00Z").get_data(as_text=True)
    assert marked_link(page, "nearest-before") == "/events?timestamp=2024-01-01T11:59:20Z&limit=25"
    assert marked_link(page, "nearest-after") == "/events?timestamp=2024-01-01T12:00:05Z&limit=25"
    assert marked_link(page, "around") == "/events?limit=25&from=2024-01-01T11:55:00Z&to=2024-01-01T12:05:00Z"


def test_an_empty_second_far_from_any_event_says_so(client, table):
    page = client.get("/events?timestamp=2024-01-01T12:00:00Z").get_data(as_text=True)
    assert fact(page, "nearest").startswith("No events within 60 seconds either side.")


def test_a_bad_search_keeps_its_form_filled_in_as_typed(offline_client):
    response = offline_client.get("/events?timestamp=yesterday+at+noon&limit=50&source=my-bucket")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and error_message(page).startswith("timestamp 'yesterday at noon'")
    assert re.search(r'<input id="timestamp" name="timestamp" type="search" value="yesterday at noon"', page)
    assert re.search(r'<option value="50" selected>', page) and 'value="my-bucket"' in page
