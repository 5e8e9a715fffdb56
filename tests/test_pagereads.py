"""questions/plans.choose_page and questions/pagereads: a range page is planned for the page, at the backend's pace."""
from __future__ import annotations

import pytest

from dashboard.questions import plans

DAY = 86400
BUDGET = {"budget_seconds": 3.0, "budget_rcu": 2000.0, "deadline_seconds": 4.0}


def page_plan(seconds: int, expected: float, items: int, query_seconds: float, scan_call_seconds: float,
              limit: int = 25) -> plans.Choice:
    return plans.choose_page(seconds, limit, expected, items, None, True, None, query_seconds, scan_call_seconds,
                             **BUDGET)


@pytest.mark.parametrize("items", [10_000, 100_000])
def test_a_dense_day_on_a_fast_backend_fills_its_first_page_with_a_few_hundred_queries_not_86400(items):
    choice = page_plan(DAY, items, items, query_seconds=0.002, scan_call_seconds=0.05)
    assert choice.plan == plans.FANOUT
    assert choice.fanout.calls == pytest.approx(26 * DAY / items, rel=0.05) and choice.fanout.calls < 300
    assert choice.fanout.seconds is not None and choice.fanout.seconds < 1


@pytest.mark.parametrize("seconds", [3600, DAY, 7 * DAY])
def test_a_sparse_table_scans_rather_than_asking_thousands_of_empty_seconds(seconds):
    # 5,000 events over 30 days: about 170 a day.
    expected = 5000 * seconds / (30 * DAY)
    choice = page_plan(seconds, expected, 5000, query_seconds=0.002, scan_call_seconds=0.015)
    assert choice.plan == plans.SCAN and choice.scan is not None and choice.scan.calls <= 2
    assert choice.window_seconds is not None and choice.window_seconds <= seconds


def test_a_scan_that_would_not_fit_the_deadline_is_not_chosen_and_the_queries_stop_at_the_budget():
    # moto at 20,000 items: every call walks the whole table (about 0.3 s).
    choice = page_plan(DAY, 20_000, 20_000, query_seconds=0.3, scan_call_seconds=0.6)
    assert choice.plan == plans.FANOUT and "Continue" in choice.reason
    assert choice.scan is not None and choice.scan.seconds is not None and choice.scan.seconds > 3


def test_a_scan_that_fits_is_chosen_where_the_queries_would_not():
    choice = page_plan(DAY, 20_000, 20_000, query_seconds=0.3, scan_call_seconds=0.2)
    assert choice.plan == plans.SCAN and "would not" in choice.reason
    # The pass asks for about two pages' worth of the day, not all of it.
    assert choice.window_seconds == pytest.approx(DAY * 2 * 26 / 20_000, rel=0.01)


def test_where_both_fit_the_cheaper_in_rcus_wins():
    short = page_plan(60, 14, 20_000, query_seconds=0.001, scan_call_seconds=0.001)
    assert short.plan == plans.FANOUT and short.fanout.rcu < short.scan.rcu  # type: ignore[union-attr]


def test_plan_asked_for_is_kept_and_a_scan_keeps_its_window():
    choice = plans.choose_page(DAY, 25, 20_000, 20_000, None, True, "scan", 0.001, 100.0, **BUDGET)
    assert choice.plan == plans.SCAN and choice.window_seconds is not None


def test_expected_events_count_the_sample_exactly_when_it_is_the_whole_table():
    seconds = ["2024-01-01T00:00:05Z", "2024-01-01T00:00:09Z", "2024-01-02T00:00:00Z"]
    assert plans.expected_events(seconds, 3, True, 999, "2024-01-01T00:00:00Z", "2024-01-01T23:59:59Z") == 2
    assert plans.expected_events(seconds, 100, False, 10_000, "2024-01-01T00:00:00Z",
                                 "2024-01-01T23:59:59Z") == 200
    assert plans.expected_events(seconds, 100, False, None, "2024-01-01T00:00:00Z", "2024-01-01T23:59:59Z") is None


def test_with_no_sampled_event_left_the_queries_are_priced_for_every_second_left():
    assert plans.fanout_page_estimate(3600, 25, 0.0, 0.01).calls == 3600
    assert plans.window_seconds(3600, 25, 0.0) == 3600


class FakeScans:
    """A table of `items` events behind Scan: the sample's first page, and one segment of a parallel Scan counted."""

    def __init__(self, items: int):
        self.items = items
        self.asked: list[dict] = []

    def scan(self, **request):
        self.asked.append(request)
        if request.get("Select") == "COUNT":
            counted = self.items // request["TotalSegments"]
            return {"Count": counted, "ScannedCount": counted}
        shown = min(self.items, request["Limit"])
        page = [{"timestamp": {"S": "2024-01-01T00:00:00Z"}} for _ in range(shown)]
        return {"Items": page, **({"LastEvaluatedKey": {"event_id": {"S": "x"}}} if self.items > shown else {})}


def test_a_table_whose_describe_table_says_0_items_is_sized_from_one_counted_segment():
    from dashboard.store.pace import COUNT_SEGMENTS, Pace, Sampler

    backend = FakeScans(100_000)
    sampler = Sampler(backend, "events", Pace())  # type: ignore[arg-type]
    assert sampler.estimated_count() == 100_000 // COUNT_SEGMENTS * COUNT_SEGMENTS
    assert sampler.estimated_count() == 100_000 // COUNT_SEGMENTS * COUNT_SEGMENTS  # reused, not asked again
    assert [request.get("Select") for request in backend.asked] == [None, "COUNT"]
    small = FakeScans(60)  # the sample is the whole table: counted from it, no other call
    assert Sampler(small, "events", Pace()).estimated_count() == 60  # type: ignore[arg-type]
    assert len(small.asked) == 1
    sparse = FakeScans(200)  # a segment of 256 holds none of 200 items: the sample's 100 are a floor
    assert Sampler(sparse, "events", Pace()).estimated_count() == 100  # type: ignore[arg-type]
