"""bench/scale.py's pure parts, in milliseconds: never the scale run itself (`make scale` is the benchmark's own)."""
from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench import loadreport, scaledata, scalereport
from bench.scaleraw import day_buckets
from dashboard.store.time_index import shard

ROOT = Path(__file__).resolve().parent.parent


def test_the_events_are_shared_over_thirty_days_to_the_last_one() -> None:
    assert sum(scaledata.per_day(1_000_000)) == 1_000_000
    assert sum(scaledata.per_day(20_000)) == 20_000
    assert len(scaledata.per_day(7)) == scaledata.DAYS


def test_a_day_of_events_ends_before_the_load_and_is_keyed_for_the_index() -> None:
    end = datetime(2024, 3, 10, 15, 20, 5, tzinfo=UTC)
    events = list(scaledata.day_events(end, scaledata.DAYS - 1, 40))
    assert len(events) == 40
    for event in events:
        assert "2024-03-09T15:20:05Z" <= event["timestamp"] <= "2024-03-10T15:20:04Z"
        assert event["time_bucket"] == f"{event['timestamp'][:10]}#{shard(event['event_id'], 4)}"


def test_a_seven_day_window_ending_mid_day_touches_eight_daily_buckets() -> None:
    found = day_buckets("2024-03-03T15:20:06Z", "2024-03-10T15:20:05Z")
    assert [day for day, _, _ in found] == [f"2024-03-{n:02}" for n in range(3, 11)]
    assert found[0][1:] == ("2024-03-03T15:20:06Z", "2024-03-03T23:59:59Z")
    assert found[-1][1:] == ("2024-03-10T00:00:00Z", "2024-03-10T15:20:05Z")


def test_make_bench_keeps_the_load_and_scale_sections() -> None:
    text = "# Results\n\nfigures\n\n" + loadreport.HEADING + "\n\nload\n\n" + scalereport.HEADING + "\n\nscale\n"
    assert loadreport.section(text) == loadreport.HEADING + "\n\nload\n"
    assert loadreport.section(text, scalereport.HEADING) == scalereport.HEADING + "\n\nscale\n"


def test_the_script_explains_itself() -> None:
    done = subprocess.run([sys.executable, "-m", "bench.scale", "--help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and "--quick" in done.stdout and "--load-only" in done.stdout


def test_memory_is_flat_once_the_last_half_of_the_passes_peaks_no_higher_than_the_first() -> None:
    def run(rss: list[float], heap: list[float]) -> dict[str, bool]:
        config = {"cases": {}, "rss_mb": {"start": {1: 70.0}, "before": {1: 75.0}, "measured": {1: 80.0},
                                          "cycles": [{1: mb} for mb in rss], "after": {1: rss[-1]}},
                  "python_heap_mb": {"before": {1: 13.0}, "cycles": [{1: mb} for mb in heap]}}
        found = scalereport._memory_targets({"configs": {"no_index": config}})
        return {target["target"].split(":")[0].split(" (")[0]: target["passed"] for target in found
                if "flat" in target["target"] or "heap" in target["target"]}

    # A plateau reached in the first half, moving below it later: flat. The Python heap rising a MB a pass: not.
    assert run([84.0, 92.4, 92.4, 90.0, 91.0, 92.4], [13.0, 13.1, 13.0, 13.2, 13.1, 13.2]) == {
        "worker memory without TIME_INDEX": True, "Python heap without TIME_INDEX": True}
    assert run([84.0, 85.0, 86.0, 87.0, 88.0, 89.0], [13.0, 14.0, 15.0, 16.0, 17.0, 18.0]) == {
        "worker memory without TIME_INDEX": False, "Python heap without TIME_INDEX": False}
    # --traced also adds its line only where there are enough passes to halve.
    assert "Python heap without TIME_INDEX" not in run([84.0] * 4, [13.0, 13.0])


def test_the_traced_run_is_one_configuration() -> None:
    done = subprocess.run([sys.executable, "-m", "bench.scale", "--traced"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and "--config" in done.stderr
