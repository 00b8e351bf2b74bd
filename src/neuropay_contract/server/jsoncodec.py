"""JSON encoding of the reference server's answers and stored objects: orjson (several times
faster than the standard library on our checkouts), with the standard library as the fallback
for what orjson refuses (integers beyond 64 bits, which a JSON body may carry in metadata).
Reading stays with the standard library: orjson would turn such integers into floats."""

from __future__ import annotations

import json
import math
from typing import Any

import orjson
from starlette.responses import JSONResponse


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON. Like the standard library with ``allow_nan=False`` (and Starlette's
    JSONResponse), NaN and infinities raise ValueError: orjson would write them as null."""
    try:
        encoded = orjson.dumps(value)
    except TypeError:
        return json.dumps(
            value, ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode()
    if b"null" in encoded and _has_non_finite(value):
        raise ValueError("NaN and infinities are not JSON")
    return encoded


def _has_non_finite(value: Any) -> bool:
    # Exact types only: what orjson serialises without options (dict, list, tuple, float).
    stack = [value]
    pop, extend = stack.pop, stack.extend
    while stack:
        node = pop()
        kind = type(node)
        if kind is dict:
            extend(node.values())
        elif kind is list or kind is tuple:
            extend(node)
        elif kind is float and not math.isfinite(node):
            return True
    return False


def dumps_text(value: Any) -> str:
    return dumps(value).decode()


def loads(data: str | bytes) -> Any:
    """Reads what :func:`dumps` wrote, integers of any size exactly."""
    return json.loads(data)


class FastJSONResponse(JSONResponse):
    """A :class:`JSONResponse` rendered by :func:`dumps`."""

    def render(self, content: Any) -> bytes:
        return dumps(content)
