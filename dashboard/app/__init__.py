"""The app factory: create_app() wires configuration, the store, blueprints, error pages and headers; the CLI."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request
from flask.json.provider import JSONProvider
from flask_wtf.csrf import CSRFProtect

from dashboard.formats import present
from dashboard.questions import breakdown, health, tallies
from dashboard.settings.config import ConfigError, Settings
from dashboard.store import Table, deadline
from dashboard.web import audit, auth, environments, posted, rows
from dashboard.web.chips import listing_chips, listing_refined, literal_stars, refine_term, refined
from dashboard.web.columns import offered as offered_columns
from dashboard.web.environments import Environments
from dashboard.web.views import (
    api,
    breakdowns,
    downloads,
    errors,
    events,
    freshness,
    s3_exports,
    status,
    tail,
    test_events,
    test_events_api,
)
from dashboard.web.views.common import EventIdConverter, chosen_rows, event_rows, remembered_links

from . import commands

ROOT = Path(__file__).resolve().parents[2]
log = logging.getLogger(__name__)

# No inline script or style anywhere: this policy holds for every page.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)

__all__ = ["create_app", "ConfigError", "Settings"]


class ExactJSONProvider(JSONProvider):
    """JSON responses whose numbers keep every stored digit (Decimal is never turned into float)."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        return present.dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return present.loads(s, **kwargs)


def create_app(config: Settings | Mapping[str, Any] | None = None, *, table: Table | None = None) -> Flask:
    """Build the app. `config` is a Settings, or overrides of the environment variables (tests).

    `table` lets a test hand in a table whose clients it watches or stubs; by default the app opens its own.
    """
    settings = config if isinstance(config, Settings) else Settings.from_env(config)
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SETTINGS=settings,
        # A form left open over a long shift still submits; the token is still bound to the session.
        WTF_CSRF_TIME_LIMIT=None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=1024 * 1024,
        SEND_FILE_MAX_AGE_DEFAULT=3600,
    )
    app.json = ExactJSONProvider(app)
    # Ids may hold '//', which werkzeug would otherwise merge and redirect away from.
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False

    app.url_map.converters["event_id"] = EventIdConverter

    # One table per environment (the first segment of the URL), or the single EVENTS_TABLE at today's URLs.
    found = Environments(settings, table)
    environments.mount(app, found)
    # Before anything else answers: a request id for the log, then who is asking.
    audit.register(app)
    auth.register(app, settings)
    environments.guard(app, found)

    @app.before_request
    def _start_deadline() -> None:
        # Every DynamoDB call this request makes, and their retries, share one deadline.
        g.dynamodb_deadline = deadline.start(settings.deadline_seconds)

    @app.teardown_request
    def _end_deadline(_error: BaseException | None) -> None:
        token = g.pop("dynamodb_deadline", None)
        if token is not None:
            deadline.finish(token)

    posted.register(app)  # before CSRF protection, which reads the form it prepares
    CSRFProtect(app)

    app.register_blueprint(events.bp)
    app.register_blueprint(downloads.bp)
    app.register_blueprint(s3_exports.bp)
    app.register_blueprint(tail.bp)
    app.register_blueprint(status.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(test_events.bp)
    app.register_blueprint(test_events_api.bp)
    app.register_blueprint(freshness.bp)
    app.register_blueprint(breakdowns.bp)
    errors.register(app)

    commands.register(app)

    app.jinja_env.filters.update(
        human_bytes=present.human_bytes,
        human_duration=present.human_duration,
        cell=present.cell,
        b64=present.b64,
        ago=present.ago,
        lag=present.lag,
        type_tag=present.type_tag,
        breakable=present.breakable,
        visible=present.visible,
        level=health.level,
        dimension=health.dimension_label,
    )
    app.jinja_env.globals["event_rows"] = event_rows  # the events table's rows, formatted once per page
    app.jinja_env.globals["url_for"] = remembered_links(app.url_for)
    app.jinja_env.globals["listing_chips"] = listing_chips  # the conditions over the table, each removable
    app.jinja_env.globals["literal_stars"] = literal_stars  # `event_name=ObjectRemoved:*` says what it asks
    app.jinja_env.globals["refined"] = refined  # a listing's parameters with one more condition ("only this")
    app.jinja_env.globals["refine_term"] = refine_term  # an event's value as a term of the query box
    app.jinja_env.globals["listing_refined"] = listing_refined  # a listing's URL parameters with one more term
    app.jinja_env.globals["breakdown_slot"] = breakdown.slot  # where a listing's top values and lag load
    app.jinja_env.globals["bucket_terms"] = tallies.bucket_terms  # a size bucket's "only this"
    app.jinja_env.globals["chosen_rows"] = chosen_rows  # the rows of a table with chosen columns
    app.jinja_env.globals["offered_columns"] = offered_columns  # the attributes a page offers as columns
    app.jinja_env.globals["default_columns"] = rows.COLUMNS

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"settings": found.here().settings, "type_names": present.TYPE_NAMES,
                "level_labels": health.LEVEL_LABELS, "current_user": audit.user_name()}

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.endpoint != "static":
            # Pages show live data: back/forward and bookmarks always ask the server again.
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app
