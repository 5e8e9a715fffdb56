"""gunicorn.conf.py plus tracemalloc in every worker: what `make load` runs with LOAD_TRACEMALLOC=1.

Each worker traces its allocations from the fork on (TRACEMALLOC_FRAMES deep) and, on SIGUSR2, writes
a snapshot to TRACEMALLOC_DIR as `<pid>-<n>.snapshot`; bench/memory.py compares two of them. Tracing
slows every allocation and costs memory of its own: for finding what grows, never for the figures.
"""
from __future__ import annotations

import os
import signal
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

_PRODUCTION = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
# The production settings, exactly: this file only adds the hooks below.
exec(compile(_PRODUCTION.read_text(), str(_PRODUCTION), "exec"))  # noqa: S102

FRAMES = int(os.environ.get("TRACEMALLOC_FRAMES", "12"))
SAMPLE_SECONDS = float(os.environ.get("TRACEMALLOC_SAMPLE_SECONDS", "5"))


_production_post_fork = globals()["post_fork"]  # gunicorn.conf.py's, run above


def post_fork(server: Any, worker: Any) -> None:
    _production_post_fork(server, worker)
    tracemalloc.start(FRAMES)


def post_worker_init(worker: Any) -> None:
    folder = Path(os.environ["TRACEMALLOC_DIR"])
    taken = [0]

    def dump(*_: Any) -> None:
        taken[0] += 1
        tracemalloc.take_snapshot().dump(str(folder / f"{os.getpid()}-{taken[0]}.snapshot"))
        (folder / f"{os.getpid()}-{taken[0]}.done").touch()  # the snapshot is whole

    # gunicorn leaves SIGUSR2 at its default (terminate) in a worker: ours from here on.
    signal.signal(signal.SIGUSR2, dump)
    threading.Thread(target=_log_traced, args=(folder / f"{os.getpid()}.traced",), daemon=True).start()


def _log_traced(path: Path) -> None:
    """Every few seconds, how much the traced Python heap holds: a cheap time series beside the RSS."""
    with path.open("a") as out:
        while True:
            current, _ = tracemalloc.get_traced_memory()
            out.write(f"{time.time():.1f} {current} {threading.active_count()}\n")
            out.flush()
            time.sleep(SAMPLE_SECONDS)
