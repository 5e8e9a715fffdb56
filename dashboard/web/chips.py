"""The listing's conditions as chips: what each says and the listing's parameters without it (its ×)."""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

from dashboard.questions import query as query_box
from dashboard.questions.listing import FILTER_PARAMETERS, ListingQuery
from dashboard.store.conditions import Not


class Chip(NamedTuple):
    label: str  # as typed (a term of the query box) or `field = value` (a structured filter)
    args: dict[str, str | int]  # the listing's parameters without this condition
    negated: bool


def listing_chips(query: ListingQuery) -> list[Chip]:
    """One chip per structured filter and per term of the query box, in the order they are shown in the form."""
    args = query.link_args()
    chips = []
    for parameter in FILTER_PARAMETERS:
        if parameter in args:
            label = f"{parameter}:{query_box.quoted(str(args[parameter]))}{'*' if parameter == 'key' else ''}"
            chips.append(Chip(label, {name: value for name, value in args.items() if name != parameter}, False))
    for condition in query.filters.conditions:
        rest = query_box.without(query.q, condition)
        kept = {name: value for name, value in args.items() if name != "q"}
        chips.append(Chip(condition.text, {**kept, **({"q": rest} if rest else {})}, isinstance(condition, Not)))
    return chips


def literal_stars(query: ListingQuery) -> list[tuple[str, str, dict[str, str | int]]]:
    """Structured fields whose value ends with `*`, matched exactly as ever (a literal star): each with the listing
    that asks for "begins with" through the query box instead, so that an empty answer is never a silent one."""
    args = query.link_args()
    found = []
    for parameter in ("event_type", "source", "event_name"):
        value = str(args.get(parameter, ""))
        if value.endswith("*") and value.count("*") == 1 and len(value) > 1:
            term = f"{parameter}:{query_box.quoted(value[:-1])}*"
            rest = {name: given for name, given in args.items() if name != parameter}
            found.append((parameter, value, {**rest, "q": query_box.joined(query.q, term)}))
    return found


def refined(query: ListingQuery, field: str, value: Any, negate: bool = False,
            terms: str | None = None) -> dict[str, str | int]:
    """The listing's parameters with one more condition: "only this" value of a field, or (negated) "all but this";
    `terms` when the condition is given as the query box's text already (a size bucket)."""
    args = query.link_args()
    extra = terms if terms is not None else query_box.term(field, value, negate)
    return {**args, "q": query_box.joined(query.q, extra)}


def refine_term(field: str, kind: str, wire_value: str, negate: bool = False) -> str:
    """The query box's term for one stored String or Number (its DynamoDB type tag `kind`) of an event's page; empty
    when the attribute's name cannot be named in the query box (such as a name with a space or a dot)."""
    made = query_box.term(field, Decimal(wire_value) if kind == "N" else wire_value, negate)
    try:
        query_box.parse(made)
    except query_box.QueryError:
        return ""
    return made


def listing_refined(listing_args: Mapping[str, str], term: str) -> dict[str, str]:
    """A listing's parameters (as its URL gave them) with one more term in the query box, from its first page."""
    kept = {name: value for name, value in listing_args.items() if name != "cursor"}
    return {**kept, "q": query_box.joined(kept.get("q", ""), term)}


def listing_args(query_string: str) -> dict[str, str]:
    """A listing URL's parameters, the last of each name (as the listing reads them)."""
    return dict(parse_qsl(query_string, keep_blank_values=False))
