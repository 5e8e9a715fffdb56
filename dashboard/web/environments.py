"""Which environment a request is in: the first URL segment, its table built on first use, its identity and lock.

The segment is moved from PATH_INFO to SCRIPT_NAME before Flask sees the request, so every route, every
`url_for` and every blueprint, whoever wrote it, works in each environment unchanged: `/prod/events`
is `/events` mounted at `/prod`. With no environments configured nothing is moved, and the single
table of EVENTS_TABLE is served at today's URLs.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from flask import Flask, abort, current_app, has_request_context, redirect, request
from werkzeug.local import LocalProxy
from werkzeug.wrappers import Response

from dashboard.questions.cursors import Cursors
from dashboard.settings.config import ConfigError, Environment, Settings
from dashboard.store import BackendUnavailable, Table

from . import console

READ_ONLY_MESSAGE = "This dashboard is read-only (DASHBOARD_READ_ONLY): test events cannot be inserted."
# Pages that exist only to write: refused in read-only mode like the writes themselves.
_WRITE_FORMS = frozenset({"events.new_event"})
# The writes that delete test events (views/test_events.py, views/test_events_api.py): refused with words to match.
_DELETES = frozenset({"test_events.delete_event", "test_events.delete_events",
                      "test_events_api.delete_event", "test_events_api.delete_events"})

# Where the middleware leaves the environment's name and the mount point in front of it, for the app.
ENVIRONMENT_KEY = "dashboard.environment"
_BASE_KEY = "dashboard.script_root"
# Bound to one environment's table or listing: dropped when the same view is opened in another environment.
SWITCH_DROPS = ("cursor", "back", "copy")
# Paths that answer with no environment in front of them.
_ROOT_ENDPOINTS = frozenset({"static", "status.healthz"})


class Environments:
    """The environments of one process: each with its own clients (so its own breaker), built once on first use."""

    def __init__(self, settings: Settings, table: Table | None = None):
        self.named = bool(settings.environments)
        self.all: tuple[Environment, ...] = settings.environments or (
            Environment("", settings),)
        self.by_name = {environment.name: environment for environment in self.all}
        self._tables: dict[str, Table] = {}
        self._locks = {environment.name: threading.Lock() for environment in self.all}
        self._cursors = {environment.name: Cursors(settings.secret_key, environment.name)
                         for environment in self.all}
        if table is not None:
            self._tables[self.all[0].name] = table
        elif not self.named:
            # The one table is opened at start, as it always was: a missing region stops the app there.
            self._tables[""] = Table.open(settings)

    @property
    def first(self) -> Environment:
        return self.all[0]

    def table(self, environment: Environment) -> Table:
        """Its table, on clients of its own: built by the first request that needs it, one thread building."""
        found = self._tables.get(environment.name)
        if found is not None:
            return found
        with self._locks[environment.name]:
            found = self._tables.get(environment.name)
            if found is None:
                try:
                    found = self._tables[environment.name] = Table.open(environment.settings)
                except ConfigError as error:
                    # Only this environment cannot be reached; the others are served as usual.
                    raise BackendUnavailable(f"Environment {environment.name}: {error}", "ClientSetup") from None
        return found

    def built(self, environment: Environment) -> Table | None:
        """Its table if a request has built it already (the header never builds one just to show it)."""
        return self._tables.get(environment.name)

    def cursors(self, environment: Environment) -> Cursors:
        return self._cursors[environment.name]

    def here(self) -> Environment:
        """The environment of the current request; outside one (the CLI, tests), the first."""
        name = request.environ.get(ENVIRONMENT_KEY, "") if has_request_context() else ""
        return self.by_name.get(name) or self.first

    def mount(self, wsgi_app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        """WSGI middleware moving a known environment's segment from PATH_INFO to SCRIPT_NAME."""
        names = set(self.by_name)

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            path = environ.get("PATH_INFO", "")
            segment, _, rest = path[1:].partition("/")
            environ[_BASE_KEY] = environ.get("SCRIPT_NAME", "")
            if segment in names:
                environ[ENVIRONMENT_KEY] = segment
                environ["SCRIPT_NAME"] = environ[_BASE_KEY] + "/" + segment
                environ["PATH_INFO"] = "/" + rest
            return wsgi_app(environ, start_response)

        return app


def environments() -> Environments:
    found: Environments = current_app.extensions["environments"]
    return found


def current() -> Environment:
    return environments().here()


def current_table() -> Table:
    return environments().table(current())


def switch_url(environment: Environment) -> str:
    """The view shown now, in `environment`: same path, same search, range and filters; no cursor."""
    query = [(name, value) for name, value in request.args.items(multi=True) if name not in SWITCH_DROPS]
    path = f"{request.environ.get(_BASE_KEY, '')}/{environment.name}{request.path}"
    return path + ("?" + urlencode(query) if query else "")


def _outside_any() -> Response | None:
    """With environments, a path outside all of them is `/` (to the first one), /healthz, static files, or a 404."""
    if request.environ.get(ENVIRONMENT_KEY) or request.endpoint in _ROOT_ENDPOINTS:
        return None
    if request.path == "/":
        # To its landing page, the recent past (events.index).
        return redirect(request.script_root + "/" + environments().first.name + "/")
    names = ", ".join(environment.name for environment in environments().all)
    abort(404, description=f"No such environment: this dashboard serves {names}, as the first part of the path "
                           f"(such as /{environments().first.name}/events).")


def identity() -> dict[str, Any]:
    """What the header and title say about where the page reads: name, table, region, account, production.

    A page outside every environment (a 404 for an unknown one) names none.
    """
    found = environments()
    inside = not found.named or bool(request.environ.get(ENVIRONMENT_KEY))
    environment = found.here()
    table = found.built(environment)
    region = environment.settings.region or (table.identity.region if table else None)
    return {"environment": environment if inside else None, "environments": found, "switch_url": switch_url,
            "console": console,
            "env_base": request.environ.get(_BASE_KEY, ""), "env_region": region,
            "env_account": table.identity.account if table else None}


def write_lock_message(environment: Environment, done: str = "inserted") -> str:
    if environment.writes:
        return READ_ONLY_MESSAGE.replace("inserted", done)
    kind = "the production environment" if environment.production else "the environment"
    return (f"Writes are off in {kind} {environment.name}: its configuration does not say `writes = true`, "
            f"so test events cannot be {done} here.")


def refuse_writes() -> None:
    """Where writes are off (read-only mode, a locked environment), every write and write form is a 403: the one
    place that enforces it."""
    environment = current()
    if environment.settings.read_only and (request.method not in ("GET", "HEAD", "OPTIONS")
                                           or request.endpoint in _WRITE_FORMS):
        abort(403, description=write_lock_message(environment,
                                                  "deleted" if request.endpoint in _DELETES else "inserted"))


def mount(app: Flask, found: Environments) -> None:
    """Mount the environments before any proxy fix wraps the app (which must see the request first)."""
    app.extensions["environments"] = found
    if found.named:
        # Code that reads these reads the request's environment (its table, its cursors, its settings and lock);
        # outside a request (the CLI, a test), the first one.
        app.extensions["events_table"] = LocalProxy(lambda: found.table(found.here()))
        app.extensions["events_cursors"] = LocalProxy(lambda: found.cursors(found.here()))
        app.config["SETTINGS"] = LocalProxy(lambda: found.here().settings)
        app.wsgi_app = found.mount(app.wsgi_app)  # type: ignore[method-assign]
    else:
        app.extensions["events_table"] = found.table(found.first)
        app.extensions["events_cursors"] = found.cursors(found.first)
    app.context_processor(identity)


def guard(app: Flask, found: Environments) -> None:
    """After sign-in: a path outside every environment, then writes where they are off (before CSRF protection)."""
    if found.named:
        app.before_request(_outside_any)
    if any(environment.settings.read_only for environment in found.all):
        # Registered before CSRF protection, so a refused write is a 403 whatever it carries.
        app.before_request(refuse_writes)
