"""`columns=` chooses the events table's columns from the attributes seen; kept in every link; the default unchanged."""
from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

from tests.conftest import seed
from tests.pages import link, row_ids


def headings(page: str) -> list[str]:
    table = page.split('<table class="events', 1)[1].split("</thead>", 1)[0]
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<th scope=\"col\"[^>]*>(.*?)</th>", table)]


def test_chosen_columns_show_in_their_order_and_stay_in_the_links(client, table):
    seed(table, 30, source="bucket-a", size=2048, region="eu-west-1")
    page = client.get("/events?columns=timestamp,event_id,region,size&limit=10").get_data(as_text=True)
    assert headings(page) == ["timestamp", "event_id", "region", "size"]
    assert len(row_ids(page)) == 10
    assert re.search(r'data-field="region" title="eu-west-1"><a class="cell-value"[^>]*>eu-west-1<', page)
    following = link(page, "next")
    assert following and parse_qs(urlsplit(following).query)["columns"] == ["timestamp,event_id,region,size"]
    assert html.unescape(page).count('name="columns" value="region" checked') == 1, "the chooser offers what it saw"


def test_the_default_table_is_unchanged_and_the_chooser_offers_every_attribute_seen(client, table):
    seed(table, 3, region="eu-west-1")
    page = client.get("/events").get_data(as_text=True)
    assert headings(page)[:3] == ["Event id", "Type", "Source"] and len(headings(page)) == 9
    assert 'name="columns" value="region">' in page


def test_a_column_list_from_the_form_boxes_is_read_like_the_comma_list(client, table):
    seed(table, 3, region="eu-west-1")
    page = client.get("/events?columns=event_id&columns=region").get_data(as_text=True)
    assert headings(page) == ["event_id", "region"]


def test_a_bad_column_list_is_a_400(client):
    response = client.get("/api/events?columns=a%20b")
    assert response.status_code == 400 and "columns must be" in response.get_json()["message"]
