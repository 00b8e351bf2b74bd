"""Values at the edges of a JSON Schema's domain: what a store most often gets wrong.

For each schema, valid values a server must keep exactly: integers at their minimum and maximum
and on both sides of 2^31, 2^32 and 2^53 when inside the bounds; every enum value; booleans
both ways; free text at its maximum length, in non-ASCII letters and with astral characters
(outside the BMP: four bytes in UTF-8, two units in UTF-16); maps at their key-count limit with
keys and values at their length limits; arrays at their item limit and with each edge of their
items. Strings bound by a ``pattern`` or a ``format`` keep their sampled value (their edges are
the syntax's, which the schema checks test). Every value returned validates against the schema.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any

from .sampling import Sampler

# Where integer stores overflow or lose precision: signed and unsigned 32 bits, doubles.
INTEGER_EDGES = (2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**53 - 1, 2**53, 2**53 + 1)
NON_ASCII = "Åsa Ørsted, naïve café ß"
ASTRAL = "𝄞 Music 😀 𠜎"  # U+1D11E, U+1F600, U+2070E
_unique = itertools.count(1)


def edge_values(
    schema: Any, deref: Callable[[Any], Any], valid: Callable[[Any, Any], bool]
) -> list[Any]:
    """Valid values at the edges of ``schema``'s domain (``valid(schema, value)`` keeps only
    those it accepts), the empty list when the schema has none worth storing."""
    schema = deref(schema)
    if not isinstance(schema, Mapping):
        return []
    values = [v for v in _edges(schema, deref) if valid(schema, v)]
    unique: list[Any] = []
    for value in values:  # 2**53 and 2**53 + 1 are one value where a spec caps below them
        if not any(value == seen and type(value) is type(seen) for seen in unique):
            unique.append(value)
    return unique


def _edges(schema: Mapping[str, Any], deref: Callable[[Any], Any]) -> list[Any]:
    if isinstance(schema.get("enum"), list):
        return [v for v in schema["enum"] if v is not None]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "boolean":
        return [True, False]
    if kind == "integer":
        return _integers(schema)
    if kind == "string":
        return _strings(schema)
    if kind == "array":
        return _arrays(schema, deref)
    if kind == "object":
        return _objects(schema, deref)
    return []


def _integers(schema: Mapping[str, Any]) -> list[int]:
    low = schema.get("minimum")
    high = schema.get("maximum")
    edges = [v for v in (low, high) if isinstance(v, int)]
    edges += [v for v in INTEGER_EDGES if (low is None or v >= low) and (high is None or v <= high)]
    return edges


def text(length: int, letters: str) -> str:
    """``length`` code points of ``letters`` repeated, starting with a distinct number (two
    edge values of one field never look alike, to a store with a unique index say)."""
    if length <= 0:
        return ""
    head = f"{next(_unique)} "
    body = (head + letters * (length // max(1, len(letters)) + 1))[:length]
    return body


def _strings(schema: Mapping[str, Any]) -> list[str]:
    if "pattern" in schema or "format" in schema:
        return []
    low = int(schema.get("minLength", 0))
    high = schema.get("maxLength")
    values = [text(max(low, len(NON_ASCII)), NON_ASCII), text(max(low, len(ASTRAL)), ASTRAL)]
    if isinstance(high, int):
        values += [text(high, "x"), text(high, "é")]
    if low > 0:
        values.append(text(low, "y"))
    return values


def _arrays(schema: Mapping[str, Any], deref: Callable[[Any], Any]) -> list[Any]:
    items = deref(schema.get("items", {}))
    values: list[Any] = (
        [[item] for item in _edges(items, deref)] if isinstance(items, Mapping) else []
    )
    most = schema.get("maxItems")
    if isinstance(most, int) and values:
        values.append([values[i % len(values)][0] for i in range(most)])
    return values


def _objects(schema: Mapping[str, Any], deref: Callable[[Any], Any]) -> list[Any]:
    extra = deref(schema.get("additionalProperties"))
    if isinstance(extra, Mapping) and not schema.get("properties"):
        return _maps(schema, extra, deref)
    sampler = Sampler(deref)
    base = {
        name: sampler.value(prop)
        for name, prop in schema.get("properties", {}).items()
        if name in schema.get("required", ())
    }
    values = []
    for name, prop in schema.get("properties", {}).items():
        for edge in _edges(deref(prop), deref):
            values.append({**base, name: edge})
    return values


def _maps(
    schema: Mapping[str, Any], values_schema: Mapping[str, Any], deref: Callable[[Any], Any]
) -> list[dict[str, Any]]:
    """A map (such as metadata) full to its key limit, keys and values at their longest; and
    keys and values in non-ASCII and astral letters."""
    names = deref(schema.get("propertyNames", {})) or {}
    key_length = int(names.get("maxLength", 40))
    value_length = int(values_schema.get("maxLength", 100))
    count = int(schema.get("maxProperties", 3))
    full = {text(key_length, "k"): text(value_length, "v") for _ in range(count)}
    letters = {
        text(min(key_length, len(NON_ASCII)), NON_ASCII): text(value_length, "é"),
        text(min(key_length, len(ASTRAL)), ASTRAL): text(min(value_length, 40), ASTRAL),
    }
    return [full, letters]
