"""What the delete views share: which ids were asked for, the typed confirmation, running and auditing, the summary.

The pages (views/test_events.py) and the JSON API (views/test_events_api.py) delete by the same rules; the store
(store/deletes.py) makes each delete conditional on the test mark, so no rule here is what keeps pipeline events.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

from flask import current_app

from dashboard.questions.listing import BadParameter
from dashboard.store import DeleteReport, DeleteResult, deadline
from dashboard.store.deletes import DELETED, FAILED, MAX_DELETE_IDS, MISSING, OUTCOMES, REFUSED, UNKNOWN

from . import audit
from .environments import current, current_table

# A bulk delete is a job, not a page: it may take the request's deadline once per started hundred ids, up to this.
BULK_DEADLINE_MAX_SECONDS = 20.0
# How each outcome reads in a sentence, for one id and for several.
_PHRASES = {
    DELETED: ("deleted {n}", "deleted {n}"),
    REFUSED: ("{n} was not a test event (kept)", "{n} were not test events (kept)"),
    MISSING: ("{n} was not found", "{n} were not found"),
    UNKNOWN: ("{n} may have been deleted (DynamoDB did not confirm it)",
              "{n} may have been deleted (DynamoDB did not confirm them)"),
    FAILED: ("{n} was not deleted (DynamoDB did not do it: try again)",
             "{n} were not deleted (DynamoDB did not do them: try again)"),
}


def environment_to_confirm() -> str | None:
    """The name to type before a delete, in a production environment that allows writes; else None."""
    environment = current()
    return environment.name if environment.confirm_writes else None


def confirmation_problem(typed: object) -> str | None:
    """Why a delete is not confirmed (the environment's name was not typed), or None: the same rule as inserts."""
    name = environment_to_confirm()
    if name is None or (isinstance(typed, str) and typed.strip() == name):
        return None
    return f"type {name} (the environment's name) to confirm a delete in production; nothing was deleted"


def requested_ids(asked: Iterable[object]) -> list[str]:
    """The ids to delete, each once, in the order given: 1 to MAX_DELETE_IDS non-empty strings, else a 400."""
    ids: list[str] = []
    for event_id in asked:
        if not isinstance(event_id, str) or not event_id:
            raise BadParameter("every id must be a non-empty string (an event id exactly as stored)")
        ids.append(event_id)
    unique = list(dict.fromkeys(ids))
    if not unique:
        raise BadParameter("no event chosen: select the test events to delete (form field id, repeated)")
    if len(unique) > MAX_DELETE_IDS:
        raise BadParameter(f"at most {MAX_DELETE_IDS:,} events can be deleted at once, not {len(unique):,}")
    return unique


def delete_one(event_id: str) -> DeleteResult:
    result = current_table().deletes.delete(event_id)
    audit.delete_attempt([event_id], result.outcome, {result.outcome: [event_id]})
    return result


def bulk_deadline_seconds(count: int) -> float:
    """DASHBOARD_DEADLINE_SECONDS per started hundred ids, at most BULK_DEADLINE_MAX_SECONDS (never below one)."""
    per_hundred: float = current_app.config["SETTINGS"].deadline_seconds
    return max(per_hundred, min(per_hundred * math.ceil(count / 100), BULK_DEADLINE_MAX_SECONDS))


def delete_many(event_ids: list[str]) -> DeleteReport:
    """Each id's conditional delete, under a deadline of its own (a hung DynamoDB still opens the breaker after
    a few timeouts, and the calls left then fail at once as not deleted)."""
    with deadline.started(bulk_deadline_seconds(len(event_ids))):
        report = current_table().deletes.delete_many(event_ids)
    results = {outcome: report.ids(outcome) for outcome in OUTCOMES if report.ids(outcome)}
    audit.delete_attempt(event_ids, next(iter(results)) if len(results) == 1 else "mixed", results)
    return report


def refused_unconfirmed(event_ids: list[str]) -> None:
    audit.delete_attempt(event_ids, "invalid")


def summary(report: DeleteReport) -> str:
    """"Deleted 49, 1 was not a test event.": how many of each outcome, deleted first."""
    counts = report.counts()
    parts = [_PHRASES[outcome][0 if counts[outcome] == 1 else 1].format(n=f"{counts[outcome]:,}")
             for outcome in OUTCOMES if counts[outcome] or outcome == DELETED]
    sentence = ", ".join(parts)
    return sentence[:1].upper() + sentence[1:] + "."
