"""Test scripts for converted requests (``postman convert --tests``): the answer is 2xx and its body
matches the spec's response schema.

Postman checks ``jsonSchema`` with Ajv, which knows JSON Schema draft-07, not OpenAPI: it rejects
unknown formats ("unknown format int64"), cannot follow ``#/components`` refs and has no
``nullable``. So the schema a script carries is rewritten: refs inlined (a cycle becomes ``{}``),
``nullable`` as a ``null`` type, 3.0's boolean ``exclusiveMinimum`` as a number, each ``format``
as the pattern or bounds that mean the same thing, and only draft-07 keywords kept.

A collection does not inline refs: every schema a ref names is converted once, into a
``definitions`` table kept in one collection variable (:data:`SCHEMAS_VARIABLE`), and each script
refers to it with local ``#/definitions/...`` refs, which Ajv resolves (and cycles stay cycles).
Inlining made PayPal's collection ten times its size and a Stripe-sized spec exhaust memory."""

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


SCHEMAS_VARIABLE = "neuropaySchemas"  # the collection variable holding the shared definitions


class AjvSchemas:
    """Converts OpenAPI schemas to draft-07 for Ajv. ``shared``: a ``$ref`` becomes a local ref to
    ``definitions``, each target converted once; otherwise refs are inlined (a cycle as ``{}``)."""

    def __init__(self, spec: ApiSpec, shared: bool = False) -> None:
        self.spec = spec
        self.shared = shared
        self.definitions: dict[str, Any] = {}

    def convert(self, schema: Any, refs: tuple[str, ...] = ()) -> Any:
        if isinstance(schema, list):
            return [self.convert(s, refs) for s in schema]
        if not isinstance(schema, Mapping):
            return schema
        ref = schema.get("$ref")
        if isinstance(ref, str):
            if not ref.startswith("#"):
                return {}
            if self.shared:
                return {"$ref": self._define(ref)}
            if ref in refs:
                return {}
            return self.convert(self.spec.resolve_pointer(ref), (*refs, ref))
        return self._keywords(schema, refs)

    def _define(self, ref: str) -> str:
        """The local ref for ``ref``'s target, converting the target the first time."""
        name = ref[2:] if ref.startswith("#/") else "root"
        if name not in self.definitions:
            self.definitions[name] = {}  # reserved first: a cycle refers back to it
            self.definitions[name] = self.convert(self.spec.resolve_pointer(ref))
        return "#/definitions/" + name.replace("~", "~0").replace("/", "~1")

    def _keywords(self, schema: Mapping[str, Any], refs: tuple[str, ...]) -> Any:
        out: dict[str, Any] = {}
        for key, value in schema.items():
            if key not in KEEP:
                continue
            if key in ("properties", "patternProperties"):
                out[key] = {k: self.convert(v, refs) for k, v in (value or {}).items()}
            elif key in ("items", "additionalProperties", "not", "if", "then", "else", "contains"):
                out[key] = self.convert(value, refs)
            elif key in ("allOf", "anyOf", "oneOf"):
                out[key] = [self.convert(v, refs) for v in value or []]
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


def ajv_schema(spec: ApiSpec, schema: Any) -> Any:
    """``schema`` as a self-contained draft-07 schema Postman's Ajv accepts (refs inlined)."""
    return AjvSchemas(spec).convert(schema)


def _json_schema_of(spec: ApiSpec, op: Operation, status: str) -> Any:
    response = op.responses.get(status)
    return None if response is None else response.schema


def tests_for(spec: ApiSpec, op: Operation, schemas: AjvSchemas) -> list[str]:
    """Lines of the request's test script: a 2xx status and, per documented 2xx answer with a
    JSON body, a schema check that applies when that status comes back. With shared ``schemas``
    the script's refs point into the collection's :data:`SCHEMAS_VARIABLE`."""
    lines = [
        'pm.test("status is 2xx", function () { pm.expect(pm.response.code).to.be.within(200, 299); });'
    ]
    for status in sorted(op.responses):
        if not (status.startswith("2") and status.isdigit()):
            continue
        schema = _json_schema_of(spec, op, status)
        if schema is None:
            continue
        converted = json.dumps(schemas.convert(schema), separators=(",", ":"), default=str)
        if schemas.shared:
            # the shared table is parsed only when this status came back
            converted = (
                f"Object.assign({converted}, {{definitions: "
                f'JSON.parse(pm.collectionVariables.get("{SCHEMAS_VARIABLE}"))}})'
            )
        lines.append(
            f"if (pm.response.code === {int(status)}) {{ "
            f'pm.test("body matches the {status} response schema", function () {{ '
            f"pm.response.to.have.jsonSchema({converted}); }}); }}"
        )
    return lines
