"""`flask backfill-time-index`: the estimate, the progress bar and Ctrl-C around the store's backfill."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import Flask

from dashboard.settings.config import Environment
from dashboard.store import StoreError, Table
from dashboard.store.backfill import Backfill, Checkpoint, Estimate, Progress, RateLimit


def describe(estimate: Estimate) -> str:
    if estimate.items is None:
        return "DynamoDB did not say how many items the table holds: no estimate."
    cost = estimate.cost_usd
    return (f"About {estimate.items:,} items ({(estimate.table_bytes or 0) / 1e6:,.1f} MB, DynamoDB's approximate "
            f"figures): at most {estimate.write_units or 0:,} write units if every item needs its time_bucket, "
            f"{estimate.read_units or 0:,.0f} read units for the Scan"
            + (f", about ${cost:,.2f} on demand (us-east-1 prices)." if cost is not None else "."))


def summary(progress: Progress) -> str:
    return (f"scanned {progress.scanned:,}: wrote {progress.written:,} ({progress.consumed_wcu:,.0f} WCU), "
            f"{progress.already_right:,} already right, {progress.without_timestamp:,} without a timestamp "
            f"(left out of the index), {progress.changed_meanwhile:,} changed meanwhile (left alone)")


def register(app: Flask, environment_option: Callable[[Any], Any], choose: Callable[[str | None], Environment],
             open_table: Callable[[Environment], Table]) -> None:
    @app.cli.command("backfill-time-index")
    @click.option("--dry-run", is_flag=True, help="Only print the estimate of items, write units and cost.")
    @click.option("--rate", default=100.0, show_default=True, type=click.FloatRange(1, 40_000),
                  help="Write units a second, at most, over all segments.")
    @click.option("--segments", default=4, show_default=True, type=click.IntRange(1, 64),
                  help="Parallel Scan segments (threads).")
    @click.option("--checkpoint", type=click.Path(dir_okay=False, path_type=Path),
                  help="Where progress is kept for a resume (default: .backfill-TABLE-INDEX.json here).")
    @environment_option
    def backfill_time_index(dry_run: bool, rate: float, segments: int, checkpoint: Path | None,
                            environment: str | None) -> None:
        """Add time_bucket to every item that lacks it (or holds a wrong one), resumable after a crash or Ctrl-C."""
        chosen = choose(environment)
        config = chosen.settings.time_index
        if config is None:
            raise click.ClickException("no time index is configured: set TIME_INDEX (and TIME_INDEX_BUCKET, "
                                       "TIME_INDEX_SHARDS), or time_index in the environment's table")
        table = open_table(chosen)
        job = Backfill(table.clients.dynamodb, table.name, config)
        path = checkpoint or Path(f".backfill-{table.name}-{config.name}.json")
        try:
            estimate = job.estimate()
        except StoreError as error:
            raise click.ClickException(error.message) from None
        click.echo(f"Table {table.name}, index {config.name} ({config.bucket} buckets, {config.shards} shards).")
        click.echo(describe(estimate))
        if dry_run:
            return
        state = Checkpoint.load(path, table.name, config.name, segments)
        if state.resumed:
            click.echo(f"Resuming from {path}: {summary(state.progress)}")
        with click.progressbar(length=estimate.items or 0, label="Backfilling", show_eta=True,
                               show_percent=True) as bar:
            seen = [state.progress.scanned]

            def advance(progress: Progress) -> None:
                bar.update(progress.scanned - seen[0])
                seen[0] = progress.scanned

            try:
                done = job.run(state, path, RateLimit(rate), advance)
            except KeyboardInterrupt:
                click.echo(f"\nStopped. Progress is kept in {path}; the same command resumes. "
                           f"{summary(state.progress)}")
                raise SystemExit(130) from None
            except StoreError as error:
                raise click.ClickException(
                    f"{error.message} (progress kept in {path}; the same command resumes)") from None
        path.unlink(missing_ok=True)
        click.echo(f"Done: {summary(done)}.")
