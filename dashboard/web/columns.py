"""The events table with chosen columns (`columns=`): each row's cells, and the attributes a page offers to choose."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

from markupsafe import Markup, escape

from dashboard.formats import present
from dashboard.store.records import Event

from .rows import COLUMNS as DEFAULT_COLUMNS


class Cell(NamedTuple):
    name: str
    text: Markup
    title: Markup  # the exact value (a size's bytes), for the tooltip


class ChosenRow(NamedTuple):
    event_id: Markup
    href: Markup
    cells: list[Cell]


def chosen_rows(events: Iterable[Event], columns: tuple[str, ...], href: Callable[[str], str]) -> list[ChosenRow]:
    rows = []
    for event in events:
        values = event.values_of(columns)
        cells = []
        for name in columns:
            value = values.get(name)
            exact = "" if value is None else present.cell(value)
            shown = present.human_bytes(value) if name == "size" and value is not None else exact
            cells.append(Cell(name, escape(shown), escape(exact)))
        rows.append(ChosenRow(escape(event.event_id), escape(href(event.event_id)), cells))
    return rows


def offered(events: Iterable[Event], chosen: tuple[str, ...]) -> list[str]:
    """The attributes to choose from: the default nine, then every other one seen on the page, then any chosen."""
    seen = dict.fromkeys(DEFAULT_COLUMNS)
    for event in events:
        seen.update(dict.fromkeys(sorted(event.item)))
    seen.update(dict.fromkeys(chosen))
    return list(seen)
