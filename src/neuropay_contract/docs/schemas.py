"""JSON Schemas as the docs present them: short type names, constraints in words, dotted field
tables and example values, for any OpenAPI 3.0/3.1 document (cycles and external refs tolerated)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import SpecError
from ..spec import ApiSpec

SCHEMA_PREFIX = "#/components/schemas/"


@dataclass
class Field:
    name: str
    type: str
    required: bool
    description: str
    constraints: list[str]
    default: str | None


class SchemaView:
    """Reads the schemas of one document for the docs."""

    def __init__(self, spec: ApiSpec) -> None:
        self.spec = spec

    def deref(self, node: Any) -> Mapping[str, Any]:
        """``spec.deref`` that survives what a docs page can live with: a $ref cycle or an
        external $ref becomes an empty schema instead of an error."""
        try:
            resolved = self.spec.deref(node)
        except SpecError:
            return {}
        return resolved if isinstance(resolved, Mapping) else {}

    def type_of(self, schema: Any, depth: int = 0) -> tuple[str, bool]:
        """A short type name and whether null is allowed (3.0 ``nullable`` or 3.1 type arrays)."""
        ref = schema.get("$ref") if isinstance(schema, Mapping) else None
        schema = self.deref(schema)
        nullable = bool(schema.get("nullable"))
        kind: Any = schema.get("type")
        if isinstance(kind, list):
            nullable = nullable or "null" in kind
            kind = " or ".join(str(k) for k in kind if k != "null") or "null"
        for combinator in ("oneOf", "anyOf", "allOf"):
            options = schema.get(combinator)
            if isinstance(options, list) and options and depth < 3 and kind is None:
                names = []
                for option in options:
                    name, null = self.type_of(option, depth + 1)
                    nullable = nullable or null or name == "null"
                    if name not in ("null", "any"):
                        names.append(name)
                joiner = " and " if combinator == "allOf" else " or "
                kind = joiner.join(dict.fromkeys(names)) or None
        if kind is None and "properties" in schema:
            kind = "object"
        if isinstance(ref, str) and ref.startswith(SCHEMA_PREFIX) and kind in (None, "object"):
            kind = ref.removeprefix(SCHEMA_PREFIX)  # a named object reads better than "object"
        if kind == "array" and depth < 3:
            kind = f"array of {self.type_of(schema.get('items') or {}, depth + 1)[0]}"
        if schema.get("format") and isinstance(kind, str):
            kind = f"{kind} ({schema['format']})"
        if "const" in schema:
            kind = f"{kind or 'value'} = {json.dumps(schema['const'])}"
        return str(kind or "any"), nullable

    def constraints(self, schema: Any, depth: int = 0) -> list[str]:
        schema = self.deref(schema)
        found = []
        for key, text in (
            ("minimum", "≥ {}"),
            ("maximum", "≤ {}"),
            ("exclusiveMinimum", "> {}"),
            ("exclusiveMaximum", "< {}"),
            ("multipleOf", "multiple of {}"),
            ("minLength", "length ≥ {}"),
            ("maxLength", "length ≤ {}"),
            ("minItems", "≥ {} items"),
            ("maxItems", "≤ {} items"),
            ("minProperties", "≥ {} keys"),
            ("maxProperties", "≤ {} keys"),
            ("pattern", "pattern {}"),
        ):
            if key in schema and not isinstance(schema[key], bool):
                found.append(text.format(schema[key]))
        # 3.0 spells exclusive bounds as booleans next to minimum/maximum.
        if schema.get("exclusiveMinimum") is True and "minimum" in schema:
            found[found.index(f"≥ {schema['minimum']}")] = f"> {schema['minimum']}"
        if schema.get("exclusiveMaximum") is True and "maximum" in schema:
            found[found.index(f"≤ {schema['maximum']}")] = f"< {schema['maximum']}"
        if isinstance(schema.get("enum"), list):
            found.append(
                "one of " + ", ".join(json.dumps(v) for v in schema["enum"] if v is not None)
            )
        if schema.get("readOnly"):
            found.append("read-only")
        if schema.get("writeOnly"):
            found.append("write-only")
        if schema.get("deprecated"):
            found.append("deprecated")
        if depth < 3:
            for option in [*(schema.get("oneOf") or []), *(schema.get("anyOf") or [])]:
                found += [c for c in self.constraints(option, depth + 1) if c not in found]
        return found

    def _properties(self, schema: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
        """Properties and required names, merged over allOf and (as optional) oneOf/anyOf."""
        props: dict[str, Any] = {}
        required: set[str] = set(schema.get("required") or [])
        for part in [schema, *[self.deref(s) for s in schema.get("allOf") or []]]:
            props.update(part.get("properties") or {})
            required |= set(part.get("required") or [])
        for combinator in ("oneOf", "anyOf"):
            for option in schema.get(combinator) or []:
                for name, sub in (self.deref(option).get("properties") or {}).items():
                    props.setdefault(name, sub)
        return props, required

    def fields(
        self,
        schema: Any,
        prefix: str = "",
        depth: int = 0,
        seen: frozenset[str] = frozenset(),
    ) -> list[Field]:
        """Properties of an object schema, nested objects as dotted names (three levels; a
        schema already being expanded above is not expanded again, so $ref cycles end)."""
        if not isinstance(schema, Mapping) or depth > 2:
            return []
        ref = schema.get("$ref")
        if isinstance(ref, str):
            if ref in seen:
                return []
            seen = seen | {ref}
        schema = self.deref(schema)
        if schema.get("type") == "array" or "items" in schema:
            return self.fields(schema.get("items"), prefix + "[].", depth + 1, seen)
        parts = {p.get("$ref") for p in schema.get("allOf") or [] if isinstance(p, Mapping)}
        parts.discard(None)
        if parts & seen:  # allOf: [$ref to an enclosing schema] is a cycle too
            return []
        seen = seen | {str(p) for p in parts}
        props, required = self._properties(schema)
        result: list[Field] = []
        dependent = schema.get("dependentRequired") or {}
        for name, sub in props.items():
            resolved = self.deref(sub)
            kind, nullable = self.type_of(sub)
            constraints = self.constraints(sub)
            if isinstance(dependent, Mapping) and name in dependent:
                constraints.append("needs " + ", ".join(map(str, dependent[name])))
            if nullable:
                constraints.append("nullable")
            result.append(
                Field(
                    prefix + str(name),
                    kind,
                    name in required,
                    str(resolved.get("description", "")).strip(),
                    constraints,
                    json.dumps(resolved["default"], default=str) if "default" in resolved else None,
                )
            )
            nested = resolved.get("items") if resolved.get("type") == "array" else resolved
            inner = self.deref(nested) if isinstance(nested, Mapping) else {}
            if inner.get("properties") or inner.get("allOf"):
                sub_ref = sub if nested is resolved else nested
                suffix = "[]." if nested is not resolved else "."
                result += self.fields(sub_ref, prefix + str(name) + suffix, depth + 1, seen)
        return result

    def example(self, schema: Any, depth: int = 0, seen: frozenset[str] = frozenset()) -> Any:
        """A plausible value for a schema without examples: its example, default, const or first
        enum value, else required properties filled the same way (so a sample has a body)."""
        ref = schema.get("$ref") if isinstance(schema, Mapping) else None
        if isinstance(ref, str):
            if ref in seen or depth > 4:
                return None
            seen = seen | {ref}
        schema = self.deref(schema)
        for key in ("example", "default", "const"):
            if key in schema:
                return schema[key]
        if isinstance(schema.get("examples"), list) and schema["examples"]:
            return schema["examples"][0]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return schema["enum"][0]
        for combinator in ("oneOf", "anyOf"):
            if isinstance(schema.get(combinator), list) and schema[combinator]:
                return self.example(schema[combinator][0], depth + 1, seen)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        props, required = self._properties(schema)
        if kind == "object" or props:
            chosen = [n for n in props if n in required] or list(props)[:3]
            return {n: self.example(props[n], depth + 1, seen) for n in chosen}
        if kind == "array":
            return [self.example(schema.get("items") or {}, depth + 1, seen)]
        if kind in ("integer", "number"):
            low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
            return low + 1 if isinstance(low, int | float) and not isinstance(low, bool) else 1
        if kind == "boolean":
            return True
        if kind == "string":
            formats = {
                "date-time": "2026-01-01T00:00:00Z",
                "date": "2026-01-01",
                "uri": "https://example.com",
                "email": "user@example.com",
                "uuid": "00000000-0000-4000-8000-000000000000",
            }
            return formats.get(str(schema.get("format")), "string")
        return None
