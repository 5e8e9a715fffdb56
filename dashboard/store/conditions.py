"""The query box's operators, each one small class judged two ways: a DynamoDB condition and a test over an item.

As Datasette keeps its filters: a registry of small classes, one per operator. Each turns into a
`boto3.dynamodb.conditions` condition (so values always travel as expression values, never as text) and
into a Python predicate over the item's plain values (`Event.values`), so the tests can hold one against
the other on any table. Every class is a frozen dataclass: conditions are part of `Filters`, which keys
the counts cache and the cursors.

Types follow DynamoDB's own rules: a number compares only with a Number, a string only with a String; an
unquoted value that reads as a number (`size:1024`) matches either the Number or the String it spells.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal
from functools import reduce
from typing import Any, ClassVar

from boto3.dynamodb.conditions import Attr, ConditionBase

# DynamoDB takes at most 100 operands in one IN.
MAX_ANY_OF = 100
Scalar = str | Decimal


def _equal(stored: Any, value: Scalar) -> bool:
    # A bool is not a Number to DynamoDB, though Python's True == 1.
    if isinstance(value, Decimal):
        return isinstance(stored, Decimal) and stored == value
    return isinstance(stored, str) and stored == value


@dataclass(frozen=True)
class Condition(ABC):
    """One condition on one top-level attribute, with the text it was typed as (shown back on its chip)."""

    field: str
    text: str

    operator: ClassVar[str]
    description: ClassVar[str]

    @abstractmethod
    def dynamodb(self) -> ConditionBase:
        """The condition as DynamoDB evaluates it (a FilterExpression part, values as expression values)."""

    @abstractmethod
    def matches(self, values: dict[str, Any]) -> bool:
        """The same condition judged in Python over a stored item: the tests hold one against the other."""


@dataclass(frozen=True)
class Equals(Condition):
    """`field:value`: the value as a String, or as a Number too when typed unquoted as one."""

    values: tuple[Scalar, ...] = ()
    operator: ClassVar[str] = "equals"
    description: ClassVar[str] = "field:value"

    def dynamodb(self) -> ConditionBase:
        return _any(Attr(self.field).eq(value) for value in self.values)

    def matches(self, values: dict[str, Any]) -> bool:
        stored = values.get(self.field)
        return any(_equal(stored, value) for value in self.values)


@dataclass(frozen=True)
class BeginsWith(Condition):
    """`field:prefix*` (or `field:"quoted prefix"*`): a String that begins with the prefix."""

    prefix: str = ""
    operator: ClassVar[str] = "begins_with"
    description: ClassVar[str] = "field:prefix*"

    def dynamodb(self) -> ConditionBase:
        return Attr(self.field).begins_with(self.prefix)

    def matches(self, values: dict[str, Any]) -> bool:
        stored = values.get(self.field)
        return isinstance(stored, str) and stored.startswith(self.prefix)


@dataclass(frozen=True)
class AnyOf(Condition):
    """`field:(a or b or c)`: any of the values (DynamoDB's IN), each as `field:value` reads it."""

    values: tuple[Scalar, ...] = ()
    operator: ClassVar[str] = "in"
    description: ClassVar[str] = "field:(a or b or c)"

    def dynamodb(self) -> ConditionBase:
        return Attr(self.field).is_in(list(self.values))

    def matches(self, values: dict[str, Any]) -> bool:
        stored = values.get(self.field)
        return any(_equal(stored, value) for value in self.values)


@dataclass(frozen=True)
class Compare(Condition):
    """`field>n`, `>=`, `<`, `<=`: a Number against a number (units B, KiB, MiB, GiB), a String against text."""

    symbol: str = ">"
    value: Scalar = Decimal(0)
    operator: ClassVar[str] = "compare"
    description: ClassVar[str] = "field>n, field>=n, field<n, field<=n"

    def dynamodb(self) -> ConditionBase:
        attribute = Attr(self.field)
        build = {">": attribute.gt, ">=": attribute.gte, "<": attribute.lt, "<=": attribute.lte}[self.symbol]
        # DynamoDB finds a String never greater than a Number; saying the type keeps stand-ins (moto) from failing.
        return attribute.attribute_type("N" if isinstance(self.value, Decimal) else "S") & build(self.value)

    def matches(self, values: dict[str, Any]) -> bool:
        stored = values.get(self.field)
        # DynamoDB orders Strings by their UTF-8 bytes; Python's str order is the same (code points).
        if isinstance(self.value, Decimal) and isinstance(stored, Decimal):
            return _ordered(stored, self.symbol, self.value)
        if isinstance(self.value, str) and isinstance(stored, str):
            return _ordered(stored, self.symbol, self.value)
        return False


@dataclass(frozen=True)
class Between(Condition):
    """`field:[a TO b]` (both ends in), `field:[a TO b}` (up to b, not b) as in Lucene's ranges: DynamoDB's BETWEEN
    where both ends are in, else the two comparisons. A size bucket's "only this"; negated, its "all but this"."""

    low: Scalar = Decimal(0)
    high: Scalar = Decimal(0)
    high_included: bool = True
    operator: ClassVar[str] = "between"
    description: ClassVar[str] = "field:[a TO b], field:[a TO b}"

    def dynamodb(self) -> ConditionBase:
        attribute = Attr(self.field)
        typed = attribute.attribute_type("N" if isinstance(self.low, Decimal) else "S")
        if self.high_included:
            return typed & attribute.between(self.low, self.high)
        return typed & attribute.gte(self.low) & attribute.lt(self.high)

    def matches(self, values: dict[str, Any]) -> bool:
        stored = values.get(self.field)
        if not (isinstance(self.low, Decimal) and isinstance(stored, Decimal)
                or isinstance(self.low, str) and isinstance(stored, str)):
            return False
        return _ordered(stored, ">=", self.low) and _ordered(stored, "<=" if self.high_included else "<", self.high)


def _ordered(stored: Any, symbol: str, value: Any) -> bool:
    if symbol == ">":
        return bool(stored > value)
    if symbol == ">=":
        return bool(stored >= value)
    if symbol == "<":
        return bool(stored < value)
    return bool(stored <= value)


@dataclass(frozen=True)
class Exists(Condition):
    """`field:*`: the attribute is there, whatever its value."""

    operator: ClassVar[str] = "attribute_exists"
    description: ClassVar[str] = "field:*"

    def dynamodb(self) -> ConditionBase:
        return Attr(self.field).exists()

    def matches(self, values: dict[str, Any]) -> bool:
        return self.field in values


@dataclass(frozen=True)
class Not(Condition):
    """`-term`: the item does not match the term (an item without the attribute does not match `field:value`)."""

    negated: Condition | None = None
    operator: ClassVar[str] = "not"
    description: ClassVar[str] = "-field:value, -field:*, -field:(a or b), -field:[a TO b}"

    def dynamodb(self) -> ConditionBase:
        assert self.negated is not None
        if isinstance(self.negated, Exists):
            return Attr(self.field).not_exists()
        return ~self.negated.dynamodb()

    def matches(self, values: dict[str, Any]) -> bool:
        assert self.negated is not None
        return not self.negated.matches(values)


# Every operator the query box knows, in the order the help names them.
REGISTRY: tuple[type[Condition], ...] = (Equals, BeginsWith, Not, AnyOf, Compare, Between, Exists)


def _any(parts: Any) -> ConditionBase:
    made: ConditionBase = reduce(lambda left, right: left | right, parts)
    return made


def all_of(conditions: tuple[Condition, ...]) -> ConditionBase | None:
    """One DynamoDB condition for all the conditions (AND); None when there are none."""
    if not conditions:
        return None
    return reduce(lambda left, right: left & right, (condition.dynamodb() for condition in conditions))


def match_all(conditions: tuple[Condition, ...], values: dict[str, Any]) -> bool:
    return all(condition.matches(values) for condition in conditions)
