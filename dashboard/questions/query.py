"""The query box (`q`): a Kibana-like syntax read by a lark grammar into the store's conditions (store/conditions.py).

    event_name:ObjectCreated:Put   equals (an unquoted value may hold colons)
    key:logs/*  key:"logs/2024 q1/"*   begins with (a `*` only at the end; inside quotes it is literal)
    -source:bucket-a               not
    source:(a or b or c)           any of
    size>1GiB  size>=1000  size<10KiB  size<=5   numbers with units B, KiB, MiB, GiB, TiB
    size:[1KiB TO 64KiB}           between: [ ] include the end, } leaves the upper one out (as in Lucene)
    processed_at:*  -processed_at:*   exists, does not exist

Terms are joined by AND (a space, or the word). Anything else is a QueryError (400) naming the character it
stopped at and what is supported: never a silent empty answer.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import cast

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from lark.tree import Meta
from werkzeug.exceptions import BadRequest

from dashboard.store.conditions import (
    MAX_ANY_OF,
    AnyOf,
    BeginsWith,
    Between,
    Compare,
    Condition,
    Equals,
    Exists,
    Not,
    Scalar,
)

MAX_QUERY_LENGTH = 2048
MAX_TERMS = 20
SUPPORTED = ("field:value, field:prefix*, -field:value, field:(a or b), field>n, field>=n, field<n, field<=n "
             "(units B, KiB, MiB, GiB), field:[a TO b] and field:[a TO b} (between), field:* (exists), -field:* "
             "(does not), \"quoted values\"; terms joined by a space or AND")
UNITS = {"B": 1, "KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3, "TiB": 1024 ** 4}
_NUMBER = re.compile(r"\A-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?\Z")
_SIZE = re.compile(r"\A(-?\d+(?:\.\d+)?)(B|KiB|MiB|GiB|TiB)?\Z")
_UNIT_LIKE = re.compile(r"\A-?\d+(?:\.\d+)?[A-Za-z]+\Z")
# What an unquoted value may be without quotes when the dashboard writes a term itself.
_PLAIN = re.compile(r'\A[^\s()"*\\\[][^\s()"*\\]*\Z')  # a "[" first opens a range

GRAMMAR = r"""
start: (clause (_AND? clause)*)?
clause: NOT? FIELD ":" value               -> match
      | NOT? FIELD ":" "(" alt (_OR alt)* ")" -> any_of
      | NOT? FIELD COMPARE VALUE           -> compare
      | NOT? FIELD COMPARE QUOTED          -> compare
      | NOT? FIELD ":" "[" bound _TO bound CLOSE -> between
value: VALUE | QUOTED | QUOTED_PREFIX
bound: BOUND | QUOTED
alt: VALUE | QUOTED
NOT: "-"
_AND: "and"i
_OR: "or"i
_TO: "to"i
CLOSE: "]" | "}"
BOUND: /[^\s()"\[\]{}]+/
COMPARE: ">=" | "<=" | ">" | "<"
FIELD: /[a-z_][a-z0-9_-]*/i
VALUE: /[^\s()"\[][^\s()"]*/
QUOTED_PREFIX: /"(?:[^"\\]|\\.)*"\*/
QUOTED: /"(?:[^"\\]|\\.)*"/
%import common.WS
%ignore WS
"""

_PARSER = Lark(GRAMMAR, parser="lalr", lexer="contextual", propagate_positions=True)


class QueryError(BadRequest):
    """A query that cannot be read: where (1-based character) and why, with what is supported."""

    def __init__(self, query: str, position: int, problem: str):
        self.query = query
        self.position = position
        self.problem = problem
        super().__init__(f"q: at character {position} of {query!r}: {problem}. Supported: {SUPPORTED}")


class _Refused(Exception):
    def __init__(self, position: int, problem: str):
        super().__init__(problem)
        self.position = position
        self.problem = problem


def _at(token: Token) -> int:
    return token.start_pos or 0


def _unquote(token: Token) -> str:
    body = token.value.rstrip("*")[1:-1] if token.type == "QUOTED_PREFIX" else token.value[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def _scalars(token: Token) -> tuple[Scalar, ...]:
    """An equality's values: a quoted value is text; an unquoted number matches the Number or the text it spells."""
    if token.type == "QUOTED":
        return (_unquote(token),)
    text = token.value
    if "*" in text:
        raise _Refused(_at(token) + text.index("*") + 1,
                       "a * stands for any ending only at the end of an unquoted value (quote it to mean *)")
    if _NUMBER.match(text):
        return (text, Decimal(text))
    return (text,)


def _compared(token: Token) -> Scalar:
    if token.type == "QUOTED":
        return _unquote(token)
    text = str(token.value)
    size = _SIZE.match(text)
    if size:
        return Decimal(size.group(1)) * UNITS[size.group(2) or "B"]
    if _UNIT_LIKE.match(text):
        raise _Refused(_at(token) + 1, f"{text!r} is not a number with a known unit ({', '.join(UNITS)})")
    if "*" in text:
        raise _Refused(_at(token) + text.index("*") + 1, "a * has no meaning in a comparison")
    return text


class _ToConditions(Transformer[Token, list[Condition]]):
    def __init__(self, query: str):
        super().__init__()
        self._query = query

    def _text(self, meta: Meta) -> str:
        return self._query[meta.start_pos:meta.end_pos]

    @staticmethod
    def _negated(parts: list[Token]) -> tuple[bool, list[Token]]:
        if parts and parts[0].type == "NOT":
            return True, parts[1:]
        return False, parts

    def _made(self, negate: bool, field: str, text: str, condition: Condition) -> Condition:
        return Not(field, text, condition) if negate else condition

    @v_args(meta=True)
    def match(self, meta: Meta, parts: list[Token]) -> Condition:
        negate, (field, value) = self._negated(parts)
        text = self._text(meta)
        token = value.children[0] if isinstance(value, Tree) else value
        assert isinstance(token, Token)
        if token.type == "QUOTED_PREFIX":
            made: Condition = BeginsWith(field.value, text, _unquote(token))
        elif token.type == "VALUE" and token.value == "*":
            made = Exists(field.value, text)
        elif token.type == "VALUE" and token.value.endswith("*"):
            prefix = token.value[:-1]
            if "*" in prefix:
                raise _Refused(_at(token) + prefix.index("*") + 1,
                               "a * stands for any ending only at the end of an unquoted value (quote it to mean *)")
            made = BeginsWith(field.value, text, prefix)
        else:
            made = Equals(field.value, text, _scalars(token))
        return self._made(negate, field.value, text, made)

    @v_args(meta=True)
    def any_of(self, meta: Meta, parts: list[Token]) -> Condition:
        negate, (field, *alternatives) = self._negated(parts)
        tokens = [alt.children[0] for alt in alternatives
                  if isinstance(alt, Tree) and isinstance(alt.children[0], Token)]
        if len(tokens) > MAX_ANY_OF:
            raise _Refused(_at(tokens[MAX_ANY_OF]) + 1, f"(a or b ...) takes at most {MAX_ANY_OF} values")
        values: list[Scalar] = []
        for token in tokens:
            assert isinstance(token, Token)
            values += [value for value in _scalars(token) if value not in values]
        text = self._text(meta)
        return self._made(negate, field.value, text, AnyOf(field.value, text, tuple(values)))

    @v_args(meta=True)
    def compare(self, meta: Meta, parts: list[Token]) -> Condition:
        negate, (field, symbol, value) = self._negated(parts)
        text = self._text(meta)
        return self._made(negate, field.value, text, Compare(field.value, text, symbol.value, _compared(value)))

    @v_args(meta=True)
    def between(self, meta: Meta, parts: list[Token]) -> Condition:
        negate, (field, low, high, close) = self._negated(parts)
        ends = [end for bound in (low, high) if isinstance(bound, Tree) for end in bound.children
                if isinstance(end, Token)]
        assert len(ends) == 2
        first, last = (_compared(end) for end in ends)
        if type(first) is not type(last):
            raise _Refused(_at(ends[0]) + 1, "both ends of [a TO b] must be numbers, or both quoted text")
        if first > last:  # type: ignore[operator]  # the same type, checked above
            raise _Refused(_at(ends[1]) + 1, f"[a TO b] needs a no greater than b ({ends[0]} is above {ends[1]})")
        text = self._text(meta)
        made = Between(field.value, text, first, last, close.value == "]")
        return self._made(negate, field.value, text, made)

    def start(self, clauses: list[Condition]) -> list[Condition]:
        return clauses


def _expected(error: UnexpectedInput) -> str:
    names = {"FIELD": "a field name", "VALUE": "a value", "QUOTED": "a \"quoted value\"", "COLON": ":",
             "COMPARE": "> >= < <=", "LPAR": "(", "RPAR": ")", "NOT": "-", "_AND": "AND", "_OR": "or",
             "QUOTED_PREFIX": "a \"quoted prefix\"*", "$END": "the end",
             "BOUND": "a number", "_TO": "TO", "CLOSE": "] or }", "LSQB": "["}
    named = getattr(error, "expected", None) or getattr(error, "allowed", None) or ()
    expected = sorted({names.get(name, name) for name in named})
    return f" (expected {', '.join(expected)})" if expected else ""


def parse(query: str | None) -> tuple[Condition, ...]:
    """The conditions a query names, in the order typed; none for an empty query. QueryError when it cannot be read."""
    text = query or ""
    if len(text) > MAX_QUERY_LENGTH:
        raise QueryError(text[:40] + "…", MAX_QUERY_LENGTH + 1,
                         f"the query is longer than {MAX_QUERY_LENGTH} characters")
    if not text.strip():
        return ()
    try:
        tree = _PARSER.parse(text)
        conditions = _ToConditions(text).transform(tree)
    except VisitError as error:
        refused = error.orig_exc
        if isinstance(refused, _Refused):
            raise QueryError(text, refused.position, refused.problem) from None
        raise
    except UnexpectedEOF as error:
        raise QueryError(text, len(text) + 1, f"the query ends too early{_expected(error)}") from None
    except UnexpectedCharacters as error:
        where = cast(int, error.pos_in_stream)  # lark declares it None on the base class; always set here
        raise QueryError(text, where + 1, f"unexpected {text[where]!r}{_expected(error)}") from None
    except UnexpectedToken as error:
        if error.token.type == "$END":
            raise QueryError(text, len(text) + 1, f"the query ends too early{_expected(error)}") from None
        hint = ""
        if re.search(r"(?:^|\s)or\s+\S*$", text[:_at(error.token)], re.IGNORECASE):
            hint = "; OR joins values of one field only: field:(a or b)"
        raise QueryError(text, _at(error.token) + 1,
                         f"unexpected {error.token.value!r}{_expected(error)}{hint}") from None
    if len(conditions) > MAX_TERMS:
        raise QueryError(text, text.find(conditions[MAX_TERMS].text) + 1, f"a query takes at most {MAX_TERMS} terms")
    return tuple(conditions)


def quoted(value: str) -> str:
    """A value as the query box reads it back exactly: bare when it can be, else quoted with \\ before \" and \\."""
    if _PLAIN.match(value) and not _NUMBER.match(value) and not _SIZE.match(value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def term(field: str, value: str | Decimal | None, negate: bool = False) -> str:
    """The term for "only this" (or, negated, "all but this") value of a field; None stands for "absent"."""
    if value is None:
        return f"{'' if negate else '-'}{field}:*"
    shown = str(value) if isinstance(value, Decimal) else quoted(value)
    return f"{'-' if negate else ''}{field}:{shown}"


def without(query: str, condition: Condition) -> str:
    """The query with one of its terms taken out (a chip's ×), the others kept as typed."""
    conditions = parse(query)
    return " ".join(kept.text for kept in conditions if kept is not condition and kept != condition)


def joined(query: str, extra: str) -> str:
    """The query with one more term, ANDed."""
    return f"{query.strip()} {extra}".strip()
