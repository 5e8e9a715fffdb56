"""The benchmark's quick mode, so `make bench` never rots: every page measured, calls counted, the status page rendered.

It runs `python -m bench.run --quick` as `make bench-quick` does: on dynalite when bench/node_modules
holds it, else on the embedded moto server. Timings are checked by the benchmark itself, never here.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.wire import WireCounter, operation

ROOT = Path(__file__).resolve().parent.parent
PAGES = ("list_25", "list_100", "page_3", "page_10", "detail", "search_25", "search_100", "status")
RANGES = tuple(f"range_{span}_{plan}" for span in ("1m", "15m", "1h") for plan in ("fanout", "scan"))
ONE_CALL = {"list_25": "Scan", "list_100": "Scan", "page_3": "Scan", "page_10": "Scan", "detail": "GetItem",
            "search_25": "Query", "search_100": "Query"}


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("bench")
    done = subprocess.run([sys.executable, "-m", "bench.run", "--quick", "--results", str(out)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "## Targets" in (out / "quick.md").read_text()
    return json.loads((out / "quick.json").read_text()), done.stdout


def test_quick_mode_measures_every_page_at_both_table_sizes(quick: tuple[dict, str]) -> None:
    result, _ = quick
    assert result["mode"] == "quick"
    assert [size["items"] for size in result["sizes"]] == [300, 600]
    for size in result["sizes"]:
        assert set(PAGES) | set(RANGES) == set(size["pages"])
        for name, page in size["pages"].items():
            assert page["problems"] == [], (size["items"], name)
            rounds = 1 if name in RANGES else 3  # range pages are timed in fewer rounds (quick: one)
            assert page["raw"]["n"] == page["page"]["n"] == page["rounds"] == rounds, name
            assert page["page"]["p50_ms"] > 0 and page["raw"]["p50_ms"] > 0
            assert page["added_p50_ms"] == pytest.approx(page["page"]["p50_ms"] - page["raw"]["p50_ms"], abs=0.02)
            assert page["page_cpu"]["n"] == page["raw_cpu"]["n"] == rounds and page["page_cpu"]["p50_ms"] > 0


def test_list_search_and_detail_pages_make_exactly_one_call_at_the_wire(quick: tuple[dict, str]) -> None:
    result, _ = quick
    for size in result["sizes"]:
        for name, operation_name in ONE_CALL.items():
            calls = size["pages"][name]["calls"]
            assert calls["calls"] == 1 and calls["operations"] == {operation_name: 1}, (size["items"], name, calls)
        assert "DescribeTable" in size["pages"]["status"]["calls"]["operations"]


def test_range_pages_state_their_plan_calls_and_rcus_as_counted_at_the_wire(quick: tuple[dict, str]) -> None:
    result, stdout = quick
    for size in result["sizes"]:
        for name in RANGES:
            page, plan = size["pages"][name], name.rsplit("_", 1)[1]
            stated, operations = page["stated"], page["calls"]["operations"]
            assert stated["plan"] == {"fanout": "fanout", "scan": "range-scan"}[plan], (size["items"], name)
            # Fan-out: a Query per second read (a page fills within the busy second at the latest); scan: 4 segments.
            wire = operations.get({"fanout": "Query", "scan": "Scan"}[plan], 0)
            assert stated["calls"] == str(wire) and (wire >= 4 if plan == "scan" else 1 <= wire <= 3600), name
            # dynalite bills an empty Query nothing (DynamoDB: 0.5 RCU), so a page of empty seconds may say 0.
            assert stated["consumed-rcu"].endswith(" RCU") and float(stated["consumed-rcu"].split()[0]) >= 0, name
    verdicts = {verdict["target"] for verdict in result["targets"]}
    assert "range 1 min, plan=fanout: page p50 ≤ 150 ms (300 items)" in verdicts
    assert "range 15 min, plan=scan: first page p50 ≤ 1000 ms (600 items)" in verdicts
    assert "| range 1 h, plan=fanout | 600 |" in stdout


def test_status_page_renders_with_its_pitr_panel(quick: tuple[dict, str]) -> None:
    result, _ = quick
    status = result["status_page"]
    assert status["http_status"] == 200 and status["rest_rendered"]
    if result["backend"]["name"] == "dynalite":  # dynalite has no PITR API: the panel says so
        assert "unsupported" in status["pitr_panel"]


def test_quick_mode_reports_load_memory_and_verdicts(quick: tuple[dict, str]) -> None:
    result, stdout = quick
    for size in result["sizes"]:
        assert size["rps"]["requests"] > 0 and size["rps"]["errors"] == 0
    for items in ("300", "600"):  # each table is served by its own gunicorn with two workers
        memory = result["memory_mb"][items]
        assert {"boot", "warm", "end"} <= set(memory)
        assert len(memory["warm"]) == 2 and all(mb > 0 for mb in memory["end"].values())
    assert result["targets"] and all(isinstance(verdict["pass"], bool) for verdict in result["targets"])
    assert "| page | raw p50 ms | page p50 / p95 ms | page − raw ms | calls | CPU: page − raw ms | HTML |" in stdout
    assert "targets pass." in stdout


def test_wire_counter_names_operations_and_counts_the_difference() -> None:
    assert operation("DynamoDB_20120810.Scan") == "Scan"
    assert operation("AnyScaleFrontendService.DescribeScalableTargets") == "DescribeScalableTargets"
    counter = WireCounter()
    counter.add("DescribeTable")
    before = counter.snapshot()
    counter.add("Scan")
    assert counter.since(before) == {"Scan": 1}


def test_pagecpu_measures_each_page_apart_from_dynamodb() -> None:
    """`python -m bench.pagecpu`, the dashboard's own CPU per page with DynamoDB's answers replayed, still runs."""
    done = subprocess.run([sys.executable, "-m", "bench.pagecpu", "--requests", "3"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    measured = dict(line.split()[:2] for line in done.stdout.splitlines())
    assert set(measured) == {"list25", "list100", "search25", "search100", "detail"}
    assert all(float(ms) > 0 for ms in measured.values())
