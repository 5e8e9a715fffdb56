"""plans.py: the cost estimate that picks fan-out or scan for a range, and when fan-out is not an option."""
from hypothesis import given, strategies as st

from dashboard.questions import plans


def test_fanout_costs_a_minimum_read_and_a_call_per_second():
    assert plans.fanout_estimate(60) == plans.Estimate("fanout", 30.0, 60)
    assert plans.fanout_estimate(86400) == plans.Estimate("fanout", 43200.0, 86400)


def test_scan_costs_the_whole_table_in_4_kb_steps_and_1_mb_calls():
    # 10,000 items of about 400 B: 977 steps of 4 KB, 4 calls of 1 MB.
    assert plans.scan_estimate(10_000, 0) == plans.Estimate("scan", 488.5, 4)
    # DescribeTable's size wins when it says more than the items' minimum.
    assert plans.scan_estimate(10, 10 * 1024 * 1024) == plans.Estimate("scan", 1280.0, 10)
    assert plans.scan_estimate(0, None) == plans.Estimate("scan", 0.5, 1)


def test_a_short_range_on_a_big_table_fans_out_and_a_long_one_scans():
    assert plans.choose(60, 10_000, 0, True).plan == "fanout"
    assert plans.choose(86400, 10_000, 0, True).plan == "scan"
    assert plans.choose(3600, 100_000, 40_000_000, True).plan == "fanout"


def test_fanout_is_never_chosen_when_timestamps_are_not_canonical():
    choice = plans.choose(1, 10_000_000, 0, False)
    assert choice.plan == "scan" and "canonical" in choice.reason


def test_an_unknown_table_size_fans_out_where_allowed():
    assert plans.choose(60, None, None, True).plan == "fanout"
    assert plans.choose(60, None, None, False).plan == "scan"


def test_an_asked_plan_wins_over_the_estimate():
    assert plans.choose(86400, 10, 0, True, "fanout").plan == "fanout"
    assert plans.choose(1, 10_000_000, 0, True, "scan").plan == "scan"


# A count of 0 is taken as unknown (the test below), so the estimate decides from one item up.
@given(st.integers(1, 10**6), st.integers(1, 10**8), st.one_of(st.none(), st.integers(0, 10**11)))
def test_the_choice_is_the_cheaper_plan_in_rcus(seconds, items, size):
    choice = plans.choose(seconds, items, size, True)
    assert choice.scan is not None
    cheaper = min(choice.fanout.rcu, choice.scan.rcu)
    assert {"fanout": choice.fanout, "scan": choice.scan}[choice.plan].rcu == cheaper



def test_a_table_that_reports_no_items_yet_is_read_by_fanout_not_scanned_whole():
    # dynalite, and DynamoDB itself for up to six hours after a table fills, report ItemCount 0.
    choice = plans.choose(86400, 0, 0, True)
    assert choice.plan == "fanout" and "0 items" in choice.reason
    assert plans.choose(86400, 0, 0, False).plan == "scan"
