"""What a window's breakdown (GET /api/breakdown: top values and lag) costs on 100,000 events: calls, RCUs, p50.

`python -m bench.breakdown` (dynalite; about three minutes, most of it loading the table) times the 1-minute and
15-minute windows around the demo's busy second under both plans, each first with the tallies cache off (every
request reads its window) and then with it on (a settled second's tally is reused), and writes
bench/results/breakdown.json and the table docs/benchmarks.md shows.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from urllib.parse import quote

from . import backends, serving, timing
from .cases import RANGES

RESULTS = Path(__file__).resolve().parent / "results" / "breakdown.json"
WINDOWS = [window for window in RANGES if window[0] in ("1m", "15m")]


def measure(port: int, rounds: int) -> list[dict[str, Any]]:
    client = timing.PageClient(port)
    rows = []
    for _, label, start, end in WINDOWS:
        for plan in ("fanout", "scan"):
            path = f"/api/breakdown?from={quote(start)}&to={quote(end)}&plan={plan}"
            answers = [client.get(path) for _ in range(rounds + 1)][1:]  # one warm-up
            bad = next((answer for answer in answers if answer.status != 200), None)
            if bad is not None:
                raise RuntimeError(f"{path} answered {bad.status}: {bad.body[:300]}")
            documents = [json.loads(answer.body) for answer in answers]
            last = documents[-1]
            rows.append({"window": label, "plan": plan, "p50_ms": round(statistics.median(a.ms for a in answers), 1),
                         "calls": last["calls"], "rcu": last["consumed_capacity"], "counted": last["counted"],
                         "complete": last["complete"], "from_cache": last["from_cache"],
                         "coverage": last["coverage"]})
    client.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--report", action="store_true", help="only print the table of the last results")
    args = parser.parse_args(argv)
    if args.report:
        print(markdown(json.loads(RESULTS.read_text())))
        return 0
    if not backends.dynalite_installed():
        backends.install_dynalite()
    table = f"bench-breakdown-{args.items}"
    result: dict[str, Any] = {"items": args.items, "rounds": args.rounds, "backend": "dynalite"}
    with ExitStack() as stack:
        backend = backends.start("dynalite")
        stack.callback(backend.stop)
        env = serving.dashboard_env(backend.endpoint, table)
        serving.create_table(env, pitr=False)
        serving.seed(env, args.items, "2024-01-01", 7)
        for name, cache_seconds in (("cache_off", "0"), ("cache_on", "60")):
            server = serving.Gunicorn({**env, "COUNTS_CACHE_SECONDS": cache_seconds})
            stack.callback(server.stop)
            server.wait_until_up()
            result[name] = measure(server.port, args.rounds)
            server.stop()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(markdown(result))
    return 0


def markdown(result: dict[str, Any]) -> str:
    lines = [f"Breakdown (`/api/breakdown`, default fields) on {result['items']:,} events, dynalite, "
             f"p50 of {result['rounds']} requests after one warm-up:", "",
             "The tallies cache *on* rows are warm: the settled seconds' tallies were kept by the requests before "
             "(under either plan: a second's tally does not depend on how it was read).", "",
             "| window | plan | tallies cache | p50 | calls | RCU | counted | complete |",
             "|---|---|---|---:|---:|---:|---:|---|"]
    for name in ("cache_off", "cache_on"):
        for row in result[name]:
            lines.append(f"| {row['window']} | {row['plan']} | {name.removeprefix('cache_')} | {row['p50_ms']} ms | "
                         f"{row['calls']} | {row['rcu'] or 0:g} | {row['counted']:,} | "
                         f"{'yes' if row['complete'] else 'no: ' + row['coverage']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
