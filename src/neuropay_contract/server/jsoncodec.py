"""JSON encoding of the reference server's answers and stored objects: orjson (several times
faster than the standard library on our checkouts), with the standard library as the fallback
for what orjson refuses (integers beyond 64 bits, which a JSON body may carry in metadata).
Reading is orjson's too, except for text with a run of 19 or more digits, which may be such an
integer (orjson would read it as a float): the standard library reads that exactly."""

from __future__ import annotations

import json
import math
from typing import Any

import orjson
from starlette.responses import JSONResponse


def dumps(value: Any, finite: bool = False) -> bytes:
    """Compact UTF-8 JSON. Like the standard library with ``allow_nan=False`` (and Starlette's
    JSONResponse), NaN and infinities raise ValueError: orjson would write them as null.
    ``finite=True`` skips looking for them (a walk of the whole value) where none can be: the
    server's records and answers hold only what its request parsing let in, which refuses them."""
    try:
        encoded = orjson.dumps(value)
    except TypeError:
        return json.dumps(
            value, ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode()
    if not finite and b"null" in encoded and _has_non_finite(value):
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


def dumps_text(value: Any, finite: bool = False) -> str:
    return dumps(value, finite).decode()


# Every digit made "0": a run of 19 zeros then marks 19 digits in a row. (A regular expression
# for the same took 100 us on a checkout with refunds, several times orjson's parse.)
_DIGITS_TO_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_LONG_RUN = b"0" * 19


def loads(data: str | bytes) -> Any:
    """Reads what :func:`dumps` wrote, integers of any size exactly."""
    raw = data.encode() if isinstance(data, str) else data
    if _LONG_RUN not in raw.translate(_DIGITS_TO_ZERO):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:  # what orjson is stricter about: the standard library
            pass
    return json.loads(raw)


class FastJSONResponse(JSONResponse):
    """A :class:`JSONResponse` rendered by :func:`dumps` (``finite``: see there)."""

    def __init__(self, content: Any, *args: Any, finite: bool = False, **kwargs: Any) -> None:
        self.finite = finite
        super().__init__(content, *args, **kwargs)

    def render(self, content: Any) -> bytes:
        return dumps(content, self.finite)
