"""A loopback HTTP proxy in front of a DynamoDB endpoint that injects one fault at a time, at the wire.

Used by the tests (one fault, one answer) and by `make load` (faults that come and go under load).
`FaultProxy(upstream).start()`, then `proxy.fault = "hang"` (see FAULTS); `proxy.url` is what the
dashboard is pointed at. Each request is read whole and forwarded on its own upstream connection,
so faults apply per request, never to half of one.
"""
from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from urllib.parse import urlsplit

_DYNAMODB = "com.amazonaws.dynamodb.v20120810#"
# Canned answers in DynamoDB's JSON protocol: botocore reads the error code from `__type`.
CANNED = {
    "throttle": (400, _DYNAMODB + "ThrottlingException", "Rate of requests exceeds the allowed throughput."),
    "error500": (500, _DYNAMODB + "InternalServerError", "Internal server error"),
    "denied": (400, "com.amazon.coral.service#AccessDeniedException",
               "User: arn:aws:sts::123456789012:assumed-role/ops-dashboard/i-0abc is not authorized to perform "
               "this action on resource: arn:aws:dynamodb:eu-west-1:123456789012:table/secret-events"),
    "missing": (400, _DYNAMODB + "ResourceNotFoundException", "Requested resource not found"),
}
# pass: forward; refuse: nothing listens; hang: read the request, never answer; reset: answer with a TCP
# reset; delay: forward after `delay` seconds; lose-put: forward a PutItem, then reset instead of
# answering (the write happened, its answer is lost), once; lose-delete: the same with a DeleteItem;
# the rest answer as CANNED says.
LOSING = {"lose-put": ".PutItem", "lose-delete": ".DeleteItem"}
FAULTS = ("pass", "refuse", "hang", "reset", "delay", *LOSING, *CANNED)


class FaultProxy:
    def __init__(self, upstream: str, host: str = "127.0.0.1", port: int = 0, delay: float = 2.0):
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.delay = delay
        self._fault = "pass"
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._host, self._port = host, port
        self._listener: socket.socket | None = None
        self._listen()
        self.url = f"http://{self._host}:{self._port}"
        self.requests: list[str] = []  # X-Amz-Target of every request seen, in order
        self.lost: list[str] = []  # what lose-put (lose-delete) forwarded and then did not answer
        self.after_lost = "pass"  # the fault once lose-put (lose-delete) has lost one answer
        self._in_flight = 0  # requests read and not answered yet (a client that gave up does not end one)

    # ------------------------------------------------------------------ control

    @property
    def in_flight(self) -> int:
        """Requests the proxy has read and not yet answered: the backend may still be working on them."""
        with self._lock:
            return self._in_flight

    def _count(self, step: int) -> None:
        with self._lock:
            self._in_flight += step

    @property
    def fault(self) -> str:
        return self._fault

    @fault.setter
    def fault(self, name: str) -> None:
        if name not in FAULTS:
            raise ValueError(f"unknown fault {name!r}: one of {', '.join(FAULTS)}")
        with self._lock:
            was, self._fault = self._fault, name
            if name == "refuse" and was != "refuse":
                self._close_listener()
                # A socket bound to the port but not listening keeps it ours (a server started meanwhile
                # elsewhere on this machine cannot take it), and the kernel refuses every connection to it.
                self._listener = self._bound()
            elif name != "refuse" and was == "refuse" and self._listener is not None:
                self._listener.listen(128)
                threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def start(self) -> FaultProxy:
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        with self._lock:
            self._close_listener()

    def _bound(self) -> socket.socket:
        bound = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        bound.bind((self._host, self._port))
        self._port = bound.getsockname()[1]
        return bound

    def _listen(self) -> None:
        self._listener = self._bound()
        self._listener.listen(128)

    def _close_listener(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):  # not connected: nothing to shut down
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None

    # ------------------------------------------------------------------ serving

    def _accept(self, listener: socket.socket | None) -> None:
        while listener is not None and not self._stopped.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return  # closed: refuse mode or stop
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        upstream = _Upstream(self.upstream)
        try:
            while not self._stopped.is_set():
                request, buffer = _read_message(conn, buffer)
                if request is None:
                    return
                target = _header(request, b"x-amz-target").decode("latin-1")
                self.requests.append(target)
                self._count(1)
                try:
                    if not self._answer(conn, request, target, upstream):
                        return
                finally:
                    self._count(-1)
        except OSError:
            return
        finally:
            upstream.close()
            conn.close()

    def _answer(self, conn: socket.socket, request: bytes, target: str, upstream: _Upstream) -> bool:
        """Answer one request as the current fault says; False when the connection is done."""
        fault = self._fault
        if fault == "hang":
            while not self._stopped.is_set() and conn.recv(65536):
                pass  # hold it until the client gives up
            return False
        if fault in ("reset", "refuse"):
            _reset(conn)
            return False
        if fault in CANNED:
            conn.sendall(_canned(*CANNED[fault]))
            return True
        if fault == "delay":
            time.sleep(self.delay)
        response = upstream.forward(request)
        if fault in LOSING and target.endswith(LOSING[fault]) and self._lose_once(fault, target):
            _reset(conn)
            return False
        conn.sendall(response)
        return True

    def _lose_once(self, fault: str, target: str) -> bool:
        with self._lock:
            if self._fault != fault:
                return False  # another connection lost its answer first
            self.lost.append(target)
        self.fault = self.after_lost
        return True



class _Upstream:
    """One kept-alive connection to the real endpoint per client connection, as a client would keep one.

    (A fresh connection per request overflows a small server's listen backlog under load.)
    """

    def __init__(self, address: tuple[str, int]):
        self._address = address
        self._socket: socket.socket | None = None

    def forward(self, request: bytes) -> bytes:
        reused = self._socket is not None
        try:
            return self._exchange(request)
        except OSError:
            self.close()
            if not reused:
                raise
        # The kept connection had been closed by the server while idle: nothing was processed, send again.
        return self._exchange(request)

    def _exchange(self, request: bytes) -> bytes:
        if self._socket is None:
            self._socket = socket.create_connection(self._address, timeout=30)
        self._socket.sendall(request)
        response, _ = _read_message(self._socket, b"", until_close=True)
        if response is None:
            raise OSError("upstream closed without answering")
        if b"connection: close" in response.split(b"\r\n\r\n", 1)[0].lower():
            self.close()
        return response

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def _reset(conn: socket.socket) -> None:
    # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _canned(status: int, error_type: str, message: str) -> bytes:
    body = json.dumps({"__type": error_type, "message": message}, separators=(",", ":")).encode()
    reason = "Internal Server Error" if status == 500 else "Bad Request"
    head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/x-amz-json-1.0\r\n"
            f"Content-Length: {len(body)}\r\nx-amzn-RequestId: fault-proxy\r\n\r\n")
    return head.encode() + body


def _header(message: bytes, name: bytes) -> bytes:
    head = message.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            return value.strip()
    return b""


def _read_message(conn: socket.socket, buffer: bytes, until_close: bool = False) -> tuple[bytes | None, bytes]:
    """One HTTP message (head and body by Content-Length) from `conn`, and what was read past it."""
    while b"\r\n\r\n" not in buffer:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")
    length_text = _header(head + b"\r\n\r\n", b"content-length")
    if not length_text and until_close:
        while chunk := conn.recv(65536):
            rest += chunk
        return head + b"\r\n\r\n" + rest, b""
    length = int(length_text or 0)
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None, b""
        rest += chunk
    return head + b"\r\n\r\n" + rest[:length], rest[length:]
