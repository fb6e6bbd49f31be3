"""Python values ↔ DynamoDB AttributeValues.

Numbers travel as decimal strings: ints exactly, floats as `repr`; a number read back is an
int when its string is integral, so a float with an integral value (3.0) comes back as 3.
Bytes travel as base64 (`B`); sets, which the port never writes, read back as lists.
"""

from __future__ import annotations

import binascii

from lambdasmith.kit.table.port import Item, ValidationError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["marshal", "unmarshal", "number", "marshal_item", "unmarshal_item"]

_INF = float("inf")


def marshal(value: Any) -> dict[str, Any]:
    """One Python value as a DynamoDB AttributeValue."""
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):
        return {"BOOL": bool(value)}
    if value is None:
        return {"NULL": True}
    if isinstance(value, int):
        try:
            return {"N": str(int(value))}
        except ValueError:  # beyond Python's int-to-text limit, and far beyond DynamoDB's
            raise ValidationError("number too large for DynamoDB") from None
    if isinstance(value, float):
        if value != value or value in (_INF, -_INF):
            raise ValidationError("NaN and infinity are not numbers DynamoDB stores")
        return {"N": repr(float(value))}
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValidationError("map attribute names must be strings")
            out[k] = marshal(v)
        return {"M": out}
    if isinstance(value, (list, tuple)):
        return {"L": [marshal(v) for v in value]}
    if isinstance(value, (bytes, bytearray)):
        return {"B": binascii.b2a_base64(bytes(value), newline=False).decode("ascii")}
    raise ValidationError(f"unsupported attribute value type {type(value).__name__}")


def unmarshal(av: dict[str, Any]) -> Any:
    """One DynamoDB AttributeValue as a Python value (sets, which we never write, as lists)."""
    for tag, v in av.items():
        if tag == "S":
            return v
        if tag == "N":
            return number(v)
        if tag == "BOOL":
            return bool(v)
        if tag == "NULL":
            return None
        if tag == "M":
            return {k: unmarshal(x) for k, x in v.items()}
        if tag == "L":
            return [unmarshal(x) for x in v]
        if tag == "B":
            return binascii.a2b_base64(v)
        if tag == "SS":
            return list(v)
        if tag == "NS":
            return [number(x) for x in v]
        if tag == "BS":
            return [binascii.a2b_base64(x) for x in v]
    raise ValueError(f"unknown AttributeValue {av!r}")


def number(text: str) -> int | float:
    if "." in text or "e" in text or "E" in text:
        return float(text)
    return int(text)


def marshal_item(item: Item) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValidationError("an item must be a dict")
    out = {}
    for k, v in item.items():
        if not isinstance(k, str):
            raise ValidationError("attribute names must be strings")
        out[k] = marshal(v)
    return out


def unmarshal_item(raw: dict[str, Any]) -> Item:
    return {k: unmarshal(v) for k, v in raw.items()}
