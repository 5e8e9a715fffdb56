"""Loopback ports for the servers the benchmark and the tests start in processes of their own.

A port that the kernel hands out for `bind(0)` comes from its ephemeral range, the same range it draws the source
ports of outgoing connections from: between the probe that finds it free and the child that binds it, a client's
connection (boto3 to the local DynamoDB, a page request) can take it, and the child fails with "Address already in
use" (CI saw gunicorn do exactly this). Ports below that range are never handed to outgoing connections, so only
another listener can take them; this process never hands out the same one twice.
"""

from __future__ import annotations

import random
import socket
import threading
from pathlib import Path

_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LOWEST = 20000  # above the ports services commonly listen on
_given: set[int] = set()
_lock = threading.Lock()


def _ephemeral_start() -> int:
    try:
        return int(_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A loopback port no one listens on, outside the kernel's ephemeral range when there is room below it."""
    top = _ephemeral_start()
    with _lock:
        if top - _LOWEST >= 1000:
            for port in random.sample(range(_LOWEST, top), 200):
                if port not in _given and _bindable(port):
                    _given.add(port)
                    return port
        with socket.socket() as probe:  # a machine whose ephemeral range leaves no room: the kernel's choice
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        _given.add(port)
        return port
