"""Example values for any OpenAPI schema: the spec's own example when it has one, else a value
built to validate against the schema (formats, patterns, bounds, enums, required fields, refs,
allOf/oneOf/anyOf, nullable), for request bodies, parameters and samples of foreign specs."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

# Python's own regex parser (private, stable since 3.11) turns a pattern into a tree we walk.
from re import _constants as sre_constants
from re import _parser as sre_parse
from typing import Any

MAX_DEPTH = 8  # below this only required properties are filled in
# An untrusted spec may ask for minLength: 10**9 or minItems: 10**9; a sample never grows past
# these (it then breaks the schema, which is better than exhausting memory).
MAX_LENGTH = 10_000
MAX_ITEMS = 100
FORMATS: dict[str, Any] = {
    "date-time": "2026-01-01T12:00:00Z",
    "date": "2026-01-01",
    "time": "12:00:00Z",
    "email": "user@example.com",
    "idn-email": "user@example.com",
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "uri": "https://example.com",
    "url": "https://example.com",
    "uri-reference": "https://example.com",
    "iri": "https://example.com",
    "hostname": "example.com",
    "idn-hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "byte": "U3dhZ2dlciByb2Nrcw==",
    "binary": "",
    "password": "secret-value",
    "duration": "P1D",
    "json-pointer": "/a",
    "regex": "^a$",
}
_PATTERNS: dict[str, str | None] = {}


def _type_of(schema: Mapping[str, Any]) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        return str(kinds[0]) if kinds else "null"
    if kind is not None:
        return str(kind)
    if "properties" in schema or "additionalProperties" in schema or "required" in schema:
        return "object"
    if "items" in schema:
        return "array"
    if any(k in schema for k in ("pattern", "minLength", "maxLength", "format")):
        return "string"
    if any(k in schema for k in ("minimum", "maximum", "multipleOf")):
        return "number"
    return None


def explicit_example(schema: Mapping[str, Any]) -> tuple[bool, Any]:
    """(found, value) of the schema's own example, examples, default, const or first enum."""
    if "example" in schema:
        return True, schema["example"]
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return True, examples[0]
    for key in ("const", "default"):
        if key in schema:
            return True, schema[key]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        value = next((v for v in enum if v is not None), enum[0])
        return True, value
    return False, None


class Sampler:
    """Builds values for schemas of one document; ``deref`` follows its local ``$ref``s."""

    def __init__(self, deref: Callable[[Any], Any], request: bool = True) -> None:
        self.deref = deref
        self.request = request  # skip readOnly properties (request) or writeOnly (response)

    def value(self, schema: Any, depth: int = 0, refs: tuple[str, ...] = ()) -> Any:
        if not isinstance(schema, Mapping):
            return "string"
        ref = schema.get("$ref")
        if isinstance(ref, str):
            if ref in refs or depth > 30:
                return None  # a cycle: the caller drops optional values that are None
            return self.value(self.deref(schema), depth, (*refs, ref))
        found, example = explicit_example(schema)
        if found:
            return example
        if "allOf" in schema:
            return self._all_of(schema, depth, refs)
        for key in ("oneOf", "anyOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                rest = {k: v for k, v in schema.items() if k != key}
                return self.value({**rest, **self._merge_one(options[0])}, depth, refs)
        kind = _type_of(schema)
        if kind == "object":
            return self._object(schema, depth, refs)
        if kind == "array":
            count = max(int(schema.get("minItems", 1) or 0), 1 if depth < MAX_DEPTH else 0)
            count = min(count, MAX_ITEMS)
            item = self.value(schema.get("items", {}), depth + 1, refs)
            if schema.get("uniqueItems") and isinstance(item, (int, float)) and count > 1:
                return [item + i for i in range(count)]
            return [item for _ in range(count)]
        if kind == "string":
            return _string(schema)
        if kind in ("integer", "number"):
            return _number(schema, kind == "integer")
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return "string"

    def _merge_one(self, option: Any) -> Mapping[str, Any]:
        resolved = self.deref(option) if isinstance(option, Mapping) else {}
        return resolved if isinstance(resolved, Mapping) else {}

    def _all_of(self, schema: Mapping[str, Any], depth: int, refs: tuple[str, ...]) -> Any:
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema.get("allOf") or []:
            part = self._merge_one(part)
            if "allOf" in part:
                part = {**part, **self._flatten(part)}
            for key, val in part.items():
                if key == "properties":
                    merged["properties"] = {**merged.get("properties", {}), **val}
                elif key == "required":
                    merged["required"] = [*merged.get("required", []), *val]
                elif key != "allOf":
                    merged.setdefault(key, val)
        return self.value(merged, depth, refs)

    def _flatten(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for part in schema.get("allOf") or []:
            part = self._merge_one(part)
            out["properties"] = {**out.get("properties", {}), **part.get("properties", {})}
            out["required"] = [*out.get("required", []), *part.get("required", [])]
            out.setdefault("type", part.get("type", "object"))
        return out

    def _object(self, schema: Mapping[str, Any], depth: int, refs: tuple[str, ...]) -> Any:
        required = set(schema.get("required") or [])
        result: dict[str, Any] = {}
        for name, prop in (schema.get("properties") or {}).items():
            resolved = self.deref(prop) if isinstance(prop, Mapping) else {}
            skip = "readOnly" if self.request else "writeOnly"
            if isinstance(resolved, Mapping) and resolved.get(skip) and name not in required:
                continue
            if name not in required and depth >= MAX_DEPTH:
                continue
            value = self.value(prop, depth + 1, refs)
            if value is None and name not in required and not _nullable(resolved):
                continue
            result[str(name)] = value
        extra = schema.get("additionalProperties")
        minimum = min(int(schema.get("minProperties", 0) or 0), MAX_ITEMS)
        if len(result) < minimum and isinstance(extra, Mapping):
            for index in range(minimum - len(result)):
                result[f"key{index + 1}"] = self.value(extra, depth + 1, refs)
        return result


def _nullable(schema: Any) -> bool:
    if not isinstance(schema, Mapping):
        return False
    kind = schema.get("type")
    return bool(schema.get("nullable")) or (isinstance(kind, list) and "null" in kind)


def _number(schema: Mapping[str, Any], integer: bool) -> int | float:
    low, high = schema.get("minimum"), schema.get("maximum")
    xlow, xhigh = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if isinstance(xlow, bool):  # OpenAPI 3.0: a flag that makes `minimum` exclusive
        low, xlow = (None, low) if xlow else (low, None)
    if isinstance(xhigh, bool):
        high, xhigh = (None, high) if xhigh else (high, None)
    value: float = 1
    if isinstance(low, (int, float)) and value < low:
        value = low
    if isinstance(xlow, (int, float)) and value <= xlow:
        value = xlow + 1
    if isinstance(high, (int, float)) and value > high:
        value = high
    if isinstance(xhigh, (int, float)) and value >= xhigh:
        below = xlow if isinstance(xlow, (int, float)) else low
        value = xhigh - 1 if integer or below is None else (below + xhigh) / 2
    step = schema.get("multipleOf")
    if isinstance(step, (int, float)) and step > 0 and value % step:
        value = (value // step + 1) * step
    return int(value) if integer else float(value)


def _string(schema: Mapping[str, Any]) -> str:
    pattern = schema.get("pattern")
    fmt = str(schema.get("format", ""))
    value = str(FORMATS.get(fmt, "string"))
    if isinstance(pattern, str):
        matched = pattern_sample(pattern)
        if matched is not None:
            value = matched
    low = min(int(schema.get("minLength", 0) or 0), MAX_LENGTH)
    high = schema.get("maxLength")
    if len(value) < low:
        pads = [value[-1:] or "a", "0", "a", "A", "x", " "]
        candidates = [value + pad * (low - len(value)) for pad in pads]
        candidates += [pad * (low - len(value)) + value for pad in pads]
        fits = [c for c in candidates if not isinstance(pattern, str) or _matches(pattern, c)]
        value = fits[0] if fits else candidates[0]
    if isinstance(high, int) and len(value) > high:
        value = value[:high]
    return value


def _matches(pattern: str, value: str) -> bool:
    try:
        return re.search(pattern, value) is not None
    except re.error:
        return True  # a pattern Python cannot read: nothing to check against


def pattern_sample(pattern: str) -> str | None:
    """A short string that ``re.search(pattern, ...)`` accepts, or None when we cannot tell."""
    if pattern in _PATTERNS:
        return _PATTERNS[pattern]
    result: str | None
    try:
        result = _emit(sre_parse.parse(pattern))
        if len(result) > MAX_LENGTH or re.search(pattern, result) is None:
            result = None
    except Exception:  # an unsupported or invalid (e.g. ECMA-only) pattern
        result = None
    _PATTERNS[pattern] = result
    return result


def _emit(parsed: Any) -> str:
    out: list[str] = []
    for op, arg in parsed:
        if op is sre_constants.LITERAL:
            out.append(chr(arg))
        elif op is sre_constants.NOT_LITERAL:
            out.append("a" if chr(arg) != "a" else "b")
        elif op is sre_constants.ANY:
            out.append("a")
        elif op is sre_constants.IN:
            out.append(_class_char(arg))
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            low, _high, sub = arg
            if low > MAX_LENGTH:
                raise ValueError("a repeat too long to sample")
            out.append(_emit(sub) * max(int(low), 0))
        elif op is sre_constants.SUBPATTERN:
            out.append(_emit(arg[-1]))
        elif op is sre_constants.BRANCH:
            out.append(_emit(arg[1][0]))
        elif op is sre_constants.AT:
            continue
        elif op is sre_constants.CATEGORY:
            out.append(_category_char(arg))
        else:
            raise ValueError(f"unsupported regex construct {op}")
    return "".join(out)


def _category_char(category: Any) -> str:
    name = str(category)
    if "NOT_DIGIT" in name or "NOT_SPACE" in name:
        return "a"
    if "DIGIT" in name:
        return "1"
    if "SPACE" in name:
        return " "
    if "NOT_WORD" in name:
        return "-"
    return "a"


def _class_char(items: Any) -> str:
    negate = any(op is sre_constants.NEGATE for op, _ in items)
    if negate:
        banned: set[str] = set()
        for op, arg in items:
            if op is sre_constants.LITERAL:
                banned.add(chr(arg))
            elif op is sre_constants.RANGE:
                banned.update(chr(c) for c in range(arg[0], min(arg[1], 0x2FF) + 1))
        return next(c for c in "aZ0_-x. " if c not in banned)
    for op, arg in items:
        if op is sre_constants.LITERAL:
            return chr(arg)
        if op is sre_constants.RANGE:
            start, end = arg
            for preferred in "a0A":
                if start <= ord(preferred) <= end:
                    return preferred
            return chr(start)
        if op is sre_constants.CATEGORY:
            return _category_char(arg)
    raise ValueError("empty character class")
