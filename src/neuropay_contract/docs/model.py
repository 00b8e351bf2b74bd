"""What the docs show, built from any OpenAPI 3.0/3.1 document (leaving out what it lacks)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt

from ..spec import ApiSpec, Operation
from .diagram import lifecycle_svg
from .samples import Samples, samples_for

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def markdown_html(text: str) -> str:
    """Markdown from the spec as HTML; raw HTML in the spec is escaped, not rendered."""
    return str(_MD.render(text or ""))


def markdown_inline(text: str) -> str:
    """One line of Markdown (field descriptions) as inline HTML, raw HTML escaped."""
    return str(_MD.renderInline(text or ""))


@dataclass
class Field:
    name: str
    type: str
    required: bool
    description: str
    constraints: list[str]
    default: str | None


@dataclass
class Example:
    name: str
    json: str


@dataclass
class ResponseDoc:
    status: str
    description: str
    examples: list[Example]
    codes: list[str]


@dataclass
class OperationDoc:
    id: str
    anchor: str
    method: str
    path: str
    summary: str
    description: str
    description_html: str
    test_only: bool
    parameters: list[Field]
    fields: list[Field]
    request_examples: list[Example]
    responses: list[ResponseDoc]
    samples: Samples
    links: list[str] = field(default_factory=list)


def anchor(text: str) -> str:
    return "op-" + re.sub(r"[^a-zA-Z0-9_-]+", "-", text).strip("-")


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


class DocsModel:
    """Everything the templates render, computed once."""

    def __init__(self, spec: ApiSpec, base_url: str | None = None) -> None:
        self.spec = spec
        servers = spec.servers
        self.base_url = base_url or (str(servers[0].get("url")) if servers else "http://localhost")
        self.bearer = self._uses_bearer()

    # -- schema helpers ----------------------------------------------------------------------
    def _type(self, schema: Mapping[str, Any], depth: int = 0) -> tuple[str, bool]:
        """A short type name and whether null is allowed."""
        schema = self.spec.deref(schema)
        nullable = bool(schema.get("nullable"))
        kind = schema.get("type")
        if isinstance(kind, list):
            nullable = nullable or "null" in kind
            kind = "/".join(k for k in kind if k != "null")
        for combinator in ("oneOf", "anyOf"):
            options = schema.get(combinator)
            if isinstance(options, list) and depth < 3:
                names = []
                for option in options:
                    name, null = self._type(option, depth + 1)
                    nullable = nullable or null or name == "null"
                    if name != "null":
                        names.append(name)
                kind = " or ".join(dict.fromkeys(names)) or kind
        if kind == "array" and isinstance(schema.get("items"), Mapping) and depth < 3:
            kind = f"array of {self._type(schema['items'], depth + 1)[0]}"
        if schema.get("format") and isinstance(kind, str):
            kind = f"{kind} ({schema['format']})"
        if "const" in schema:
            kind = f"{kind or 'value'} = {json.dumps(schema['const'])}"
        return str(kind or "any"), nullable

    def _constraints(self, schema: Mapping[str, Any]) -> list[str]:
        schema = self.spec.deref(schema)
        found = []
        for key, text in (
            ("minimum", "≥ {}"),
            ("maximum", "≤ {}"),
            ("exclusiveMinimum", "> {}"),
            ("exclusiveMaximum", "< {}"),
            ("minLength", "length ≥ {}"),
            ("maxLength", "length ≤ {}"),
            ("minItems", "≥ {} items"),
            ("maxItems", "≤ {} items"),
            ("maxProperties", "≤ {} keys"),
            ("pattern", "pattern {}"),
        ):
            if key in schema and not isinstance(schema[key], bool):
                found.append(text.format(schema[key]))
        if isinstance(schema.get("enum"), list):
            found.append(
                "one of " + ", ".join(json.dumps(v) for v in schema["enum"] if v is not None)
            )
        for option in schema.get("oneOf") or schema.get("anyOf") or []:
            found += [c for c in self._constraints(option) if c not in found]
        return found

    def fields(
        self, schema: Mapping[str, Any] | None, prefix: str = "", depth: int = 0
    ) -> list[Field]:
        """Properties of an object schema, nested objects as dotted names (two levels)."""
        if schema is None or depth > 2:
            return []
        schema = self.spec.deref(schema)
        props: dict[str, Any] = {}
        required: set[str] = set(schema.get("required") or [])
        for part in [schema, *[self.spec.deref(s) for s in schema.get("allOf") or []]]:
            props.update(part.get("properties") or {})
            required |= set(part.get("required") or [])
        result: list[Field] = []
        dependent = schema.get("dependentRequired") or {}
        for name, sub in props.items():
            resolved = self.spec.deref(sub)
            kind, nullable = self._type(sub)
            constraints = self._constraints(sub)
            if name in dependent:
                constraints.append("needs " + ", ".join(dependent[name]))
            if nullable:
                constraints.append("nullable")
            default = resolved.get("default")
            result.append(
                Field(
                    prefix + name,
                    kind,
                    name in required,
                    str(resolved.get("description", "")).strip(),
                    constraints,
                    json.dumps(default) if "default" in resolved else None,
                )
            )
            if resolved.get("type") == "object" and resolved.get("properties"):
                result += self.fields(resolved, prefix + name + ".", depth + 1)
        return result

    # -- operations --------------------------------------------------------------------------
    def _uses_bearer(self) -> bool:
        schemes = (self.spec.document.get("components") or {}).get("securitySchemes") or {}
        return any(
            str(self.spec.deref(s).get("scheme", "")).lower() == "bearer" for s in schemes.values()
        )

    def operation(self, op: Operation) -> OperationDoc:
        responses = []
        for status, response in op.responses.items():
            codes = []
            for example in response.examples:
                code = (
                    example.value.get("error", {}).get("code")
                    if isinstance(example.value, Mapping)
                    else None
                )
                if isinstance(code, str) and code not in codes:
                    codes.append(code)
            responses.append(
                ResponseDoc(
                    status,
                    response.description,
                    [Example(e.name, _pretty(e.value)) for e in response.examples],
                    codes,
                )
            )
        parameters = []
        for param in op.parameters:
            schema = param.get("schema") or {}
            kind, _ = self._type(schema)
            parameters.append(
                Field(
                    f"{param.get('name')} ({param.get('in')})",
                    kind,
                    bool(param.get("required")),
                    str(param.get("description", "")).strip(),
                    self._constraints(schema),
                    None,
                )
            )
        links = sorted(
            {
                str(link.get("operationId"))
                for r in op.responses.values()
                for link in r.links.values()
                if link.get("operationId")
            }
        )
        return OperationDoc(
            id=op.operation_id,
            anchor=anchor(op.operation_id),
            method=op.method,
            path=op.path,
            summary=op.summary,
            description=op.description,
            description_html=markdown_html(op.description),
            test_only=op.test_only,
            parameters=parameters,
            fields=self.fields(op.request_schema),
            request_examples=[Example(e.name, _pretty(e.value)) for e in op.request_examples],
            responses=responses,
            samples=samples_for(op, self.base_url, bearer=self.bearer),
            links=links,
        )

    def groups(self) -> list[tuple[str, str, list[OperationDoc]]]:
        """(tag, description, operations), tags in the document's order."""
        declared = {
            str(t.get("name")): str(t.get("description", ""))
            for t in self.spec.document.get("tags") or []
        }
        grouped: dict[str, list[OperationDoc]] = {name: [] for name in declared}
        for op in self.spec.operations.values():
            grouped.setdefault(op.tag, []).append(self.operation(op))
        return [(tag, declared.get(tag, ""), ops) for tag, ops in grouped.items() if ops]

    # -- the rest of the page ----------------------------------------------------------------
    def lifecycle(self) -> dict[str, Any] | None:
        lifecycle = self.spec.lifecycle
        if lifecycle is None:
            return None
        rows = []
        for status in lifecycle.states:
            cells = []
            for op in lifecycle.restricted_operations:
                answer = lifecycle.forbidden_answer(status, op)
                if answer is not None:
                    cells.append({"text": f"{answer.http} {answer.code}", "allowed": False})
                    continue
                moves = lifecycle.transitions_from(status, op)
                text = "; ".join(
                    f"→ {t.target}" + (f" if {', '.join(t.guard)}" if t.guard else "")
                    for t in moves
                )
                cells.append({"text": text, "allowed": True})
            rows.append(
                {
                    "status": status,
                    "description": lifecycle.states[status],
                    "final": status in lifecycle.final,
                    "cells": cells,
                }
            )
        rejections = [
            f"{r.source} · {r.operation} with {r.guard}: {r.answer.http} {r.answer.code}"
            for r in lifecycle.rejections
        ]
        return {
            "svg": lifecycle_svg(lifecycle),
            "operations": list(lifecycle.restricted_operations),
            "unrestricted": list(lifecycle.unrestricted),
            "rows": rows,
            "rejections": rejections,
            "guards": dict(lifecycle.guards),
            "events": [(e.name, e.description, e.helper) for e in lifecycle.events.values()],
        }

    def errors(self) -> list[dict[str, Any]]:
        return [
            {"code": c.code, "http": c.http, "description": c.description}
            for c in self.spec.error_codes.values()
        ]

    def search_index(
        self, groups: list[tuple[str, str, list[OperationDoc]]]
    ) -> list[dict[str, str]]:
        entries = []
        for _tag, _description, ops in groups:
            for op in ops:
                entries.append(
                    {
                        "kind": "operation",
                        "name": op.id,
                        "detail": f"{op.method} {op.path} {op.summary}",
                        "anchor": op.anchor,
                    }
                )
                for f in op.fields:
                    entries.append(
                        {
                            "kind": "field",
                            "name": f.name,
                            "detail": f"{op.id}: {f.type}",
                            "anchor": op.anchor,
                        }
                    )
        for error in self.errors():
            entries.append(
                {
                    "kind": "error",
                    "name": error["code"],
                    "detail": f"{error['http']} {error['description']}",
                    "anchor": f"err-{error['code']}",
                }
            )
        return entries

    def context(self) -> dict[str, Any]:
        groups = self.groups()
        info = self.spec.document.get("info") or {}
        schemes = (self.spec.document.get("components") or {}).get("securitySchemes") or {}
        test_mode = self.spec.test_mode
        return {
            "title": self.spec.title,
            "version": self.spec.version,
            "openapi": self.spec.openapi_version,
            "description_html": markdown_html(str(info.get("description", ""))),
            "description": str(info.get("description", "")),
            "servers": [
                {"url": str(s.get("url")), "description": str(s.get("description", ""))}
                for s in self.spec.servers
            ],
            "security": [
                {
                    "name": n,
                    "type": str(self.spec.deref(s).get("type", "")),
                    "scheme": str(self.spec.deref(s).get("scheme", "")),
                    "description": str(self.spec.deref(s).get("description", "")),
                }
                for n, s in schemes.items()
            ],
            "groups": groups,
            "errors": self.errors(),
            "lifecycle": self.lifecycle(),
            "test_mode": test_mode,
            "idempotency": dict(self.spec.idempotency),
            "search_json": json.dumps(self.search_index(groups)).replace("</", "<\\/"),
            "base_url": self.base_url,
            "inline": markdown_inline,
        }
