"""The loopback ports the tests and the benchmark start their servers on: never one an outgoing connection can take
between the probe and the child's bind, and a gunicorn that still finds its port taken starts on another."""
from __future__ import annotations

import socket

import pytest

from bench import ports, serving


def test_ports_come_from_below_the_ephemeral_range_and_are_never_handed_out_twice() -> None:
    start = ports._ephemeral_start()
    given = [ports.free_port() for _ in range(50)]
    assert len(set(given)) == len(given)
    if start - ports._LOWEST >= 1000:
        assert all(ports._LOWEST <= port < start for port in given)
    for port in given[:5]:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))  # free when handed out


def test_a_port_someone_listens_on_is_never_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        monkeypatch.setattr(ports, "_LOWEST", busy)
        monkeypatch.setattr(ports, "_ephemeral_start", lambda: busy + 1001)
        monkeypatch.setattr("bench.ports.random.sample", lambda population, k: [busy, busy + 1, busy + 2])
        assert ports.free_port() != busy


def test_gunicorn_whose_port_is_taken_starts_again_on_another(monkeypatch: pytest.MonkeyPatch, moto_endpoint: str,
                                                              demo_table: tuple[str, list[dict]]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = taken.getsockname()[1]
        handed = iter([busy])
        real = ports.free_port
        monkeypatch.setattr(serving, "free_port", lambda: next(handed, None) or real())
        server = serving.Gunicorn(serving.dashboard_env(moto_endpoint, demo_table[0]), workers=1)
        try:
            server.wait_until_up(seconds=60)
            assert server.attempts == 2
            assert server.port != busy
        finally:
            server.stop()
