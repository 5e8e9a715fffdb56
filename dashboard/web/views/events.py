"""The events pages: the paged list, timestamp and range search, one event, and the test-event form."""
from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from dashboard.formats import present, times
from dashboard.questions import listing, nearest, tail
from dashboard.questions.listing import BadParameter
from dashboard.questions.timeline import count as count_timeline, slot as timeline_slot
from dashboard.store import BackendUnavailable, EventExists, StoreError, WriteOutcomeUnknown

from .. import audit, chips, posted
from ..forms import EventForm
from . import landing as landing_view
from .common import cursors, is_htmx, read_budget, render_page_or_fragment, retry_later, search_form, table

bp = Blueprint("events", __name__)
log = logging.getLogger(__name__)


def _safe_back(target: str | None) -> str | None:
    """Only a list URL of this app may be offered as the way back (no open redirect)."""
    if target and target.startswith("/events") and not target.startswith("//") and "\\" not in target:
        # Within this app's mount point, which holds the environment's segment (environments.py).
        return request.script_root + target
    return None


def _referring_list() -> str | None:
    """The list page this event was opened from, as the browser names it (Referrer-Policy: same-origin).

    A row's link carries no way back (the list's URL is up to kilobytes long deep in the table, once per row):
    with JavaScript the link opened gets `back=` (static/app.js), without it the Referer is the way back.
    """
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host or referrer.path != url_for("events.list_events"):
        return None
    # In the form `back=` takes: the path within this app, as request.full_path gives it.
    path = referrer.path[len(request.script_root):]
    return f"{path}?{referrer.query}" if referrer.query else path


@bp.get("/")
def index() -> Response:
    """The landing page: the most recent events, newest first, over a window ending now (windows.LANDING_FROM).

    When that window is empty it says so and shows the table in storage order below (landing.fallback).
    """
    return _list_page(landing_view.args(request.args), landing=True)


@bp.get("/events")
def list_events() -> Response:
    """One page of events, of one second (through the index, never a scan) or of a time range; filtered or not."""
    return _list_page(request.args)


def _list_page(args: Mapping[str, str], landing: bool = False) -> Response:
    now = datetime.now(UTC)
    refresh = landing_view.refresh(args)
    query = listing.parse_query(args, cursors(), now)
    page = listing.fetch(table(), query, cursors(), read_budget())
    return render_page_or_fragment(
        "events/list.html", "events/_table.html",
        listing=page,
        nearest=nearest.nearest(table(), page),
        item_count=page.item_count,
        timeline_slot=timeline_slot(query),
        live_tail=tail.offer(page, now, current_app.config["SETTINGS"].tail_settle_seconds),
        **landing_view.context(page, refresh, landing),
        **search_form(),
        here=request.full_path.rstrip("?"),
    )


@bp.get("/timeline")
def show_timeline() -> Response:
    """A range's events per second, minute or hour and its total, or one second's total: counted on their own.

    The list page loads it (htmx, once its rows are shown) or links to it (without JavaScript).
    """
    query = listing.parse_query(request.args, cursors())
    return render_page_or_fragment("events/timeline.html", "events/_timeline.html",
                                   timeline=count_timeline(table(), query, read_budget()),
                                   timeline_slot=timeline_slot(query), counts_cache=table().counts.cache)


def _refining() -> tuple[str | None, dict[str, str] | None]:
    """`refine=FIELD` (a row's value followed without JavaScript): the field, and the parameters of the listing the
    event was opened from (`back=`, else the Referer; the landing page as the window it shows), so that "only this"
    and "all but this" refine that listing rather than the minutes around the event."""
    field = request.args.get("refine") or None
    back = request.args.get("back") or None
    if back is not None:  # within the app, as the rows' data-back gives it (request.full_path)
        came_from, path = urlsplit(back), urlsplit(back).path
    else:
        came_from = urlsplit(request.referrer or "")
        root = request.script_root
        mounted = came_from.netloc == request.host and came_from.path.startswith(root)
        path = came_from.path[len(root):] if mounted else ""
    if came_from.netloc not in ("", request.host) or came_from.path.startswith("//"):
        return field, None
    if path == "/events":
        return field, chips.listing_args(came_from.query)
    if path in ("", "/") and (back is not None or came_from.netloc):
        return field, landing_view.args(chips.listing_args(came_from.query))
    return field, None


@bp.get("/events/<event_id:event_id>")
def show_event(event_id: str) -> str:
    """Every attribute of one event, exactly as stored, and the raw item."""
    event = table().events.get(event_id)
    moment = times.try_parse(event.get("timestamp"))
    refine_field, refine_listing = _refining()
    return render_template(
        "events/detail.html",
        event=event,
        entries=present.typed_entries(event.item),
        raw_json=present.wire_json(event.item),
        search_timestamp=times.format_stored(moment) if moment else None,
        neighbours=times.neighbours(times.format_stored(moment)) if moment else None,
        around=[(minutes, times.around(times.format_stored(moment), minutes)) for minutes in (1, 5)] if moment else [],
        back=_safe_back(request.args.get("back") or _referring_list()),
        refine_field=refine_field, refine_listing=refine_listing,
    )


@bp.get("/events/new")
def new_event() -> Response:
    """The insert form, pre-filled with a fresh id and the current time (read-only mode refuses it: common.py).

    `?copy=ID` fills it with that event's attributes, for testing the pipeline with a real event's shape.
    """
    copy_of = request.args.get("copy")
    original = table().events.get(copy_of) if copy_of else None
    form = EventForm(formdata=None)
    form.prefill(original.values if original else None)
    return render_page_or_fragment("events/new.html", "events/_form.html", form=form, copy_of=copy_of)


@bp.get("/go")
def go_to_event() -> Response:
    """The "Go to event" box: opens an event by id; a pasted id loses the spaces around it."""
    event_id = (request.args.get("event_id") or "").strip()
    if not event_id:
        raise BadParameter("event_id is empty: paste or type the id of an event")
    return redirect(url_for("events.show_event", event_id=event_id), code=303)


@bp.post("/events")
def create_event() -> Response:
    """Insert a test event; an id that exists already is refused and left untouched.

    In read-only mode create_app refuses every write before it gets here (and before CSRF).
    Every attempt leaves one audit line: who, which id, and what came of it.
    """
    formdata, problems = posted.fields()
    form = EventForm(formdata=formdata)
    if not form.validate_posted(problems):
        audit.insert_attempt(form.event_id.data, "invalid")
        return render_page_or_fragment("events/new.html", "events/_form.html", status=422, form=form)
    try:
        event = table().events.put_new(form.to_item())
    except StoreError as error:
        audit.insert_attempt(form.event_id.data, _outcome(error))
        return _not_written(form, error)
    audit.insert_attempt(event.event_id, "written")
    # The Location is the event's own URL, so that it can be bookmarked and shared; the one-time
    # "inserted" note rides in the session instead of the query string.
    flash("Event inserted.", "inserted")
    location = url_for("events.show_event", event_id=event.event_id)
    if is_htmx():
        # htmx follows a 303 inside its own request; it navigates on HX-Redirect instead.
        response = current_app.make_response(("", 201))
        response.headers["HX-Redirect"] = location
        response.headers["Location"] = location
        return response
    return redirect(location, code=303)


def _outcome(error: StoreError) -> str:
    for kind, outcome in ((EventExists, "duplicate"), (WriteOutcomeUnknown, "unknown"),
                          (BackendUnavailable, "unavailable")):
        if isinstance(error, kind):
            return outcome
    return "refused"


def _not_written(form: EventForm, error: StoreError) -> Response:
    """The form again, filled in, saying why: a flaky backend must not cost the user what they typed."""
    if isinstance(error, EventExists):
        form.event_id.errors = [error.message]
        return render_page_or_fragment("events/new.html", "events/_form.html", status=409, form=form,
                                       existing_id=form.event_id.data)
    if isinstance(error, WriteOutcomeUnknown):
        return retry_later(render_page_or_fragment("events/new.html", "events/_form.html", status=503, form=form,
                                                   unknown_id=error.event_id))
    if isinstance(error, BackendUnavailable):
        log.warning("insert not written: %s", error.detail)
        return retry_later(render_page_or_fragment("events/new.html", "events/_form.html", status=503, form=form,
                                                   backend_error=error.message))
    raise error
