"""bench/dayranges.py's tables and write-up (the run itself needs dynalite: `make dayranges`)."""
from __future__ import annotations

from collections import Counter

from bench import dayranges


def test_the_sparse_table_spreads_5000_events_over_30_days():
    events = dayranges.sparse_events(5_000)
    days = Counter(event["timestamp"][:10] for event in events)
    assert len(events) == 5_000 and len({event["event_id"] for event in events}) == 5_000
    assert len(days) == 30 and min(days) == "2024-01-01" and max(days) == "2024-01-30"
    assert max(days.values()) - min(days.values()) <= 1


def page(rows: int, p50: float) -> dict:
    return {"label": "1 day", "plan": "range-scan", "calls_first": 12,
            "operations_first": {"Scan": 11, "DescribeTable": 1}, "calls_after": 4, "rcu": "270 RCU",
            "items_read": "10,000", "rows": rows, "budget_spent": rows < 25,
            "p50_ms": p50, "p95_ms": p50 * 1.5, "full": rows == 25, "within_target": p50 <= dayranges.TARGET_MS}


def test_the_write_up_says_which_pages_miss_a_target():
    result = {"when": "2026-12-06T23:00:00+00:00", "backend": {"name": "dynalite", "version": "4.0.0"},
              "load_average": [[1, 1, 1], [1, 1, 1]], "mode": "full", "rounds": 15,
              "tables": [{"label": "10,000 events", "pages": [page(25, 470.0), page(25, 1200.0), page(5, 90.0)]}]}
    rows = [line for line in dayranges.markdown(result) if line.startswith("| 10,000 events")]
    assert [row.endswith("| PASS |") for row in rows] == [True, False, False]
    assert "12 (1 DescribeTable, 11 Scan) / 4" in rows[0] and "5 (budget spent)" in rows[2]
