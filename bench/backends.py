"""The DynamoDB stand-ins the benchmark measures against, each in a process of its own: dynalite and moto.

dynalite (npm, pinned in bench/package.json and its lock file) is LevelDB-backed and answers a call
in milliseconds whatever the table's size; `make bench` installs it with `npm ci`. The embedded
moto server (dashboard.local.start_server) walks the whole table on every Scan and Query: its
figures are kept as moto figures, and it stands in for dynalite where dynalite is not installed.
`python -m bench.backends moto PORT` is how the moto server gets a process of its own.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from .ports import free_port

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DYNALITE = BENCH / "node_modules" / "dynalite"


def spawn_logged(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, IO[str]]:
    """Starts `command` with its output in a temporary file. The log outlives this call: whoever keeps the process
    closes it when stopping it (Backend.stop, serving.Gunicorn.stop); if the process cannot start it is closed here."""
    with contextlib.ExitStack() as on_failure:
        log = on_failure.enter_context(tempfile.TemporaryFile(mode="w+"))
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
        on_failure.pop_all()
    return process, log


def wait_for_port(port: int, process: subprocess.Popen, log: IO[str], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"{command_name(process)} exited with {process.returncode}: {log.read()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answered on port {port} within {seconds} s")


def command_name(process: subprocess.Popen) -> str:
    """The program a process runs, as it was started (this module starts them all with a list of str)."""
    args = process.args
    return str(args[0]) if isinstance(args, list | tuple) else str(args)


def stop_process(process: subprocess.Popen, seconds: float = 10) -> None:
    """SIGTERM, then SIGKILL if it lingers: only ever the process this module started."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(seconds)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(seconds)


@dataclass
class Backend:
    """A running stand-in: where boto3 finds it, what it is, and how to stop it."""

    name: str  # "dynalite" or "moto"
    version: str
    endpoint: str
    process: subprocess.Popen
    log: IO[str]
    cleanup: list[Path] = field(default_factory=list)

    def stop(self) -> None:
        stop_process(self.process)
        self.log.close()
        for path in self.cleanup:
            shutil.rmtree(path, ignore_errors=True)


def dynalite_installed() -> bool:
    return (DYNALITE / "cli.js").is_file()


def dynalite_version() -> str:
    return str(json.loads((DYNALITE / "package.json").read_text())["version"])


def install_dynalite() -> None:
    """`npm ci` in bench/: exactly the versions in package-lock.json (what `make bench` does)."""
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=BENCH, check=True)


def start_dynalite(data: Path | None = None) -> Backend:
    """dynalite on a free loopback port; tables are ACTIVE at once. Its LevelDB directory is a fresh one, removed on
    stop, or `data`, kept: a table loaded once (bench/scale.py's million events) is there for the next run."""
    if not dynalite_installed():
        raise RuntimeError("dynalite is not installed: `make bench` runs `npm ci` in bench/")
    kept = data is not None
    if data is None:
        data = Path(tempfile.mkdtemp(prefix="bench-dynalite-"))
    data.mkdir(parents=True, exist_ok=True)
    port = free_port()
    command = ["node", str(DYNALITE / "cli.js"), "--host", "127.0.0.1", "--port", str(port), "--path", str(data),
               "--createTableMs", "0"]
    return _start_backend("dynalite", dynalite_version(), command, BENCH, port, [] if kept else [data])


def start_moto() -> Backend:
    """The dashboard's embedded moto server, in a process of its own so it never shares our GIL."""
    from importlib.metadata import version

    port = free_port()
    return _start_backend("moto", version("moto"), [sys.executable, "-m", "bench.backends", "moto", str(port)], ROOT,
                          port)


def _start_backend(name: str, version: str, command: list[str], cwd: Path, port: int,
                   cleanup: list[Path] | None = None) -> Backend:
    """The stand-in once it answers on `port`; if it never does, it is stopped and its log and files are gone."""
    try:
        process, log = spawn_logged(command, cwd)
    except BaseException:
        for path in cleanup or ():
            shutil.rmtree(path, ignore_errors=True)
        raise
    backend = Backend(name, version, f"http://127.0.0.1:{port}", process, log, cleanup or [])
    try:
        wait_for_port(port, process, log)
    except BaseException:
        backend.stop()
        raise
    return backend


def start(name: str) -> Backend:
    return start_dynalite() if name == "dynalite" else start_moto()


def _serve_moto(port: int) -> None:
    from dashboard.local.server import start_server

    server, endpoint = start_server(port=port)
    print(f"moto server at {endpoint}", flush=True)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    while not stopping:
        time.sleep(0.2)
    server.stop()


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "moto":
        sys.exit("usage: python -m bench.backends moto PORT")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    _serve_moto(int(sys.argv[2]))
