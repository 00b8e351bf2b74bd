"""A well-formed request, before any schema: the I-JSON body (RFC 7493), the request media type,
the Bearer credential and the headers that take one value, as the spec's ``x-precedence`` steps
``json``, ``json_depth``, ``media_type``, ``api_key`` and ``idempotency_key`` read them.

The one home of these rules: the reference server refuses with them and the traffic checker
predicts with them. Two copies once disagreed (the checker read ``1e999`` as infinity where the
server refuses it) and the checker blamed a correct server.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from .documents import escape_pointer

__all__ = [
    "Credential",
    "JsonBody",
    "NotIJson",
    "NotJson",
    "RepeatedHeader",
    "is_json_media",
    "json_pointer",
    "key_mode",
    "lone_surrogate",
    "media_fault",
    "media_type",
    "parse_json",
    "read_authorization",
    "read_credential",
    "request_coding_ok",
    "request_media_ok",
    "single_header",
    "utc_timestamp",
]


# -- JSON --------------------------------------------------------------------------------------
class NotJson(ValueError):
    """The body is not UTF-8 JSON, or is JSON that I-JSON excludes. ``pointer`` names the value
    at fault when there is one (a lone surrogate's string)."""

    def __init__(self, message: str, pointer: str | None = None) -> None:
        super().__init__(message)
        self.pointer = pointer


class NotIJson(NotJson):
    """Valid JSON that I-JSON excludes, for a reason worth telling the client (a duplicate name,
    a number beyond a double, a lone surrogate)."""


def _reject_constant(token: str) -> Any:
    raise ValueError(f"{token} is not valid JSON")


def _unique_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose names are unique (I-JSON, RFC 7493 2.3): a duplicate is not guessed at."""
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        name = next(n for n, _ in pairs if n in seen or seen.add(n))  # type: ignore[func-returns-value]
        raise NotIJson(f"duplicate name {name!r}")
    return result


def _number(token: str) -> float | int:
    """A JSON number with a fraction or exponent. One beyond a double's range (``1e999``) reads
    as infinity, which I-JSON excludes like ``Infinity`` itself: refused, so no stored or
    answered value can be non-finite. JSON Schema 2020-12 counts 3000.0 as an integer: read as
    3000."""
    value = float(token)
    if value.is_integer():
        return int(value)
    if math.isinf(value):
        raise NotIJson(f"{token[:40]} is beyond the range of a double")
    return value


def _integer(token: str) -> int:
    """A JSON number without fraction or exponent. Written with more digits than any double
    holds (a 400-digit integer), it is beyond a double's range like ``1e999``: refused the same
    way, however it is written (I-JSON 2.2)."""
    if len(token) > 308 and math.isinf(float(token)):
        raise NotIJson(f"{token[:40]}... ({len(token)} digits) is beyond the range of a double")
    return int(token)


# Built once: json.loads with hooks builds a decoder per call.
_DECODER = json.JSONDecoder(
    parse_constant=_reject_constant,
    parse_float=_number,
    parse_int=_integer,
    object_pairs_hook=_unique_names,
)


@dataclass(frozen=True)
class JsonBody:
    """A parsed body; ``too_deep`` when it nests deeper than the limit (the ``json_depth`` step,
    which x-precedence may order apart from ``json``), then ``value`` is None when the decoder
    itself gave up."""

    value: Any
    too_deep: bool = False


def parse_json(raw: bytes, max_depth: int) -> JsonBody:
    """``raw`` as I-JSON: UTF-8, no ``NaN``/``Infinity``, no number beyond a double, unique
    member names, no lone surrogate. Raises :class:`NotJson` (:class:`NotIJson` for the reasons
    worth telling); a body deeper than ``max_depth`` comes back with ``too_deep``."""
    try:
        value = _DECODER.decode(raw.decode("utf-8"))
    except NotJson:
        raise
    except (UnicodeDecodeError, ValueError) as exc:
        raise NotJson(str(exc)) from None
    except RecursionError:  # deeper than the decoder goes
        return JsonBody(None, too_deep=True)
    # Walk the body only when it has enough brackets to be that deep (a C-speed count keeps
    # ordinary requests off a second traversal).
    too_deep = raw.count(b"[") + raw.count(b"{") > max_depth and _deeper_than(value, max_depth)
    # "\ud800" is valid JSON but no character: it could be stored, yet never encoded in an
    # answer or a page. Escapes are the only way in.
    if b"\\u" in raw and (found := lone_surrogate(value)) is not None:
        where, in_key = found
        raise NotIJson(
            f"Strings must be valid Unicode: {'a key of ' if in_key else ''}this holds a lone "
            "UTF-16 surrogate (\\ud800-\\udfff), which is not a character",
            json_pointer(where),
        )
    return JsonBody(value, too_deep)


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` nests more than ``limit`` arrays/objects deep (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth >= limit:
                return True
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return False


def lone_surrogate(value: Any) -> tuple[list[str | int], bool] | None:
    """Where the first string in ``value`` that holds a lone UTF-16 surrogate is: valid JSON
    escapes (``"\\ud800"``) that are no character and cannot be encoded, stored as text or
    shown. (path, whether the string is an object key there), or None when there is none."""
    return first_string(value, lambda text: not _encodable(text))


def first_string(value: Any, bad: Callable[[str], bool]) -> tuple[list[str | int], bool] | None:
    """(path, whether it is an object key there) of the first string in ``value`` that ``bad``
    holds for, or None. Iterative, so depth cannot exhaust it."""
    stack: list[tuple[Any, list[str | int]]] = [(value, [])]
    while stack:
        node, path = stack.pop()
        if isinstance(node, str):
            if bad(node):
                return path, False
        elif isinstance(node, dict):
            for key, child in node.items():
                if bad(key):
                    return path, True
                stack.append((child, [*path, key]))
        elif isinstance(node, list):
            stack.extend((child, [*path, index]) for index, child in enumerate(node))
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def json_pointer(path: Sequence[Any]) -> str:
    """The JSON Pointer (RFC 6901) of a path of names and indexes; ``""`` for the root."""
    return "".join(f"/{escape_pointer(str(p))}" for p in path)


# -- media type --------------------------------------------------------------------------------
def media_type(header: str | None) -> str:
    """The media type of a Content-Type value, lower-case, without parameters."""
    return (header or "").split(";")[0].strip().lower()


def is_json_media(media: str) -> bool:
    """Whether an answer's media type is JSON (``application/json`` or a ``+json`` type)."""
    return media == "application/json" or media.endswith("+json")


def request_media_ok(header: str | None) -> bool:
    """The spec's request media type: ``application/json`` in any case, with any parameters but
    a charset other than UTF-8 (no Content-Type, other types and ``+json`` types are refused)."""
    media, *params = (part.strip() for part in (header or "").split(";"))
    charsets = [
        value.strip().strip('"').lower()
        for name, _, value in (p.partition("=") for p in params)
        if name.strip().lower() == "charset"
    ]
    return media.lower() == "application/json" and all(c == "utf-8" for c in charsets)


def request_coding_ok(header: str | None) -> bool:
    """Bodies are never decompressed: a ``Content-Encoding`` other than ``identity`` is a media
    type the API does not take (RFC 7694 3), ``415`` whether or not the bytes are JSON."""
    return (header or "").strip().lower() in ("", "identity")


def media_fault(
    content_type: str | None, content_encoding: str | None
) -> Literal["type", "coding"] | None:
    """What breaks the ``media_type`` step of a request with these headers: its ``type`` (see
    :func:`request_media_ok`), then its ``coding`` (see :func:`request_coding_ok`), or None."""
    if not request_media_ok(content_type):
        return "type"
    if not request_coding_ok(content_encoding):
        return "coding"
    return None


# -- headers that are no lists -----------------------------------------------------------------
class RepeatedHeader(ValueError):
    """A header that takes one value (no list header, RFC 9110 5.3) was sent more than once:
    none is picked."""


def single_header(values: Sequence[str]) -> str | None:
    """The one value of a header sent as ``values`` (each line's, in order): None when absent,
    :class:`RepeatedHeader` when sent more than once (``Authorization``, ``Idempotency-Key``:
    picking the first or the last would let two readers of one request disagree)."""
    if len(values) > 1:
        raise RepeatedHeader(f"{len(values)} headers were sent")
    return values[0] if values else None


# -- timestamps --------------------------------------------------------------------------------
def utc_timestamp(stamp: float | None = None, timespec: str = "seconds") -> str:
    """An RFC 3339 UTC timestamp ending in ``Z``, as the spec's ``date-time`` fields and every
    report write them; ``stamp`` is seconds since the epoch (default: now)."""
    moment = datetime.fromtimestamp(stamp, UTC) if stamp is not None else datetime.now(UTC)
    return moment.isoformat(timespec=timespec).replace("+00:00", "Z")


# -- the credential ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Credential:
    """An Authorization header as the bearerAuth scheme reads it: ``missing`` (no header, or
    ``Bearer`` alone), ``malformed`` (another scheme, a bare key) or ``bearer`` with the key."""

    state: Literal["missing", "malformed", "bearer"]
    key: str | None = None
    repeated: bool = False  # several Authorization headers: malformed, whatever they hold


def read_authorization(header: str | None) -> Credential:
    """The bearerAuth scheme: "Bearer" in any case, one or more spaces, the key."""
    value = (header or "").strip()
    if not value:
        return Credential("missing")
    scheme, _, key = value.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer":
        return Credential("malformed")
    if not key:
        return Credential("missing")
    return Credential("bearer", key)


def read_credential(values: Sequence[str]) -> Credential:
    """The credential of a request whose Authorization header lines are ``values``: none is
    ``missing``; more than one is ``malformed`` whatever they hold (none is picked, see
    :func:`single_header`); one is read by :func:`read_authorization`."""
    try:
        return read_authorization(single_header(values))
    except RepeatedHeader:
        return Credential("malformed", repeated=True)


def key_mode(key: str, prefixes: Mapping[str, str]) -> str | None:
    """The mode (``test``, ``live``) whose ``x-test-mode`` key prefix ``key`` starts with."""
    return next((mode for mode, prefix in prefixes.items() if key.startswith(prefix)), None)
