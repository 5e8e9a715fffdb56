"""The dashboard as it runs in production: tables made and loaded by its `flask` commands, pages served by gunicorn.

Only the app's command-line interface and `gunicorn -c gunicorn.conf.py wsgi:app` are used, so the
benchmark does not depend on how the dashboard is laid out inside.
"""
from __future__ import annotations

import contextlib
import http.client
import os
import subprocess
import sys
import time
from pathlib import Path

from .backends import ROOT, spawn_logged, stop_process
from .ports import free_port

BIN = Path(sys.executable).parent
SECRET_KEY = "bench-secret-key-0123456789abcdef"
REGION = "us-east-1"


def dashboard_env(endpoint: str, table: str) -> dict[str, str]:
    """The environment the dashboard runs in: the shell's, less anything that could point it elsewhere."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("AWS_", "DASHBOARD_", "GUNICORN_")) and name not in ("BIND", "WEB_CONCURRENCY")}
    env.update({
        "SECRET_KEY": SECRET_KEY, "EVENTS_TABLE": table, "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
        "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        # The benchmark measures pages, not sign-in: an explicit, logged choice to run open on loopback.
        "DASHBOARD_AUTH": "off",
    })
    return env


def flask(env: dict[str, str], *args: str) -> str:
    """One `flask --app wsgi:app` command; its output, or an error carrying what it said."""
    done = subprocess.run([str(BIN / "flask"), "--app", "wsgi:app", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return done.stdout.strip()


def create_table(env: dict[str, str], pitr: bool) -> str:
    return flask(env, "create-table", "--pitr" if pitr else "--no-pitr")


def seed(env: dict[str, str], count: int, day: str, seed_value: int) -> str:
    return flask(env, "seed-demo", "--count", str(count), "--day", day, "--seed", str(seed_value))


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_ns(pids: list[int]) -> int:
    """Time on a CPU, in ns, of every thread of these processes (/proc/PID/task/TID/schedstat):
    unlike wall-clock time it leaves out waiting for a core that other work holds."""
    total = 0
    for pid in pids:
        try:
            threads = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            continue
        for thread in threads:
            with contextlib.suppress(OSError, ValueError, IndexError):
                total += int((thread / "schedstat").read_text().split()[0])
    return total


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: the parent pid follows the last ')'.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


class Gunicorn:
    """`gunicorn -c gunicorn.conf.py wsgi:app` on a free loopback port; its access log goes to a file."""

    PORT_ATTEMPTS = 3  # a port can still be taken by another listener between the probe and gunicorn's bind

    def __init__(self, env: dict[str, str], workers: int = 2, config: str = "gunicorn.conf.py") -> None:
        self.env = env
        self.workers = workers
        self.config = config  # bench/traced_gunicorn.py: the same settings, the workers under tracemalloc
        self.pids: list[int] = []  # the workers, once up
        self.attempts = 0
        self._start()

    def _start(self) -> None:
        self.port = free_port()
        self.attempts += 1
        # The log is ours until stop() closes it.
        self.process, self.log = spawn_logged(
            [str(BIN / "gunicorn"), "-c", self.config, "wsgi:app"], ROOT,
            env={**self.env, "BIND": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": str(self.workers)},
        )

    def wait_until_up(self, seconds: float = 60) -> Gunicorn:
        """Returns once /healthz answers 200 and every worker is up (start two, then wait for both). A gunicorn that
        found its port taken is started again on another one."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self.tail()
                if "Address already in use" in tail and self.attempts < self.PORT_ATTEMPTS:
                    self.log.close()
                    self._start()
                    continue
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}: {tail}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/healthz")
                status = connection.getresponse().status
                connection.close()
                if status == 200 and len(self.worker_pids()) == self.workers:
                    self.pids = self.worker_pids()
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /healthz within {seconds} s: {self.tail()}")

    def tail(self, chars: int = 3000) -> str:
        self.log.seek(0)
        return self.log.read()[-chars:]

    def worker_pids(self) -> list[int]:
        return children(self.process.pid)

    def worker_rss_mb(self) -> dict[int, float]:
        """Resident memory of each worker, from /proc (the master serves no pages)."""
        return {pid: round(mb, 1) for pid in self.worker_pids() if (mb := rss_mb(pid)) is not None}

    def workers_cpu_ns(self) -> int:
        return cpu_ns(self.pids)

    def stop(self) -> None:
        stop_process(self.process, seconds=20)
        self.log.close()
