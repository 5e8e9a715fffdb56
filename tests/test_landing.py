"""The landing page (issue 23): / is the recent past, newest first, with the timeline, the freshness line, the live
tail and auto-refresh; an empty window says so above the table in storage order; bare /events is unchanged."""
from datetime import UTC, datetime, timedelta

from dashboard.formats.times import format_stored
from tests.conftest import put_items, read_calls
from tests.pages import row_ids


def ago(seconds: float) -> str:
    return format_stored(datetime.now(UTC) - timedelta(seconds=seconds))


def test_the_landing_page_shows_the_recent_past_newest_first(client, table):
    put_items(table, [{"event_id": f"r-{n}", "timestamp": ago(60 + n * 30)} for n in range(5)]
              + [{"event_id": "yesterday", "timestamp": ago(86400)}])
    page = client.get("/").get_data(as_text=True)
    assert row_ids(page) == [f"r-{n}" for n in range(5)]
    assert "data-timeline" in page and 'hx-get="/freshness"' in page
    assert "data-live-tail" in page and "data-auto-refresh" in page
    assert "<code>now-15m</code>" in page and "data-storage-order" not in page
    assert '<a href="/" aria-current="page">Events</a>' in page


def test_an_empty_landing_window_says_so_and_shows_the_table_in_storage_order_below(client, table):
    put_items(table, [{"event_id": f"old-{n}", "timestamp": "2024-01-01T00:00:00Z"} for n in range(30)])
    calls = read_calls(table)
    client.get("/events?from=now-15m&to=now&order=desc")  # the window alone (and the cached sample, item count)
    window_calls = list(calls)
    calls.clear()
    page = client.get("/").get_data(as_text=True)
    assert "data-empty" in page and "newest first" in page
    storage = page.split("data-storage-order", 1)[1]
    assert len(row_ids(storage)) == 25 and 'rel="next"' in storage and "/events?cursor=" in storage
    # The window's read, then one Scan for the table below it.
    assert calls == [call for call in window_calls if call != "DescribeTable"][-len(calls) + 1:] + ["Scan"]


def test_bare_events_keeps_todays_meaning_the_whole_table_in_storage_order(client, table):
    put_items(table, [{"event_id": "recent", "timestamp": ago(30)},
                      {"event_id": "old", "timestamp": "2024-01-01T00:00:00Z"}])
    calls = read_calls(table)
    page = client.get("/events").get_data(as_text=True)
    assert sorted(row_ids(page)) == ["old", "recent"] and calls.count("Scan") == 1 and "Query" not in calls
    assert "data-auto-refresh" not in page and "data-window" not in page


def test_the_landing_page_keeps_its_page_size_filters_and_refresh(client, table):
    put_items(table, [{"event_id": f"r-{n}", "timestamp": ago(60 + n), "source": "a" if n % 2 else "b"}
                      for n in range(6)])
    page = client.get("/?limit=10&source=a&refresh=1m").get_data(as_text=True)
    assert row_ids(page) == ["r-1", "r-3", "r-5"]
    assert 'data-auto-refresh="60000"' in page and 'data-refresh-choice="1 min" aria-current="true"' in page
    assert 'href="/?limit=10&amp;source=a"' in page  # "off" keeps the rest of the page


def test_a_landing_window_whose_budget_ran_out_before_any_event_still_shows_rows(table):
    from dashboard.app import create_app
    from tests.conftest import settings_for

    put_items(table, [{"event_id": f"old-{n}", "timestamp": "2024-01-01T00:00:00Z"} for n in range(3)])
    tight = create_app(settings_for(table.name, READ_BUDGET_RCU=1, TIMESTAMPS_CANONICAL="yes"), table=table)
    page = tight.test_client().get("/?limit=10&plan=fanout").get_data(as_text=True)
    assert "data-budget-spent" in page and "data-storage-order" in page
    assert sorted(row_ids(page.split("data-storage-order", 1)[1])) == ["old-0", "old-1", "old-2"]
    assert page.count('rel="next"') == 1  # the window's Continue; the table below is not a second "next"
