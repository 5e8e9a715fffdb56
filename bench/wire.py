"""A counting HTTP proxy on loopback: what each page asks DynamoDB, counted at the wire by X-Amz-Target.

The dashboard is pointed at the proxy (AWS_ENDPOINT_URL_DYNAMODB) for a short pass of its own; the
timed pass goes straight to the backend, so the proxy's own cost never shows in a latency figure.
Requests are forwarded byte for byte (Host included, so signatures still match).
"""
from __future__ import annotations

import http.client
import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}


def operation(target: str | None) -> str:
    """'DynamoDB_20120810.Scan' -> 'Scan'; the auto-scaling API's targets the same way."""
    if not target:
        return "(no X-Amz-Target)"
    return target.rsplit(".", 1)[-1]


class WireCounter:
    """Calls forwarded so far, per operation; a page's calls are the difference around its request."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()

    def add(self, name: str) -> None:
        with self._lock:
            self._calls[name] += 1

    def snapshot(self) -> Counter[str]:
        with self._lock:
            return Counter(self._calls)

    def since(self, before: Counter[str]) -> dict[str, int]:
        now = self.snapshot()
        return {name: now[name] - before[name] for name in sorted(now) if now[name] - before[name]}


class CountingProxy:
    """Forwards every request on 127.0.0.1:PORT to `backend` and counts it. Start, use, stop."""

    def calls_first_and_after(self, get: Callable[[], Any], repeats: int = 3) -> tuple[Any, dict[str, int], list[int]]:
        """`get()` once, its answer and the calls it made at the wire per operation; then `repeats` times more,
        the calls each made (a page asked again: its caches warm)."""
        before = self.counter.snapshot()
        first = get()
        cold = self.counter.since(before)
        after = []
        for _ in range(repeats):
            before = self.counter.snapshot()
            get()
            after.append(sum(self.counter.since(before).values()))
        return first, cold, after

    def __init__(self, backend: str) -> None:
        parts = urlsplit(backend)
        if parts.hostname is None:
            raise ValueError(f"the backend must be a URL with a host, such as http://127.0.0.1:8000, not {backend!r}")
        host: str = parts.hostname  # declared str: the handler below is a closure, where narrowing does not reach
        port = parts.port
        self.counter = WireCounter()
        local = threading.local()
        counter = self.counter

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as boto3's connection pool expects

            def log_message(self, *args: object) -> None:  # one line per call would drown the bench's output
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                counter.add(operation(self.headers.get("X-Amz-Target")))
                headers = {name: value for name, value in self.headers.items() if name.lower() not in _HOP_BY_HOP}
                for attempt in (1, 2):
                    connection = getattr(local, "connection", None)
                    if connection is None:
                        connection = local.connection = http.client.HTTPConnection(host, port, timeout=30)
                    try:
                        connection.request(self.command, self.path, body=body, headers=headers)
                        answer = connection.getresponse()
                        payload = answer.read()
                        break
                    except (ConnectionError, http.client.HTTPException):
                        connection.close()
                        local.connection = None
                        if attempt == 2:
                            raise
                self.send_response(answer.status, answer.reason)
                for name, value in answer.getheaders():
                    if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = do_GET = do_PUT = do_DELETE = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="wire-proxy", daemon=True)

    def start(self) -> CountingProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
