"""The port's conditions, updates and sort-key conditions as DynamoDB expressions.

Requests reach the compiler already checked by the port (`table.port.Table`), so compiling
only spells them. A compiled condition agrees with `table.port.evaluate`, TTL included: an
expired item is absent to `Absent()`/`AttrAbsent()` and fails `Exists()`/`AttrEquals()`.
"""

from __future__ import annotations

from lambdasmith.kit.table.dynamodb.marshal import marshal
from lambdasmith.kit.table.port import (
    Absent,
    AllOf,
    AttrAbsent,
    AttrEquals,
    Condition,
    Exists,
    SortKey,
    TableSpec,
    Update,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "Expression",
    "expired_expr",
    "unexpired_expr",
    "compile_condition",
    "compile_update",
    "sort_key_expr",
]


class Expression:
    """Placeholders of one request: `#n0`… for attribute names, `:v0`… for values."""

    __slots__ = ("names", "values", "_name_of", "_const")

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, dict[str, Any]] = {}
        self._name_of: dict[str, str] = {}
        self._const: dict[str, str] = {}

    def name(self, attr: str) -> str:
        ph = self._name_of.get(attr)
        if ph is None:
            ph = self._name_of[attr] = f"#n{len(self.names)}"
            self.names[ph] = attr
        return ph

    def value(self, value: Any) -> str:
        ph = f":v{len(self.values)}"
        self.values[ph] = marshal(value)
        return ph

    def const(self, label: str, value: Any) -> str:
        """A value used in several places of one request (the clock, a type name)."""
        ph = self._const.get(label)
        if ph is None:
            ph = self._const[label] = self.value(value)
        return ph

    def into(self, request: dict[str, Any]) -> dict[str, Any]:
        if self.names:
            request["ExpressionAttributeNames"] = self.names
        if self.values:
            request["ExpressionAttributeValues"] = self.values
        return request


def expired_expr(spec: TableSpec, x: Expression, now: float) -> str:
    """True where the item's TTL attribute is a number not after `now` (TableSpec.expired)."""
    assert spec.ttl is not None
    t = x.name(spec.ttl)
    return f"(attribute_type({t}, {x.const('N', 'N')}) AND {t} <= {x.const('now', now)})"


def unexpired_expr(spec: TableSpec, x: Expression, now: float) -> str:
    """The negation of `expired_expr`; also true for a missing item."""
    assert spec.ttl is not None
    t = x.name(spec.ttl)
    return f"(NOT attribute_type({t}, {x.const('N', 'N')}) OR {t} > {x.const('now', now)})"


def compile_condition(
    spec: TableSpec, condition: Condition | None, x: Expression, now: float
) -> str | None:
    """A ConditionExpression agreeing with `table.evaluate`, TTL included; None: always true."""
    ttl = spec.ttl is not None
    match condition:
        case None:
            return None
        case Absent():
            e = f"attribute_not_exists({x.name(spec.pk)})"
            return f"({e} OR {expired_expr(spec, x, now)})" if ttl else e
        case Exists():
            e = f"attribute_exists({x.name(spec.pk)})"
            return f"({e} AND {unexpired_expr(spec, x, now)})" if ttl else e
        case AttrEquals(attr, value):
            # `=` is false for a missing attribute and across types (a BOOL is never a number).
            e = f"{x.name(attr)} = {x.value(value)}"
            return f"({e} AND {unexpired_expr(spec, x, now)})" if ttl else e
        case AttrAbsent(attr):
            e = f"attribute_not_exists({x.name(attr)})"
            return f"({e} OR {expired_expr(spec, x, now)})" if ttl else e
        case AllOf(conditions):
            parts = [compile_condition(spec, c, x, now) for c in conditions]
            kept = [p for p in parts if p is not None]
            if not kept:
                return None
            return kept[0] if len(kept) == 1 else "(" + " AND ".join(kept) + ")"
    raise TypeError(f"not a condition: {condition!r}")


def compile_update(update: Update, x: Expression) -> str | None:
    """An UpdateExpression: SET (with if_not_exists), ADD, REMOVE; None for an empty update."""
    sets = [f"{x.name(a)} = {x.value(v)}" for a, v in update.set.items()]
    for a, v in update.set_if_absent.items():
        n = x.name(a)
        sets.append(f"{n} = if_not_exists({n}, {x.value(v)})")
    adds = [f"{x.name(a)} {x.value(v)}" for a, v in update.add.items()]
    removes = [x.name(a) for a in update.remove]
    clauses = []
    if sets:
        clauses.append("SET " + ", ".join(sets))
    if adds:
        clauses.append("ADD " + ", ".join(adds))
    if removes:
        clauses.append("REMOVE " + ", ".join(removes))
    return " ".join(clauses) or None


def sort_key_expr(cond: SortKey, attr: str, x: Expression) -> str | None:
    """The sort-key half of a KeyConditionExpression (None: no restriction), for a condition
    the port has checked (`check_sort_key`)."""
    op, value = cond.op, cond.value
    if op == "begins_with":
        if not value:
            return None  # every string begins with "", and DynamoDB refuses an empty key value
        return f"begins_with({x.name(attr)}, {x.value(value)})"
    if op == "between":
        low, high = value
        return f"{x.name(attr)} BETWEEN {x.value(low)} AND {x.value(high)}"
    return f"{x.name(attr)} {op} {x.value(value)}"
