"""Load and faults, for real: `make load` writes bench/results/load.json and the load section of bench/RESULTS.md.

Many concurrent clients hit the dashboard under gunicorn, mixing the list, timestamp search, detail,
status, /api/status, static files and inserts, while the fault proxy in front of a local DynamoDB
(moto's server, its own process, on loopback) cycles through every fault: refuse, hang, reset, delay,
throttle, 500, AccessDenied and a missing table, with healthy spells between them. The first
LOAD_WARMUP_CYCLES (6) fault cycles are the warm-up (every page under every fault, and long enough for the
allocator's caches to fill: bench/memory.py); LOAD_CYCLES more are measured.

Every answer is checked against what the README documents for the fault in force when the request
started or ended: 200/303 when healthy (a delay included), 503 with Retry-After when DynamoDB is
down, static files always 200, and never slower than 5 s. Anything else is an error, counted by
kind. Reports latency percentiles per fault, and each worker's memory at every phase change: how
much it grew after the warm-up and how fast (bench/memory.py says what counts as flat).
Bounded: LOAD_WARMUP_CYCLES (6), LOAD_CYCLES (3), LOAD_CLIENTS (50), LOAD_PHASE_SECONDS (2.5: a cycle
of 16 phases takes 40 s, the whole run 6 minutes), LOAD_THINK_SECONDS (2.0, the mean pause of a client
between requests). Exits 1 on any error or when memory is not flat. LOAD_TRACEMALLOC=1 runs the workers
under tracemalloc (bench/traced_gunicorn.py) and writes what grew in their Python heap after the warm-up
to bench/results/load-tracemalloc.txt: a diagnosis, slower and bigger, so it judges nothing and leaves
load.json and RESULTS.md alone.
"""
from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from bench.faultproxy import FaultProxy

from . import loadreport
from .loadreport import percentiles
from .memory import WARM_UP_CYCLES, Reading, read_workers, snapshot_diff, verdict
from .ports import free_port
from .serving import children

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
CYCLES = int(os.environ.get("LOAD_CYCLES", "3"))
WARM_UP = max(1, int(os.environ.get("LOAD_WARMUP_CYCLES", str(WARM_UP_CYCLES))))
TRACED = os.environ.get("LOAD_TRACEMALLOC") == "1"
CLIENTS = int(os.environ.get("LOAD_CLIENTS", "50"))
PHASE_SECONDS = float(os.environ.get("LOAD_PHASE_SECONDS", "2.5"))
# Ops staff read a page before they click again: each client pauses about this long between requests.
THINK_SECONDS = float(os.environ.get("LOAD_THINK_SECONDS", "2.0"))
EVENTS = 600
SLOW = 5.0  # the bound: every documented answer within 5 s
DEADLINE_SECONDS = 4.0  # the dashboard's default
FAULT_CYCLE = ("refuse", "hang", "reset", "delay", "throttle", "error500", "denied", "missing")
PHASES_PER_CYCLE = 2 * len(FAULT_CYCLE)  # a healthy spell before each fault
KINDS = ("list", "search", "detail", "status", "api_status", "static", "insert")
USER, PASSWORD = "load", "load-test-password"
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
_ROW = re.compile(r'<tr data-event-id="([^"]+)"')


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up in {seconds:.0f} s")


def start_backend() -> tuple[subprocess.Popen, str]:
    """moto's DynamoDB server in a process of its own, so that the clients here do not slow it down."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    wait_for(endpoint)
    return process, endpoint


def seed(endpoint: str, table_name: str) -> list[dict]:
    from dashboard.app.demo import demo_events
    from dashboard.settings.config import Settings
    from dashboard.store import Table
    from dashboard.store.admin import TableAdmin

    settings = Settings.from_env({"AWS_ENDPOINT_URL_DYNAMODB": endpoint, "EVENTS_TABLE": table_name}, local=True)
    table = Table.open(settings)
    admin = TableAdmin(table.clients, table_name)
    admin.create_table()
    events = list(demo_events(EVENTS, seed=3))
    admin.put_many(events)
    table.clients.autoscaling.describe_scalable_targets(ServiceNamespace="dynamodb")  # moto loads it lazily
    return events


def start_dashboard(endpoint: str, table_name: str, traced_to: Path | None = None) -> tuple[subprocess.Popen, str]:
    from werkzeug.security import generate_password_hash

    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update({"AWS_ENDPOINT_URL_DYNAMODB": endpoint, "EVENTS_TABLE": table_name, "AWS_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "load", "AWS_SECRET_ACCESS_KEY": "load", "BIND": f"127.0.0.1:{port}",
                "SECRET_KEY": os.urandom(24).hex(), "DASHBOARD_USERS": f"{USER}:{generate_password_hash(PASSWORD)}"})
    config = "gunicorn.conf.py"
    if traced_to is not None:
        config, env["TRACEMALLOC_DIR"] = "bench/traced_gunicorn.py", str(traced_to)
    log = open(RESULTS / "load-gunicorn.log", "w")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c", config,
                                "--access-logfile", "/dev/null", "wsgi:app"], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_for(url + "/healthz", 300 if traced_to else 60)  # importing everything under tracemalloc is slow
    return process, url


@dataclass
class Sample:
    kind: str
    faults: list[str]  # every fault in force while the request ran, first to last
    status: int | None  # None: no HTTP answer at all
    seconds: float
    retry_after: bool
    cycle: int = 0  # the fault cycle it started in; the first WARM_UP are the warm-up
    failure: str = ""  # the client's exception when no answer came
    message: str = ""  # what a 503 said
    # The fault before the first of `faults`, and how long before the request it ended.
    previous: str = ""
    since_switch: float = 0.0


class Load:
    def __init__(self, url: str, proxy: FaultProxy, events: list[dict], master: int = 0):
        self.url, self.proxy, self.events, self.master = url, proxy, events, master
        self.readings: list[Reading] = []  # every worker's memory at each phase change and at the end
        self.samples: list[Sample] = []
        self.phases: list[str] = ["pass"]
        self.switched_at: list[float] = [time.monotonic()]
        self.cycle = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def run(self, cycles: int, at_cycle: Callable[[int], None] = lambda _: None) -> None:
        """`cycles` fault cycles under load; `at_cycle(n)` as cycle n begins, and `at_cycle(cycles)` at the end."""
        threads = [threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(CLIENTS)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for phase in range(cycles * PHASES_PER_CYCLE):
            cycle, step = divmod(phase, PHASES_PER_CYCLE)
            if step == 0:
                at_cycle(cycle)
            # A healthy spell between faults: the app must recover by itself.
            self.proxy.fault = "pass" if step % 2 == 0 else FAULT_CYCLE[step // 2]
            self.phases.append(self.proxy.fault)
            self.switched_at.append(time.monotonic())
            self.cycle = cycle
            self.readings.append(read_workers(self.master, started, len(self.samples), cycle))
            time.sleep(PHASE_SECONDS)
        self.readings.append(read_workers(self.master, started, len(self.samples), cycles - 1))
        at_cycle(cycles)
        self._stop.set()
        for thread in threads:
            thread.join(timeout=15)
        self.proxy.fault = "pass"

    def _client(self, number: int) -> None:
        rng = random.Random(number)
        self._stop.wait(rng.uniform(0, 2 * THINK_SECONDS))  # people do not all click at the same instant
        session = requests.Session()
        session.auth = (USER, PASSWORD)
        # gunicorn closes a keep-alive connection idle for 2 s; like a browser, a GET that meets one closing
        # is sent again once on a fresh connection.
        retry = Retry(total=1, connect=1, read=1, status=0, other=0, allowed_methods={"GET"}, raise_on_status=False)
        session.mount("http://", HTTPAdapter(max_retries=retry))
        while not self._stop.is_set():
            kind = rng.choices(KINDS, (30, 15, 20, 8, 7, 10, 10))[0]
            self._one(session, kind, rng)
            self._stop.wait(rng.uniform(0, 2 * THINK_SECONDS))

    def _one(self, session: requests.Session, kind: str, rng: random.Random) -> None:
        event = rng.choice(self.events)
        path = {
            "list": f"/events?limit={rng.choice((10, 25, 50))}",
            "search": f"/events?timestamp={event['timestamp']}",
            "detail": "/events/" + quote(event["event_id"], safe=""),
            "status": "/status",
            "api_status": "/api/status",
            "static": "/static/app.css",
            "insert": "/events/new",
        }[kind]
        response = self._timed("form" if kind == "insert" else kind, lambda: session.get(self.url + path, timeout=15))
        if kind == "insert" and response is not None and response.status_code == 200:
            token = _CSRF.search(response.text)
            form = {"csrf_token": token.group(1) if token else "", "event_id": f"load-{rng.getrandbits(64):x}",
                    "event_type": "load", "timestamp": "2024-01-01T00:00:00Z"}
            self._timed("insert", lambda: session.post(self.url + "/events", data=form, timeout=15,
                                                       allow_redirects=False))

    def _timed(self, kind: str, send: Callable[[], requests.Response]) -> requests.Response | None:
        first_phase, cycle = len(self.phases) - 1, self.cycle
        started = time.monotonic()
        response, failure = None, ""
        try:
            response = send()
        except requests.RequestException as error:
            failure = type(error).__name__
        sample = Sample(kind, self.phases[first_phase:], response.status_code if response is not None else None,
                        time.monotonic() - started, response is not None and "Retry-After" in response.headers,
                        cycle, failure, _message(response), self.phases[first_phase - 1] if first_phase else "",
                        started - self.switched_at[first_phase])
        with self._lock:
            self.samples.append(sample)
        return response


def warm_up_pages(load: Load) -> None:
    """Every page once, then as many at once as there are clients: each worker starts every thread its pools
    may ever hold (gunicorn's, the status panels'), so threads do not grow after this."""
    session = requests.Session()
    session.auth = (USER, PASSWORD)
    for kind in KINDS:
        load._one(session, kind, random.Random(0))

    def one(number: int) -> None:
        with requests.Session() as own:
            own.auth = (USER, PASSWORD)
            load._one(own, ("status", "list")[number % 2], random.Random(number))

    for _ in range(2):
        with ThreadPoolExecutor(CLIENTS) as burst:
            list(burst.map(one, range(CLIENTS)))


def _message(response: requests.Response | None) -> str:
    if response is None or response.status_code < 500:
        return ""
    found = re.search(r'"message": "([^"]*)"|<p class="error-message"[^>]*>(.*?)</p>|data-backend-error>(.*?)</div>'
                      r'|data-write-unknown>(.*?)</div>', response.text, re.S)
    return " ".join(part for part in (found.groups() if found else ()) if part)[:200]


def recovering(sample: Sample) -> bool:
    """A 503 just after DynamoDB stopped answering: the breaker waits COOLDOWN_SECONDS before asking again."""
    from dashboard.store.breaker import COOLDOWN_SECONDS

    return (sample.status == 503 and "stopped answering" in sample.message and sample.previous in ("hang", "delay")
            and sample.since_switch < COOLDOWN_SECONDS + DEADLINE_SECONDS)


def expected(kind: str, fault: str) -> set[int]:
    if kind in ("static", "form"):  # neither asks DynamoDB
        return {200}
    if fault in ("pass", "delay"):
        return {303} if kind == "insert" else {200}
    return {503}


def error_kind(sample: Sample) -> str | None:
    if sample.status is None:
        return f"no answer ({sample.failure})"
    if sample.status >= 500 and sample.status != 503:
        return f"HTTP {sample.status}"
    if sample.seconds > SLOW:
        return f"slower than {SLOW:g} s"
    if not any(sample.status in expected(sample.kind, fault) for fault in sample.faults) and not recovering(sample):
        return f"HTTP {sample.status} for {sample.kind} during {'/'.join(sample.faults)}"
    if sample.status == 503 and not sample.retry_after:
        return "503 without Retry-After"
    return None


def report(load: Load) -> dict:
    errors = Counter(kind for kind in map(error_kind, load.samples) if kind)
    by_fault: dict[str, list[float]] = defaultdict(list)
    statuses: dict[str, Counter] = defaultdict(Counter)
    for sample in load.samples:
        by_fault[sample.faults[0]].append(sample.seconds)
        statuses[sample.faults[0]][str(sample.status)] += 1
    warm = {(sample.kind, fault) for sample in load.samples if sample.cycle < WARM_UP for fault in sample.faults}
    return {
        "clients": CLIENTS, "phase_seconds": PHASE_SECONDS, "think_seconds": THINK_SECONDS,
        "cycles": {"warm_up": WARM_UP, "measured": CYCLES, "seconds_each": PHASES_PER_CYCLE * PHASE_SECONDS},
        "requests": len(load.samples), "requests_in_warm_up": sum(sample.cycle < WARM_UP for sample in load.samples),
        "errors": sum(errors.values()), "errors_by_kind": dict(errors),
        "errors_in_warm_up": sum(sample.cycle < WARM_UP and error_kind(sample) is not None for sample in load.samples),
        "warm_up_missed": sorted(f"{kind} during {fault}" for kind in {sample.kind for sample in load.samples}
                                 for fault in ("pass", *FAULT_CYCLE) if (kind, fault) not in warm),
        "recovering_503s": sum(map(recovering, load.samples)),
        "first_errors": [vars(sample) for sample in load.samples if error_kind(sample)][:40],
        "latency_by_fault": {fault: percentiles(values) for fault, values in sorted(by_fault.items())},
        "statuses_by_fault": {fault: dict(counts) for fault, counts in sorted(statuses.items())},
        "latency_by_page": {kind: percentiles([s.seconds for s in load.samples if s.kind == kind])
                            for kind in sorted({s.kind for s in load.samples})},
        "memory": verdict(load.readings, WARM_UP),
        "readings": [vars(reading) for reading in load.readings],
    }


class Snapshots:
    """With LOAD_TRACEMALLOC=1: a tracemalloc snapshot of every worker as the warm-up ends and at the end."""

    def __init__(self, folder: Path):
        self.folder, self.master, self.taken = folder, 0, 0

    def at_cycle(self, cycle: int) -> None:
        if cycle not in (WARM_UP, WARM_UP + CYCLES):
            return
        self.taken += 1
        workers = children(self.master)
        for worker in workers:
            os.kill(worker, signal.SIGUSR2)
        deadline = time.monotonic() + 120
        while (time.monotonic() < deadline
               and not all((self.folder / f"{worker}-{self.taken}.done").exists() for worker in workers)):
            time.sleep(0.5)

    def diff(self) -> list[str]:
        lines = []
        for worker in children(self.master):
            first, last = (self.folder / f"{worker}-{n}.snapshot" for n in (1, 2))
            if first.exists() and last.exists():
                lines += [f"## worker {worker}: end of the warm-up -> end of the run", ""]
                lines += snapshot_diff(first, last) + [""]
        return lines


def main() -> int:
    RESULTS.mkdir(exist_ok=True)
    backend, endpoint = start_backend()
    proxy = FaultProxy(endpoint, delay=1.0).start()
    table_name = "load-events"
    gunicorn = None
    load_average = [round(value, 2) for value in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="load-tracemalloc-") as traces:
        snapshots = Snapshots(Path(traces))
        try:
            events = seed(endpoint, table_name)
            gunicorn, url = start_dashboard(proxy.url, table_name, Path(traces) if TRACED else None)
            snapshots.master = gunicorn.pid
            warm_up_pages(Load(url, proxy, events))  # not in the report
            load = Load(url, proxy, events, gunicorn.pid)
            load.run(WARM_UP + CYCLES, snapshots.at_cycle if TRACED else lambda _: None)
            result = report(load)
            traced = snapshots.diff() if TRACED else []
        finally:
            proxy.stop()
            if gunicorn is not None:
                gunicorn.send_signal(signal.SIGTERM)
                gunicorn.wait(timeout=30)
            backend.terminate()
            backend.wait(timeout=30)
    result["load_average"] = {"start": load_average, "end": [round(value, 2) for value in os.getloadavg()]}
    lines = loadreport.markdown(result)
    print("\n".join(lines))
    if TRACED:
        (RESULTS / "load-tracemalloc.txt").write_text("\n".join(lines + ["", *traced]) + "\n")
        print(f"\nwrote {RESULTS / 'load-tracemalloc.txt'} (a diagnosis: nothing judged)")
        return 0
    (RESULTS / "load.json").write_text(json.dumps(result, indent=2) + "\n")
    loadreport.write_section(ROOT / "bench" / "RESULTS.md", lines)
    print(f"\nwrote {RESULTS / 'load.json'} and the load section of bench/RESULTS.md")
    return 1 if result["errors"] or not result["memory"]["flat"] else 0


if __name__ == "__main__":
    sys.exit(main())
