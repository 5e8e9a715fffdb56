"""A listing's breakdown (/api/breakdown, /breakdown): top values and lag percentiles equal a brute-force count of a
generated table under both range plans, for one second and for the whole table, with conditions and filters;
what a budget cut short is said exactly, and counted at the wire."""
from __future__ import annotations

import html
import re
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import simplejson
from hypothesis import HealthCheck, given, settings, strategies as st

from dashboard.app import create_app
from dashboard.formats import times
from dashboard.questions import query as query_box, tallies
from dashboard.store import ReadBudget, deadline, windows
from dashboard.store.conditions import match_all
from tests.conftest import put_items, read_calls, settings_for
from tests.test_query import BUSY, DENSE, TERMS, make_events, stamp

FIELDS = ("event_type", "source", "event_name", "content_type", "size")
WINDOW = {"from": stamp(BUSY), "to": stamp(BUSY + timedelta(seconds=119))}


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


def body(response) -> dict[str, Any]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return simplejson.loads(response.get_data(as_text=True), use_decimal=True)


def chosen(events, q: str = "", start: str | None = None, end: str | None = None, **structured: str) -> list[dict]:
    conditions = query_box.parse(q)
    return [event for event in events
            if (start is None or start <= event["timestamp"] <= end) and match_all(conditions, event)
            and all(event.get(name) == value for name, value in structured.items())]


def brute_values(events: list[dict], name: str) -> dict[Any, int]:
    """Counted the obvious way; sizes by comparing with each bucket's bounds in turn."""
    counts: Counter[Any] = Counter()
    for event in events:
        value = event.get(name)
        if name == "size" and value is not None:
            if not isinstance(value, Decimal):
                value = "not a number"
            else:
                bounds = [lowest for lowest, _, _ in tallies.SIZE_BUCKETS]
                labels = [label for _, label, _ in tallies.SIZE_BUCKETS]
                value = next(labels[n] for n in reversed(range(len(bounds))) if value >= bounds[n])
        counts[value] += 1
    return dict(counts)


def brute_lag(events: list[dict]) -> dict[str, Any]:
    lags: list[float] = sorted(lag for e in events if "processed_at" in e
                               and (lag := times.lag_seconds(e["timestamp"], e["processed_at"])) is not None)

    def rank(share: float) -> float | None:
        # The smallest lag with at least `share` of all lags at or below it.
        return next((lag for lag in lags if sum(other <= lag for other in lags) >= share * len(lags)), None)
    return {"p50": rank(0.5), "p95": rank(0.95), "p99": rank(0.99), "max": lags[-1] if lags else None,
            "counted": len(lags), "without_processed_at": len(events) - len(lags)}


def check(answer: dict[str, Any], wanted: list[dict]) -> None:
    assert answer["complete"] and answer["counted"] == len(wanted)
    for name in FIELDS:
        got = answer["fields"][name]
        expected = brute_values(wanted, name)
        assert {item["value"]: item["count"] for item in got["values"]} == dict(
            sorted(expected.items(), key=lambda pair: (-pair[1], str(pair[0])))[:10])
        assert got["distinct"] == len(expected) and got["other"] == sum(sorted(expected.values())[:-10] or [0])
    lag = {name: answer["lag"][name] for name in ("p50", "p95", "p99", "max", "counted", "without_processed_at")}
    assert lag == brute_lag(wanted)


SLOW = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@SLOW
@given(q=st.lists(st.sampled_from(TERMS), max_size=2).map(" ".join), plan=st.sampled_from(["fanout", "scan"]),
       source=st.sampled_from([None, "bucket-b"]))
def test_a_ranges_top_values_and_lag_equal_a_brute_force_count_under_both_plans(client, events, q, plan, source):
    structured = {"source": source} if source else {}
    answer = body(client.get("/api/breakdown", query_string={**WINDOW, "q": q, "plan": plan, **structured}))
    assert answer["plan"] == plan
    check(answer, chosen(events, q, WINDOW["from"], WINDOW["to"], **structured))


@SLOW
@given(q=st.lists(st.sampled_from(TERMS), max_size=2).map(" ".join))
def test_the_whole_tables_and_one_seconds_breakdowns_equal_a_brute_force_count(client, events, q):
    check(body(client.get("/api/breakdown", query_string={"q": q})), chosen(events, q))
    check(body(client.get("/api/breakdown", query_string={"q": q, "timestamp": DENSE})),
          chosen(events, q, DENSE, DENSE))


def test_any_attribute_can_be_broken_down_and_the_answer_has_the_issues_shape(client, events):
    answer = body(client.get("/api/breakdown", query_string={**WINDOW, "fields": "source,key"}))
    assert set(answer["fields"]) == {"source", "key"}
    assert set(answer["fields"]["key"]) == {"values", "other", "distinct"}
    assert {"counted", "complete", "fields", "lag", "calls", "consumed_capacity"} <= set(answer)


def test_a_budget_cut_short_says_exactly_what_was_counted_and_its_calls_are_counted_at_the_wire(table, events):
    app = create_app(settings_for(table.name, READ_BUDGET_RCU="20", READ_BUDGET_SECONDS=300), table=table)
    client = app.test_client()
    client.get("/api/events", query_string={**WINDOW, "plan": "fanout", "limit": 1})  # the plan's sample, once
    seen = read_calls(table)
    answer = body(client.get("/api/breakdown", query_string={**WINDOW, "plan": "fanout"}))
    assert not answer["complete"] and answer["calls"] == len(seen) == seen.count("Query")
    covered = answer["seconds_counted"]
    assert 0 < covered < 120
    end = stamp(BUSY + timedelta(seconds=covered - 1))
    wanted = chosen(events, "", WINDOW["from"], end)
    assert answer["counted"] == len(wanted)
    assert answer["coverage"] == (f"over the first {len(wanted):,} of about {answer['estimated_total']:,} events of "
                                  f"the window (the earliest {covered} seconds); the read budget ran out")
    # Asked again, the seconds counted come from the cache and the budget reads on past them.
    again = body(client.get("/api/breakdown", query_string={**WINDOW, "plan": "fanout"}))
    assert again["from_cache"] == covered and again["seconds_counted"] > covered
    page = client.get("/breakdown", query_string={**WINDOW, "plan": "fanout"}).get_data(as_text=True)
    assert "Over the first " in page


@pytest.mark.parametrize("plan", ["fanout", "scan"])
def test_a_week_long_breakdown_never_holds_every_second_of_it(table, events, plan):
    """A week is 604,800 seconds: a worker once built them all as a list and a dict on each request (about 100 MB
    at its peak). Now the fan-out walks them as it reads, and the Scan keeps only the seconds that hold events."""
    import tracemalloc

    app = create_app(settings_for(table.name, READ_BUDGET_RCU="20", READ_BUDGET_SECONDS=300), table=table)
    client = app.test_client()
    week = {"from": stamp(BUSY - timedelta(days=6)), "to": stamp(BUSY + timedelta(seconds=86_399)), "plan": plan}
    client.get("/api/events", query_string={**week, "limit": 1})  # the plan's sample, once
    tracemalloc.start()
    try:
        answer = body(client.get("/api/breakdown", query_string=week))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert answer["seconds"] == 7 * 86_400
    if plan == "fanout":
        assert not answer["complete"] and 0 < answer["seconds_counted"] < 7 * 86_400
    else:
        assert answer["counted"] == len(chosen(events, "", week["from"], week["to"]))
    assert peak < 20_000_000, f"{peak / 1e6:.1f} MB at the peak"


def test_a_scan_cut_short_says_how_much_of_the_table_it_read(table, events, monkeypatch):
    app = create_app(settings_for(table.name, READ_BUDGET_RCU="1", READ_BUDGET_SECONDS=300), table=table)
    monkeypatch.setattr(table.windows, "scan_page", 20)
    answer = body(app.test_client().get("/api/breakdown"))
    assert not answer["complete"] and answer["counted"] < len(events)
    assert f"the Scan read {answer['items_read']:,} items" in answer["coverage"]


def test_settled_seconds_are_counted_once_and_then_come_from_the_cache(client, table, events):
    first = body(client.get("/api/breakdown", query_string={**WINDOW, "plan": "fanout"}))
    seen = read_calls(table)
    again = body(client.get("/api/breakdown", query_string={**WINDOW, "plan": "fanout"}))
    assert first["calls"] == 120 and again["calls"] == 0 and seen == [] and again["from_cache"] == 120
    assert again["fields"] == first["fields"] and again["lag"] == first["lag"]


def test_compare_with_the_window_before_names_what_went_quiet(client, table, events):
    before = BUSY - timedelta(seconds=60)
    put_items(table, [{"event_id": "quiet-1", "timestamp": stamp(before), "source": "bucket-gone", "event_type": "s3"}])
    window = {"from": stamp(BUSY), "to": stamp(BUSY + timedelta(seconds=59))}
    answer = body(client.get("/api/breakdown", query_string={**window, "compare": "previous", "fields": "source"}))
    previous = answer["previous"]
    assert previous["from"] == stamp(BUSY - timedelta(seconds=60))
    assert previous["to"] == stamp(BUSY - timedelta(seconds=1))
    assert answer["went_quiet"]["source"] == ["bucket-gone"]
    assert previous["counted"] == len(chosen(events + [{"event_id": "quiet-1", "timestamp": stamp(before)}], "",
                                             previous["from"], previous["to"]))
    page = client.get("/breakdown", query_string={**window, "compare": "previous", "fields": "source"}).get_data(
        as_text=True)
    assert 'data-went-quiet="source"' in page and "bucket-gone" in page


@pytest.mark.parametrize(("query", "message"), [
    ({"compare": "previous"}, "compare=previous needs a time range"),
    ({**WINDOW, "compare": "next"}, "compare must be previous"),
    ({**WINDOW, "fields": "a b"}, "fields must be"),
    ({**WINDOW, "q": "size>1GB"}, "known unit"),
])
def test_a_breakdown_it_cannot_read_is_a_400(client, query, message):
    response = client.get("/api/breakdown", query_string=query)
    assert response.status_code == 400 and message in response.get_json()["message"]


def test_only_this_and_all_but_this_open_the_listing_with_that_condition(client, events):
    page = client.get("/breakdown", query_string={**WINDOW, "fields": "event_name,size"}).get_data(as_text=True)
    only = re.search(r'<li data-value="ObjectRemoved:Delete".*?href="([^"]*)" data-only-this.*?href="([^"]*)" '
                     r'data-all-but-this', page, re.S)
    assert only
    for href, negate in ((only.group(1), False), (only.group(2), True)):
        args = parse_qs(urlsplit(html.unescape(href)).query)
        listing = body(client.get("/api/events", query_string={**{k: v[0] for k, v in args.items()}, "limit": 100}))
        names = {item["event_name"] for item in listing["items"]}
        assert names and (names == {"ObjectRemoved:Delete"}) != negate
        assert ("ObjectRemoved:Delete" in names) != negate
    bucket = re.search(r'<li data-value="≥ 1 GiB".*?href="([^"]*)" data-only-this', page, re.S)
    assert bucket and parse_qs(urlsplit(html.unescape(bucket.group(1))).query)["q"] == ["size>=1GiB"]


def listed(client, href: str) -> int:
    args = {name: values[0] for name, values in parse_qs(urlsplit(html.unescape(href)).query).items()}
    total, cursor = 0, None
    while True:
        asked = {**args, "limit": 100, **({"cursor": cursor} if cursor else {})}
        page = body(client.get("/api/events", query_string=asked))
        total, cursor = total + len(page["items"]), page["next_cursor"]
        if cursor is None:
            return total


def test_each_size_buckets_only_this_and_all_but_this_split_the_window_exactly(client, events):
    answer = body(client.get("/api/breakdown", query_string={**WINDOW, "fields": "size"}))
    page = client.get("/breakdown", query_string={**WINDOW, "fields": "size"}).get_data(as_text=True)
    buckets = [value for value in answer["fields"]["size"]["values"] if value["value"] not in (None, "not a number")]
    assert len(buckets) >= 3
    for bucket in buckets:
        found = re.search(rf'<li data-value="{re.escape(html.escape(bucket["value"]))}".*?href="([^"]*)" '
                          r'data-only-this.*?href="([^"]*)" data-all-but-this', page, re.S)
        assert found, bucket
        assert listed(client, found.group(1)) == bucket["count"]
        assert listed(client, found.group(2)) == answer["counted"] - bucket["count"]


def test_the_list_page_loads_the_breakdown_apart_and_the_whole_table_waits_to_be_asked(client, events):
    ranged = client.get("/events", query_string=WINDOW).get_data(as_text=True)
    assert re.search(r'class="breakdown breakdown-pending"[^>]*hx-get="/breakdown\?', ranged)
    plain = client.get("/events").get_data(as_text=True)
    assert 'class="breakdown breakdown-pending"' in plain
    assert 'hx-trigger="load"' not in plain.split("breakdown-pending")[1][:300]


def test_a_breakdown_keeps_within_the_requests_deadline_and_says_what_it_counted(table, events):
    app = create_app(settings_for(table.name, DASHBOARD_DEADLINE_SECONDS="1", READ_BUDGET_SECONDS=300), table=table)
    with deadline.started(1.0):
        bounded = windows.within_deadline(ReadBudget(300, 2000))
    assert bounded is not None and bounded.seconds <= 0.6
    answer = body(app.test_client().get("/api/breakdown", query_string={**WINDOW, "plan": "fanout"}))
    covered_end = stamp(BUSY + timedelta(seconds=answer["seconds_counted"] - 1))
    assert answer["counted"] == len(chosen(events, "", WINDOW["from"], covered_end))


def test_the_lag_per_bar_equals_a_brute_force_count_and_stands_beside_the_count_timeline(client, events):
    hour = {"from": stamp(BUSY - timedelta(minutes=30)), "to": stamp(BUSY + timedelta(minutes=29, seconds=59))}
    answer = body(client.get("/api/breakdown", query_string=hour))
    bars = answer["lag"]["bars"]
    assert answer["lag"]["bucket"] == "minute" and len(bars) == 60
    for bar in bars:
        wanted = brute_lag(chosen(events, "", bar["from"], bar["to"]))
        assert (bar["p50"], bar["max"]) == (wanted["p50"], wanted["max"]), bar
    assert any(bar["max"] is not None for bar in bars) and any(bar["max"] is None for bar in bars)
    # On the list page a slot beside the timeline, named by the chart the breakdown sends (static/app.js puts it
    # there); on the breakdown's own page the chart is inside it.
    page = client.get("/events", query_string=hour).get_data(as_text=True)
    charts = re.search(r'<div class="window-charts">(.*?)</div>\s*(?=<aside)', page, re.S)
    assert charts and 'data-timeline' in charts.group(1)
    slot = re.search(r'<figure id="([^"]+)" class="lag-figure lag-pending"', charts.group(1))
    assert slot
    fragment = client.get("/breakdown", query_string=hour, headers={"HX-Request": "true"}).get_data(as_text=True)
    sent = re.search(r'<figure id="([^"]+)-sent" class="lag-figure"[^>]*data-lag-beside="([^"]+)"', fragment)
    assert sent and sent.group(1) == sent.group(2) == slot.group(1)
    drawn = re.findall(r'data-lag-bar="([^"]+)" data-lag-bar-p50="([^"]*)" data-lag-bar-max="([^"]*)"', fragment)
    assert drawn == [(bar["from"], str(bar["p50"]), str(bar["max"])) for bar in bars if bar["max"] is not None]
    own = client.get("/breakdown", query_string=hour).get_data(as_text=True)
    assert "data-lag-chart" in own and "data-lag-beside" not in own
    there = "http://localhost/breakdown?" + "&".join(f"{name}={value}" for name, value in hour.items())
    compared_there = client.get("/breakdown", query_string={**hour, "compare": "previous"},
                                headers={"HX-Request": "true", "HX-Current-URL": there})
    assert "data-lag-chart" in compared_there.get_data(as_text=True)
    assert "data-lag-beside" not in compared_there.get_data(as_text=True)
    for text in (page, fragment, own):  # no id twice on a page, nor between the slot and what is sent into it
        ids = re.findall(r'\sid="([^"]+)"', text)
        assert len(ids) == len(set(ids)), [name for name in ids if ids.count(name) > 1]
    assert slot.group(1) not in re.findall(r'\sid="([^"]+)"', fragment), "the slot's id is the chart's once placed"
