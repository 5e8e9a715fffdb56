"""`make load`'s memory verdict (bench/memory.py): the warm-up is not judged, a levelled-off curve is flat, a leak
is not."""
from __future__ import annotations

from bench.memory import FLAT_LAST_CYCLE_MB, Reading, cycle_rises, verdict

PHASES = 4  # readings a cycle, as Load.run takes one at every phase change


def run(rise_per_cycle: list[float], warm_up: int) -> list[Reading]:
    """Readings of one worker (pid 7) whose RSS rises evenly through each cycle by the given amounts."""
    readings, rss, at = [], 60.0, 0.0
    for cycle, rise in enumerate(rise_per_cycle):
        for _ in range(PHASES):
            readings.append(Reading(at, int(at * 10), {7: round(rss, 4)}, {7: 42}, cycle))
            rss, at = rss + rise / PHASES, at + 2.5
    readings.append(Reading(at, int(at * 10), {7: round(rss, 4)}, {7: 42}, len(rise_per_cycle) - 1))
    return readings


def test_the_rise_of_every_cycle_is_read_from_the_readings_that_begin_and_end_it() -> None:
    rises = [1.0, 0.6, 0.3, 0.1, 0.05]
    assert cycle_rises(run(rises, 2), 7) == rises


def test_a_curve_that_levels_off_after_the_warm_up_is_flat_and_the_warm_up_is_not_judged() -> None:
    readings = run([1.5, 1.2, 0.8, 0.5, 0.3, 0.2, 0.1, 0.05, 0.05], 6)
    memory = verdict(readings, 6)
    worker = memory["workers"]["7"]
    assert memory["flat"] and memory["warm_up_cycles"] == 6
    assert worker["growth_mb"] == 0.2 and worker["last_cycle_mb"] == 0.05
    assert worker["rise_per_cycle_mb"][:2] == [1.5, 1.2]
    # The same run judged after a single warm-up cycle is still filling: not flat.
    assert not verdict(readings, 1)["flat"]


def test_a_steady_leak_is_not_flat_however_long_the_warm_up() -> None:
    leak = FLAT_LAST_CYCLE_MB + 0.05  # MB a cycle, every cycle
    memory = verdict(run([leak] * 9, 6), 6)
    assert not memory["flat"]
    assert memory["workers"]["7"]["last_cycle_mb"] >= FLAT_LAST_CYCLE_MB


def test_growth_over_the_measured_cycles_fails_even_when_the_last_cycle_is_quiet() -> None:
    memory = verdict(run([0.5] * 6 + [1.2, 1.0, 0.1], 6), 6)
    assert memory["workers"]["7"]["growth_mb"] == 2.3
    assert not memory["flat"]


def test_no_measured_cycle_is_never_flat() -> None:
    assert not verdict(run([0.1, 0.1], 2), 2)["flat"]
