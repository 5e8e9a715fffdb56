"""Writes that never lie: an insert whose answer is lost at the wire is read back, never called a duplicate."""
import json
import logging

import pytest

from dashboard.app import create_app
from dashboard.store import EventExists, Table, WriteOutcomeUnknown
from tests.conftest import admin, csrf_token, settings_for, unique_table


@pytest.fixture
def proxy(fault_proxy):
    return fault_proxy


@pytest.fixture
def proxied_table(proxy, moto_endpoint):
    name = unique_table()
    admin(Table.open(settings_for(name, moto_endpoint))).create_table(point_in_time_recovery=False)
    return Table.open(settings_for(name, proxy.url))


def stored(table: Table) -> list[dict]:
    return [event.values for event in table.events.page(100).events]


EVENT = {"event_id": "lost-answer", "event_type": "test", "timestamp": "2024-01-01T00:00:00Z"}


def test_an_insert_whose_answer_is_lost_once_is_reported_written_exactly_once(proxy, proxied_table):
    proxy.fault = "lose-put"
    event = proxied_table.events.put_new(EVENT)
    assert proxy.lost == ["DynamoDB_20120810.PutItem"]  # the first answer really was lost, after the write
    assert event.values == EVENT
    assert stored(proxied_table) == [EVENT]


def test_a_lost_answer_over_someone_elses_event_is_still_a_duplicate(proxy, proxied_table):
    original = {**EVENT, "event_type": "original"}
    proxied_table.events.put_new(original)
    proxy.fault = "lose-put"
    with pytest.raises(EventExists):
        proxied_table.events.put_new(EVENT)
    assert proxy.lost and stored(proxied_table) == [original]


def test_an_answer_lost_while_the_backend_stays_down_is_unknown_not_a_failure(proxy, proxied_table):
    proxy.after_lost = "refuse"
    proxy.fault = "lose-put"
    with pytest.raises(WriteOutcomeUnknown) as raised:
        proxied_table.events.put_new(EVENT)
    assert raised.value.event_id == "lost-answer"
    proxy.fault = "pass"
    assert stored(proxied_table) == [EVENT]  # it had been written: "not written" would have been a lie


def test_a_refused_connection_is_not_written_and_says_so(proxy, proxied_table):
    from dashboard.store import BackendUnavailable
    proxy.fault = "refuse"
    with pytest.raises(BackendUnavailable) as raised:
        proxied_table.events.put_new(EVENT)
    assert not isinstance(raised.value, WriteOutcomeUnknown)
    proxy.fault = "pass"
    assert stored(proxied_table) == []


def form_post(client, **fields):
    token = csrf_token(client)
    return client.post("/events", data={"csrf_token": token, "event_type": "test",
                                        "timestamp": "2024-01-01T00:00:00Z", **fields})


def audit_lines(caplog) -> list[dict]:
    return [json.loads(record.getMessage()) for record in caplog.records if record.name == "dashboard.audit"]


def test_the_form_reports_a_lost_answer_as_inserted_and_audits_it(proxy, proxied_table, caplog):
    caplog.set_level(logging.INFO, logger="dashboard.audit")
    client = create_app(settings_for(proxied_table.name, proxy.url), table=proxied_table).test_client()
    proxy.fault = "lose-put"
    response = form_post(client, event_id="lost-answer")
    assert response.status_code == 303 and response.headers["Location"] == "/events/lost-answer"
    assert [line["outcome"] for line in audit_lines(caplog)] == ["written"]
    assert audit_lines(caplog)[0]["event_id"] == "lost-answer" and audit_lines(caplog)[0]["request_id"]


def test_the_form_says_may_have_been_written_and_links_to_the_event(proxy, proxied_table, caplog):
    caplog.set_level(logging.INFO, logger="dashboard.audit")
    client = create_app(settings_for(proxied_table.name, proxy.url), table=proxied_table).test_client()
    proxy.after_lost = "refuse"
    proxy.fault = "lose-put"
    response = form_post(client, event_id="lost-answer", source="kept-source")
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert "may have been written" in page and 'href="/events/lost-answer"' in page
    assert 'value="kept-source"' in page
    assert [line["outcome"] for line in audit_lines(caplog)] == ["unknown"]
