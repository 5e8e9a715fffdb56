"""The query box (`q`): every operator alone and combined, negated and with the structured filters, on the whole
table, one second and a range under both plans, item for item the same as a brute-force read of a generated table;
and anything it cannot read is a 400 naming the character and what is supported."""
from __future__ import annotations

import html
import random
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import simplejson
from hypothesis import HealthCheck, given, settings, strategies as st

from dashboard.app import create_app
from dashboard.questions import query
from dashboard.store.conditions import match_all
from tests.conftest import put_items, read_calls, settings_for
from tests.pages import link

DAY = datetime(2024, 1, 1, tzinfo=UTC)
BUSY = DAY + timedelta(hours=12)
DENSE = "2024-01-01T12:00:30Z"
NAMES = ["ObjectCreated:Put", "ObjectCreated:Copy", "ObjectRemoved:Delete", "ObjectRemoved:DeleteMarkerCreated"]
KEYS = ["logs/2024 q1/a.json", "logs/2024 q2/b.json", "logs/app/1.json", "a*b", "img/a.png", "x:y/z"]
# Every operator, plain and negated, over values that the generated table holds and some it does not.
TERMS = [
    "event_type:s3", "-event_type:s3", "event_type:test",
    "source:(bucket-a or bucket-c)", "-source:(bucket-a or bucket-b)", "source:bucket-z",
    "event_name:ObjectCreated:*", "event_name:ObjectRemoved:Delete", "-event_name:ObjectCreated:Put",
    "event_name:ObjectRemoved:*",
    'key:"logs/2024 q1/"*', "key:logs/*", 'key:"a*b"', "-key:img/*", "key:x:y/z",
    "size>1GiB", "size>=1000", "size<10KiB", "size<=1024", "size:1024", "-size:1024", "size:(5 or 1024)",
    "size:[1000 TO 1KiB]", "size:[1000 TO 1KiB}", "-size:[1KiB TO 64KiB}", "size:[1GiB TO 4GiB]",
    'key:["img" TO "logs/2024 q2/b.json"}', "timestamp:[2024-01-01T12:00:10Z TO 2024-01-01T12:00:40Z]",
    "content_type:*", "-content_type:*", 'content_type:"image/png"',
    "processed_at:*", "-processed_at:*", "timestamp>=2024-01-01T12:00:40Z",
]
STRUCTURED = {"event_type": ["s3"], "source": ["bucket-a"], "key": ["logs/"], "event_name": ["ObjectCreated:Put"]}


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_events(seed: int = 24) -> list[dict]:
    """A busy two minutes, a dense second and a few events over the day; sizes as Numbers, a few as Strings."""
    rng = random.Random(seed)
    moments = [DENSE] * 40 + [stamp(BUSY + timedelta(seconds=rng.randrange(120))) for _ in range(160)]
    moments += [stamp(DAY + timedelta(seconds=rng.randrange(86400))) for _ in range(40)]
    events = []
    for n, moment in enumerate(moments):
        event: dict[str, Any] = {
            "event_id": f"ev-{n:04}", "timestamp": moment, "event_type": rng.choice(["s3", "test"]),
                 "source": rng.choice(["bucket-a", "bucket-b", "bucket-c"]), "event_name": rng.choice(NAMES),
                 "key": rng.choice(KEYS)}
        size: int | str | None = rng.choice([5, 1000, 1024, 10 * 1024, 3 * 1024 ** 3, "1024", None])
        if size is not None:
            event["size"] = Decimal(size) if isinstance(size, int) else size
        if rng.random() < 0.7:
            event["content_type"] = rng.choice(["image/png", "application/json"])
        if rng.random() < 0.8:
            event["processed_at"] = stamp(datetime.fromisoformat(moment) + timedelta(seconds=rng.randrange(900)))
        events.append(event)
    return events


@pytest.fixture
def app(table):
    flask_app = create_app(settings_for(table.name, READ_BUDGET_SECONDS=300), table=table)
    flask_app.config["TESTING"] = True
    return flask_app


@pytest.fixture
def events(table) -> list[dict]:
    made = make_events()
    put_items(table, made)
    return made


def body(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return simplejson.loads(response.get_data(as_text=True), use_decimal=True)


def walk_ids(client, **params) -> list[str]:
    ids, cursor = [], None
    for _ in range(200):
        data = body(client.get("/api/events", query_string={**params, **({"cursor": cursor} if cursor else {})}))
        ids += [item["event_id"] for item in data["items"]]
        cursor = data["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("too many pages")


def brute_force(events: list[dict], q: str, structured: dict[str, str], start: str | None = None,
                end: str | None = None) -> list[str]:
    conditions = query.parse(q)

    def structured_match(event: dict) -> bool:
        return all(str(event.get(name, "")).startswith(value) if name == "key" else event.get(name) == value
                   for name, value in structured.items())
    chosen = [event for event in events if (start is None or start <= event["timestamp"] <= end)
              and structured_match(event) and match_all(conditions, event)]
    return [event["event_id"] for event in sorted(chosen, key=lambda e: (e["timestamp"], e["event_id"]))]


queries = st.lists(st.sampled_from(TERMS), min_size=1, max_size=3).map(" ".join)
structured_choice = st.dictionaries(st.sampled_from(sorted(STRUCTURED)), st.just(None), max_size=1).flatmap(
    lambda chosen: st.fixed_dictionaries({name: st.sampled_from(STRUCTURED[name]) for name in chosen}))
SLOW = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.mark.parametrize("term", TERMS)
def test_every_operator_alone_and_negated_finds_what_a_brute_force_read_finds(client, events, term):
    for q in (term, term[1:] if term.startswith("-") else "-" + term):
        assert sorted(walk_ids(client, q=q, limit=100)) == sorted(brute_force(events, q, {})), q


@SLOW
@given(q=queries, structured=structured_choice)
def test_combined_conditions_on_the_whole_table_equal_a_brute_force_read(client, events, q, structured):
    assert sorted(walk_ids(client, q=q, limit=50, **structured)) == sorted(brute_force(events, q, structured))


@SLOW
@given(q=queries, structured=structured_choice, plan=st.sampled_from(["fanout", "scan"]),
       order=st.sampled_from(["asc", "desc"]), seconds=st.sampled_from([1, 20, 120]))
def test_combined_conditions_over_a_range_equal_a_brute_force_read_under_both_plans(client, events, q, structured,
                                                                                   plan, order, seconds):
    start, end = stamp(BUSY), stamp(BUSY + timedelta(seconds=seconds - 1))
    ids = walk_ids(client, q=q, plan=plan, order=order, limit=30, **{"from": start, "to": end}, **structured)
    wanted = brute_force(events, q, structured, start, end)
    assert ids == (wanted[::-1] if order == "desc" else wanted)


@SLOW
@given(q=queries)
def test_conditions_on_one_second_equal_a_brute_force_read(client, events, q):
    assert sorted(walk_ids(client, q=q, timestamp=DENSE, limit=100)) == sorted(brute_force(events, q, {}, DENSE, DENSE))


def test_the_issues_own_questions_are_answered(client, events):
    removed = walk_ids(client, q="event_name:ObjectRemoved:*", limit=100)
    assert removed and sorted(removed) == sorted(e["event_id"] for e in events
                                                 if e["event_name"].startswith("ObjectRemoved:"))
    big = walk_ids(client, q="size>1GiB", limit=100)
    assert sorted(big) == sorted(e["event_id"] for e in events if e.get("size") == Decimal(3 * 1024 ** 3))
    but_put = walk_ids(client, q="-event_name:ObjectCreated:Put", limit=100)
    assert sorted(but_put) == sorted(e["event_id"] for e in events if e["event_name"] != "ObjectCreated:Put")
    # An unquoted number matches the Number and the String it spells; quoted, only the String.
    assert len(walk_ids(client, q="size:1024", limit=100)) == sum(e.get("size") in (Decimal(1024), "1024")
                                                                  for e in events)
    assert len(walk_ids(client, q='size:"1024"', limit=100)) == sum(e.get("size") == "1024" for e in events)


def test_a_quoted_star_is_literal_and_a_quoted_prefix_keeps_its_spaces(client, events):
    assert sorted(walk_ids(client, q='key:"a*b"', limit=100)) == sorted(e["event_id"] for e in events
                                                                        if e["key"] == "a*b")
    assert sorted(walk_ids(client, q='key:"logs/2024 q1/"*', limit=100)) == sorted(
        e["event_id"] for e in events if e["key"].startswith("logs/2024 q1/"))


def test_conditions_travel_as_expression_values_never_text(client, table):
    put_items(table, [{"event_id": "q", "timestamp": DENSE, "source": "x) OR (#n0 = :v0"}])
    seen: list[dict] = []
    table.clients.dynamodb.meta.events.register("provide-client-params.dynamodb.Scan",
                                                lambda params, **_: seen.append(params))
    assert walk_ids(client, q='source:"x) OR (#n0 = :v0"') == ["q"]
    assert "x) OR" not in seen[0]["FilterExpression"] and "source" not in seen[0]["FilterExpression"]


def test_the_query_reaches_the_timeline_and_the_export(client, events):
    q = "event_name:ObjectRemoved:* -source:bucket-a"
    span = {"from": stamp(BUSY), "to": stamp(BUSY + timedelta(seconds=119))}
    wanted = brute_force(events, q, {}, span["from"], span["to"])
    assert body(client.get("/api/timeline", query_string={**span, "q": q}))["total"] == len(wanted)
    exported = client.get("/export/events", query_string={**span, "q": q, "format": "jsonl"}).get_data(as_text=True)
    assert sorted(simplejson.loads(line)["event_id"] for line in exported.splitlines()) == sorted(wanted)


def test_a_query_keeps_its_place_in_links_and_a_cursor_of_another_query_is_refused(client, events):
    first = body(client.get("/api/events", query_string={"q": "event_type:s3", "limit": 5}))
    refused = client.get("/api/events", query_string={"q": "event_type:test", "limit": 5,
                                                      "cursor": first["next_cursor"]})
    assert refused.status_code == 400
    page = client.get("/events", query_string={"q": "event_type:s3", "limit": 5}).get_data(as_text=True)
    following = link(page, "next")
    assert following is not None and parse_qs(urlsplit(following).query)["q"] == ["event_type:s3"]


@pytest.mark.parametrize(("q", "position", "problem"), [
    ("key:a*b", 6, "only at the end"),
    ("size=5", 5, "unexpected"),
    ("size>1GB", 6, "known unit"),
    ("source", 7, "ends too early"),
    ("a:b or c:d", 8, "OR joins values of one field only"),
    ("key:(a or", 10, "ends too early"),
    ("(x)", 1, "unexpected '('"),
    ("size:[2KiB TO 1KiB]", 15, "no greater than"),
    ('size:[1 TO "x"]', 7, "both ends"),
    ("size:[1 TO 5)", 13, "unexpected ')'"),
])
def test_a_query_it_cannot_read_is_a_400_naming_the_character_and_what_is_supported(client, q, position, problem):
    for path, more in (("/api/events", {}), ("/events", {}), ("/timeline", {}), ("/export/events", {"format": "csv"})):
        response = client.get(path, query_string={"q": q, **more})
        text = html.unescape(response.get_data(as_text=True))
        assert response.status_code == 400, (path, text)
        assert f"character {position}" in text and problem in text and "field:prefix*" in text
    page = client.get("/events", query_string={"q": q}).get_data(as_text=True)
    assert 'name="q"' in page, "the query box is shown again"


def test_the_query_box_keeps_what_was_typed_after_a_400(client):
    page = client.get("/events", query_string={"q": 'key:a*b "x'}).get_data(as_text=True)
    assert 'value="key:a*b &#34;x"' in page or 'value="key:a*b &quot;x"' in page


def test_an_unfiltered_page_still_makes_one_call_and_a_query_never_scans_a_second(client, table, events):
    client.get("/events")
    seen = read_calls(table)
    client.get("/events")
    assert seen == ["Scan"]
    seen.clear()
    walk_ids(client, q="event_type:s3", timestamp=DENSE, limit=100)
    assert set(seen) == {"Query"}


@given(value=st.text(min_size=1, max_size=20))
def test_a_term_the_dashboard_writes_reads_back_as_the_same_value(value):
    (only,) = query.parse(query.term("key", value))
    (but,) = query.parse(query.term("key", value, negate=True))
    assert only.matches({"key": value}) and not but.matches({"key": value})
    assert not only.matches({"key": value + "x"}) and but.matches({"key": value + "x"})


def test_removing_a_term_keeps_the_others_as_typed():
    q = 'key:"a b"*  size>1GiB -source:(x or y)'
    conditions = query.parse(q)
    assert query.without(q, conditions[1]) == 'key:"a b"* -source:(x or y)'


def test_each_condition_is_a_chip_whose_cross_removes_only_it(client, events):
    page = client.get("/events", query_string={"q": 'size>1GiB -source:(bucket-a or bucket-b)', "event_type": "s3",
                                               "limit": 10}).get_data(as_text=True)
    chips = re.findall(r'<li class="chip[^"]*" data-chip="([^"]*)"><code>[^<]*</code>\s*<a href="([^"]*)"', page)
    labels = [html.unescape(label) for label, _ in chips]
    assert labels == ["event_type:s3", "size>1GiB", "-source:(bucket-a or bucket-b)"]
    removed = {html.unescape(label): parse_qs(urlsplit(html.unescape(href)).query) for label, href in chips}
    assert removed["event_type:s3"]["q"] == ['size>1GiB -source:(bucket-a or bucket-b)']
    assert "event_type" not in removed["event_type:s3"]
    assert removed["size>1GiB"]["q"] == ["-source:(bucket-a or bucket-b)"]
    assert removed["size>1GiB"]["event_type"] == ["s3"]
    assert removed["-source:(bucket-a or bucket-b)"]["q"] == ["size>1GiB"]


def test_a_structured_value_ending_in_a_star_keeps_its_meaning_and_says_how_to_ask_begins_with(client, events):
    exact = body(client.get("/api/events", query_string={"event_name": "ObjectRemoved:*"}))
    assert exact["items"] == [], "the structured field is matched exactly, as before"
    page = client.get("/events", query_string={"event_name": "ObjectRemoved:*"}).get_data(as_text=True)
    hint = re.search(r'data-literal-star="event_name">.*?href="([^"]*)"', page, re.S)
    assert hint, "an empty answer is never a silent one"
    asked = parse_qs(urlsplit(html.unescape(hint.group(1))).query)
    assert asked["q"] == ["event_name:ObjectRemoved:*"] and "event_name" not in asked
    assert sorted(walk_ids(client, q=asked["q"][0], limit=100)) == sorted(
        e["event_id"] for e in events if e["event_name"].startswith("ObjectRemoved:"))


def test_an_events_page_offers_only_this_and_all_but_this_for_its_strings_and_numbers(client, table):
    put_items(table, [{"event_id": "one", "timestamp": DENSE, "source": "a b", "size": Decimal(1024),
                       "odd name": "x", "flag": True}])
    page = client.get("/events/one").get_data(as_text=True)
    offered = dict(re.findall(r'<li data-refine="([^"]*)">.*?href="([^"]*)" data-only-this', page, re.S))
    assert sorted(offered) == ["size", "source", "timestamp"], "no link a query box cannot read, none for a bool"
    asked = {name: parse_qs(urlsplit(html.unescape(href)).query) for name, href in offered.items()}
    assert asked["source"]["q"] == ['source:"a b"'] and asked["size"]["q"] == ["size:1024"]
    assert asked["source"]["from"] == ["2024-01-01T11:55:30Z"] and asked["source"]["to"] == ["2024-01-01T12:05:30Z"]


def test_a_rows_value_opens_only_this_and_all_but_this_for_the_listing_it_came_from(client, table):
    put_items(table, [{"event_id": "one", "timestamp": DENSE, "source": "a b", "event_type": "s3"}])
    listing = "/events?from=2024-01-01T12:00:00Z&to=2024-01-01T12:01:00Z&q=event_type:s3&cursor=abc&limit=50"
    page = client.get(listing.replace("&cursor=abc", "")).get_data(as_text=True)
    value_link = re.search(r'data-field="source"[^>]*><a class="cell-value" tabindex="-1" href="([^"]*)"', page)
    assert value_link and html.unescape(value_link.group(1)) == "/events/one?refine=source"

    def offered(**headers_or_back) -> dict[str, list[str]]:
        back = headers_or_back.pop("back", None)
        answer = client.get("/events/one", query_string={"refine": "source", **({"back": back} if back else {})},
                            headers=headers_or_back).get_data(as_text=True)
        assert re.search(r'<details class="refine-values" id="refine" data-refine-values open>', answer)
        assert '<li data-refine="source" class="refine-asked" aria-current="true">' in answer
        href = re.search(r'<li data-refine="source"[^>]*>.*?href="([^"]*)" data-all-but-this', answer, re.S)
        assert href
        return parse_qs(urlsplit(html.unescape(href.group(1))).query)

    by_referer = offered(Referer=f"http://localhost{listing}")
    by_back = offered(back=listing)
    for asked in (by_referer, by_back):  # that listing, from its first page, with one more term
        assert asked["q"] == ['event_type:s3 -source:"a b"'] and asked["limit"] == ["50"] and "cursor" not in asked
        assert asked["from"] == ["2024-01-01T12:00:00Z"] and asked["to"] == ["2024-01-01T12:01:00Z"]
    landing = offered(Referer="http://localhost/?limit=10")  # the landing page: the window it shows
    assert landing["from"] == ["now-15m"] and landing["to"] == ["now"] and landing["order"] == ["desc"]
    assert landing["limit"] == ["10"]
    elsewhere = offered(Referer="http://elsewhere.example/events?q=x")  # another site: the minutes around it
    assert elsewhere["q"] == ['-source:"a b"'] and elsewhere["from"] == ["2024-01-01T11:55:30Z"]
