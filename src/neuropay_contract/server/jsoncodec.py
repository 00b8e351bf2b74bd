"""JSON encoding of the reference server's answers and stored objects: orjson (several times
faster than the standard library on our checkouts), with the standard library as the fallback
for what orjson refuses (integers beyond 64 bits, which a JSON body may carry in metadata).
Reading stays with the standard library: orjson would turn such integers into floats."""

from __future__ import annotations

import json
from typing import Any

import orjson
from starlette.responses import JSONResponse


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def dumps_text(value: Any) -> str:
    return dumps(value).decode()


def loads(data: str | bytes) -> Any:
    """Reads what :func:`dumps` wrote, integers of any size exactly."""
    return json.loads(data)


class FastJSONResponse(JSONResponse):
    """A :class:`JSONResponse` rendered by :func:`dumps`."""

    def render(self, content: Any) -> bytes:
        return dumps(content)
