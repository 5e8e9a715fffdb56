"""Timing: a keep-alive page client, interleaved raw/page repetitions, percentiles, and a short load run.

Each round times every case's DynamoDB call(s) straight through boto3 next to its page through
gunicorn (which goes first flips every round; the cases come in a shuffled order), so noise from
whatever else the machine is doing falls on both sides, and on every case, alike.
"""
from __future__ import annotations

import http.client
import math
import random
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    ms: float


class PageClient:
    """GET over one keep-alive connection, as a browser tab does; reconnects when gunicorn closes it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._connection: http.client.HTTPConnection | None = None

    def get(self, path: str) -> Answer:
        for attempt in (1, 2):
            if self._connection is None:
                self._connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                self._connection.connect()
            started = time.perf_counter()
            try:
                self._connection.request("GET", path)
                response = self._connection.getresponse()
                body = response.read()
            except (ConnectionError, http.client.HTTPException):
                # gunicorn ends an idle keep-alive connection after 2 s: retry once on a new one,
                # timing only the attempt that was answered.
                self.close()
                if attempt == 2:
                    raise
                continue
            ms = (time.perf_counter() - started) * 1000
            if response.getheader("Connection", "").lower() == "close":
                self.close()
            return Answer(response.status, body.decode("utf-8", "replace"), ms)
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def summary(samples: list[float]) -> dict[str, float | int]:
    ordered = sorted(samples)
    if not ordered:
        return {"n": 0}
    return {
        "p50_ms": round(statistics.median(ordered), 2),
        # nearest rank: the smallest sample with at least 95 % of the samples at or below it
        "p95_ms": round(ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)], 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
        "min_ms": round(ordered[0], 2),
        "n": len(ordered),
    }


def interleaved(cases: list[Any], repetitions: int, warmup: int) -> list[dict[str, Any]]:
    """For each case (in order): wall-clock and CPU summaries of the raw call(s) and of the page.

    A case has .raw() (the same DynamoDB calls, straight through boto3), .client (a PageClient),
    .server_cpu_ns() (CPU time of the workers serving it), .path and .check(answer) -> a problem or
    None. Every round visits every case in a fresh shuffled order, so no case always follows the
    same neighbour; warm-up rounds are not kept. A case whose .rounds is set (a slow page) takes part in
    only that many rounds after one warm-up round, the last ones, still shuffled among the others.
    """
    samples: list[dict[str, list[float]]] = [{"raw": [], "page": [], "raw_cpu": [], "page_cpu": []} for _ in cases]
    problems: list[list[str]] = [[] for _ in cases]
    sizes = [0] * len(cases)
    order = list(range(len(cases)))

    def page_request(case: Any) -> tuple[Answer, float]:
        before = case.server_cpu_ns()
        answer = case.client.get(case.path)
        return answer, (case.server_cpu_ns() - before) / 1e6

    def raw_call(case: Any) -> tuple[float, float]:
        cpu_before = time.thread_time_ns()
        wall = timed(case.raw)
        return wall, (time.thread_time_ns() - cpu_before) / 1e6

    for round_number in range(warmup + repetitions):
        random.Random(round_number).shuffle(order)
        for index in order:
            case = cases[index]
            if not _takes_part(case, round_number, repetitions, warmup):
                continue
            if round_number % 2 == 0:
                raw_ms, raw_cpu_ms = raw_call(case)
                answer, page_cpu_ms = page_request(case)
            else:
                answer, page_cpu_ms = page_request(case)
                raw_ms, raw_cpu_ms = raw_call(case)
            problem = case.check(answer)
            if problem and len(problems[index]) < 3:
                problems[index].append(problem)
            sizes[index] = len(answer.body.encode())
            if round_number >= _first_kept(case, repetitions, warmup):
                for name, value in (("raw", raw_ms), ("page", answer.ms), ("raw_cpu", raw_cpu_ms),
                                    ("page_cpu", page_cpu_ms)):
                    samples[index][name].append(value)
    return [{**{name: summary(values) for name, values in samples[i].items()}, "bytes": sizes[i],
             "problems": problems[i]} for i in range(len(cases))]


def _first_kept(case: Any, repetitions: int, warmup: int) -> int:
    """The first round whose timings are kept for this case."""
    rounds = getattr(case, "rounds", None)
    return warmup if rounds is None or rounds >= repetitions else warmup + repetitions - rounds


def _takes_part(case: Any, round_number: int, repetitions: int, warmup: int) -> bool:
    """Every round, or (a case with fewer rounds) its own rounds and the warm-up round just before them."""
    rounds = getattr(case, "rounds", None)
    if rounds is None or rounds >= repetitions:
        return True
    return round_number >= _first_kept(case, repetitions, warmup) - 1


def load(port: int, paths: list[str], threads: int, seconds: float) -> dict[str, Any]:
    """Requests per second: `threads` clients, each on its own connection, cycling through `paths`.
    The answer's "samples" holds every latency, for adding runs together (see `combined`)."""
    deadline = time.monotonic() + seconds
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors = [0] * threads

    def client_loop(index: int) -> None:
        client = PageClient(port)
        position = index
        while time.monotonic() < deadline:
            try:
                answer = client.get(paths[position % len(paths)])
            except (OSError, http.client.HTTPException):
                errors[index] += 1
                continue
            position += 1
            if answer.status == 200:
                latencies[index].append(answer.ms)
            else:
                errors[index] += 1
        client.close()

    started = time.monotonic()
    workers = [threading.Thread(target=client_loop, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    answered = [ms for per_thread in latencies for ms in per_thread]
    return {
        "client_threads": threads,
        "seconds": round(elapsed, 2),
        "requests": len(answered),
        "errors": sum(errors),
        "rps": round(len(answered) / elapsed, 1),
        "latency": summary(answered),
        "paths": paths,
        "samples": answered,
    }


def combined(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Several short load runs (taken in turns with another server's) as one."""
    answered = [ms for run in runs for ms in run["samples"]]
    seconds = sum(run["seconds"] for run in runs)
    return {
        "client_threads": runs[0]["client_threads"],
        "seconds": round(seconds, 2),
        "requests": len(answered),
        "errors": sum(run["errors"] for run in runs),
        "rps": round(len(answered) / seconds, 1),
        "latency": summary(answered),
        "paths": runs[0]["paths"],
    }
