"""Test scripts for converted requests (``postman convert --tests``): the answer is 2xx and its body
matches the spec's response schema.

Postman checks ``jsonSchema`` with Ajv, which knows JSON Schema draft-07, not OpenAPI: it rejects
unknown formats ("unknown format int64"), cannot follow ``#/components`` refs and has no
``nullable``. So the schema a script carries is rewritten: refs inlined (a cycle becomes ``{}``),
``nullable`` as a ``null`` type, 3.0's boolean ``exclusiveMinimum`` as a number, each ``format``
as the pattern or bounds that mean the same thing, and only draft-07 keywords kept."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..spec import ApiSpec, Operation

KEEP = {
    "type", "properties", "required", "items", "additionalProperties", "enum", "const",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength",
    "maxLength", "pattern", "minItems", "maxItems", "uniqueItems", "minProperties",
    "maxProperties", "allOf", "anyOf", "oneOf", "not", "patternProperties", "propertyNames",
    "contains", "if", "then", "else", "dependencies",
}  # fmt: skip
FORMAT_PATTERNS = {
    "date-time": r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})$",
    "date": r"^\d{4}-\d{2}-\d{2}$",
    "email": r"^[^@\s]+@[^@\s]+$",
    "uuid": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    "ipv4": r"^(\d{1,3}\.){3}\d{1,3}$",
}
FORMAT_BOUNDS = {"int32": (-(2**31), 2**31 - 1)}  # int64 exceeds JavaScript numbers: type only


def ajv_schema(spec: ApiSpec, schema: Any, _refs: tuple[str, ...] = ()) -> Any:
    """``schema`` as a self-contained draft-07 schema Postman's Ajv accepts."""
    if isinstance(schema, list):
        return [ajv_schema(spec, s, _refs) for s in schema]
    if not isinstance(schema, Mapping):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str):
        if ref in _refs or not ref.startswith("#"):
            return {}
        return ajv_schema(spec, spec.resolve_pointer(ref), (*_refs, ref))
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key not in KEEP:
            continue
        if key in ("properties", "patternProperties"):
            out[key] = {k: ajv_schema(spec, v, _refs) for k, v in (value or {}).items()}
        elif key in ("items", "additionalProperties", "not", "if", "then", "else", "contains"):
            out[key] = ajv_schema(spec, value, _refs)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [ajv_schema(spec, v, _refs) for v in value or []]
        else:
            out[key] = value
    for bound in ("Minimum", "Maximum"):  # OpenAPI 3.0: exclusiveMinimum: true with minimum
        flag = out.get(f"exclusive{bound}")
        if isinstance(flag, bool):
            del out[f"exclusive{bound}"]
            limit = out.get(bound.lower())
            if flag and limit is not None:
                out[f"exclusive{bound}"] = out.pop(bound.lower())
    fmt = schema.get("format")
    if fmt in FORMAT_PATTERNS:
        if "pattern" in out:
            out = {"allOf": [out, {"pattern": FORMAT_PATTERNS[str(fmt)]}]}
        else:
            out["pattern"] = FORMAT_PATTERNS[str(fmt)]
    elif fmt in FORMAT_BOUNDS:
        low, high = FORMAT_BOUNDS[str(fmt)]
        out.setdefault("minimum", low)
        out.setdefault("maximum", high)
    if schema.get("nullable") is True:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        if "type" not in out and "enum" not in out:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def _json_schema_of(spec: ApiSpec, op: Operation, status: str) -> Any:
    response = op.responses.get(status)
    return None if response is None else response.schema


def tests_for(spec: ApiSpec, op: Operation) -> list[str]:
    """Lines of the request's test script: a 2xx status and, per documented 2xx answer with a
    JSON body, a schema check that applies when that status comes back."""
    lines = [
        'pm.test("status is 2xx", function () { pm.expect(pm.response.code).to.be.within(200, 299); });'
    ]
    for status in sorted(op.responses):
        if not (status.startswith("2") and status.isdigit()):
            continue
        schema = _json_schema_of(spec, op, status)
        if schema is None:
            continue
        converted = json.dumps(ajv_schema(spec, schema), separators=(",", ":"), default=str)
        lines.append(
            f"if (pm.response.code === {int(status)}) {{ "
            f'pm.test("body matches the {status} response schema", function () {{ '
            f"pm.response.to.have.jsonSchema({converted}); }}); }}"
        )
    return lines
