"""Misbehaving endpoints on loopback, for failures injected at the wire: a CloudWatch that denies, one that hangs."""
from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _cbor_text(text: str) -> bytes:
    data = text.encode()
    if len(data) < 24:
        return bytes([0x60 | len(data)]) + data
    if len(data) < 256:
        return bytes([0x78, len(data)]) + data
    return bytes([0x79]) + len(data).to_bytes(2, "big") + data


def cbor_error(code: str, message: str) -> bytes:
    """An rpc-v2-cbor error body, {"__type": code, "message": message}, for clients that speak CBOR to CloudWatch."""
    return bytes([0xA2]) + _cbor_text("__type") + _cbor_text(code) + _cbor_text("message") + _cbor_text(message)


class DeniedCloudWatch:
    """An endpoint that answers GetMetricData with AccessDenied, as CloudWatch does when IAM refuses it."""

    MESSAGE = "User: arn:aws:iam::123456789012:user/dashboard is not authorized to perform: cloudwatch:GetMetricData"

    def __init__(self) -> None:
        self.calls: list[str] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                # The JSON protocol (what botocore speaks to CloudWatch today) names the operation in
                # X-Amz-Target; rpc-v2-cbor in the path.
                target = self.headers.get("X-Amz-Target") or self.path
                operation = target.rsplit(".", 1)[-1].rsplit("/", 1)[-1]
                owner.calls.append(operation)
                if operation != "GetMetricData":
                    self.send_error(501)
                    return
                if "/operation/" in self.path:
                    payload = cbor_error("AccessDenied", owner.MESSAGE)
                    headers = {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"}
                else:
                    payload = json.dumps({"__type": "AccessDenied", "message": owner.MESSAGE}).encode()
                    headers = {"Content-Type": "application/x-amz-json-1.0"}
                self.send_response(403)
                for name, value in {**headers, "Content-Length": str(len(payload)),
                                    "x-amzn-query-error": "AccessDenied;Sender"}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class SilentEndpoint:
    """Accepts connections (the kernel does, from the backlog) and never answers a byte: a hung backend."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(64)
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"

    def close(self) -> None:
        self._socket.close()
