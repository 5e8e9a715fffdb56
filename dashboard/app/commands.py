"""`flask` commands for any endpoint, AWS included: create the table as the spec says, seed demo events."""
from __future__ import annotations

from datetime import datetime

import click
from flask import Flask, current_app

from dashboard.settings.config import Environment
from dashboard.settings.time_index import TimeIndexConfig
from dashboard.store import StoreError, Table
from dashboard.store.admin import TableAdmin
from dashboard.web.environments import Environments

from . import backfill
from .demo import demo_events


def _environment(environment: str | None) -> Environment:
    """The environment of `--env NAME` (with environments configured), else the first (or only) one."""
    found: Environments = current_app.extensions["environments"]
    if environment is not None and environment not in found.by_name:
        raise click.BadParameter(f"no environment {environment!r}: choose one of "
                                 f"{', '.join(name for name in found.by_name if name) or '(none configured)'}",
                                 param_hint="--env")
    return found.by_name[environment] if environment else found.first


def _table(environment: Environment) -> Table:
    found: Environments = current_app.extensions["environments"]
    try:
        return found.table(environment)
    except StoreError as error:
        raise click.ClickException(error.message) from None


def _admin(environment: str | None) -> TableAdmin:
    table = _table(_environment(environment))
    return TableAdmin(table.clients, table.name)


_ENVIRONMENT = click.option("--env", "environment", default=None,
                            help="The environment (DASHBOARD_CONFIG, ENVIRONMENTS) whose table to use; "
                                 "default: the first.")


def register(app: Flask) -> None:
    @app.cli.command("create-table")
    @click.option("--pitr/--no-pitr", default=True, show_default=True, help="Turn on point-in-time recovery.")
    @click.option("--time-index", "with_time_index", is_flag=True,
                  help="Also create the time-sorted index (TIME_INDEX, default time-index: time_bucket + timestamp).")
    @_ENVIRONMENT
    def create_table(pitr: bool, with_time_index: bool, environment: str | None) -> None:
        """Create the events table (hash key event_id, GSI timestamp-index, on-demand, SSE, PITR)."""
        chosen = _environment(environment)
        admin = _admin(environment)
        index = (chosen.settings.time_index or TimeIndexConfig()).name if with_time_index else None
        try:
            created = admin.create_table(point_in_time_recovery=pitr, time_index=index)
        except StoreError as error:
            raise click.ClickException(error.message) from None
        click.echo(f"{'Created' if created else 'Already there:'} table {admin.table_name} at {admin.endpoint_url}")

    @app.cli.command("hash-password")
    @click.password_option(help="The password (asked twice when not given).")
    def hash_password(password: str) -> None:
        """Print a werkzeug password hash for DASHBOARD_USERS (name:HASH,name2:HASH2)."""
        from werkzeug.security import generate_password_hash

        click.echo(generate_password_hash(password))

    @app.cli.command("seed-demo")
    @click.option("--count", default=2400, show_default=True, type=click.IntRange(1, 1_000_000))
    @click.option("--day", type=click.DateTime(formats=["%Y-%m-%d"]),
                  help="UTC day of the events (default: yesterday).")
    @click.option("--seed", default=7, show_default=True, help="Random seed: the same seed writes the same events.")
    @_ENVIRONMENT
    def seed_demo(count: int, day: datetime | None, seed: int, environment: str | None) -> None:
        """Write realistic S3-style demo events (repeatable: the same seed overwrites the same ids)."""
        admin = _admin(environment)
        try:
            written = admin.put_many(demo_events(count, day.date() if day else None, seed))
        except StoreError as error:
            raise click.ClickException(error.message) from None
        click.echo(f"Wrote {written} demo events to {admin.table_name}")

    backfill.register(app, _ENVIRONMENT, _environment, _table)
