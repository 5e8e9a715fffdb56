"""A bad configuration stops the server once, printing why: gunicorn (gunicorn.conf.py, wsgi.py) and `flask run`."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
KEY = "test-secret-key-0123456789abcdef"
MESSAGE = "events dashboard cannot start"
# What a deployment sets, minus one mistake each (an AWS config file that holds no profile at all).
BASE = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/tmp", "SECRET_KEY": KEY, "DASHBOARD_AUTH": "off",
        "EVENTS_TABLE": "events-table", "AWS_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9"}
MISTAKES = {
    "project-without-environments": ({"PROJECT": "devops-studio"}, "PROJECT and ENVIRONMENTS go together"),
    # Found only when the boto3 session is built: by the app, not by the settings.
    "missing-aws-profile": ({"AWS_PROFILE": "no-such-profile"}, "AWS profile"),
}


def run(command: list[str], env: dict[str, str]) -> tuple[int, str, float]:
    started = time.monotonic()
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired as still_running:
        raise AssertionError(f"still running after 30 s: {still_running.stderr!r}") from None
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


@pytest.mark.parametrize("mistake", MISTAKES)
def test_gunicorn_with_a_bad_configuration_exits_non_zero_within_10_s_printing_why_once(mistake):
    overrides, why = MISTAKES[mistake]
    env = {**BASE, **overrides, "BIND": f"127.0.0.1:{free_port()}", "WEB_CONCURRENCY": "2"}
    code, output, took = run([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"], env)
    assert code != 0, output
    assert took < 10, (took, output)
    assert output.count(MESSAGE) == 1 and why in output, output
    assert "Booting worker" not in output, output  # stopped in the master, before any worker was forked


def test_a_worker_that_cannot_boot_exits_with_gunicorns_boot_error_code_so_gunicorn_halts():
    env = {**BASE, **MISTAKES["missing-aws-profile"][0]}
    code, output, _ = run([sys.executable, "-c", "import wsgi"], env)
    assert code == 3 and output.count(MESSAGE) == 1, output


@pytest.mark.parametrize("mistake", MISTAKES)
def test_flask_run_with_a_bad_configuration_exits_non_zero_printing_why(mistake):
    overrides, why = MISTAKES[mistake]
    code, output, took = run([str(BIN / "flask"), "--app", "wsgi:app", "run", "--port", str(free_port())],
                             {**BASE, **overrides})
    assert code != 0 and why in output, output
    assert took < 10, (took, output)
