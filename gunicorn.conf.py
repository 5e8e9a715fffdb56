"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`."""
import ctypes
import os
import sys

# gunicorn halts, instead of starting another, when a worker exits with this code (gunicorn.arbiter).
WORKER_BOOT_ERROR = 3

# Loopback by default: the dashboard belongs behind a TLS proxy on the same host. In a container (or
# behind a load balancer that connects over the network) set BIND=0.0.0.0:8000 on purpose.
bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Threads mostly wait on DynamoDB (up to a request's deadline when it hangs): enough of them that a few hung
# pages do not hold up the rest, static files included. store/clients.py pools 32 connections per process.
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
# Page cursors carry the way back through up to 100 earlier pages; long ids make a long URL.
limit_request_line = 8190
# Every request's DynamoDB calls end by its deadline (DASHBOARD_DEADLINE_SECONDS, store/deadline.py);
# a request should never get near this.
timeout = 30
accesslog = "-"

# glibc gives threads that allocate at once malloc arenas of their own, up to 8 per core; a worker's threads (16
# here, and the store's pools) then keep up to 16 separate heaps, each grown to its own peak: about 5 MB more
# per worker under `make load`. Two arenas serve threads that mostly wait on the GIL as well.
# MALLOC_ARENA_MAX in the environment, when set, is glibc's to apply instead.
M_ARENA_MAX = -8  # glibc's malloc.h
MALLOC_ARENAS = 2


def post_fork(server, worker):
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # no C library that has it (macOS): nothing to cap
        return
    mallopt(M_ARENA_MAX, MALLOC_ARENAS)


def on_starting(server):
    """Build the app once, in the master, before any worker is forked: a bad configuration stops the server with
    its message printed once (workers that failed to boot would be restarted, at full CPU, forever). It makes no
    call to AWS; each worker builds its own app (and boto3 clients) after the fork, as before."""
    from dashboard import ConfigError, create_app

    try:
        create_app()
    except ConfigError as error:
        print(f"events dashboard cannot start: {error}", file=sys.stderr, flush=True)
        sys.exit(WORKER_BOOT_ERROR)
