"""What the docs show, built from any OpenAPI 3.0/3.1 document (leaving out what it lacks)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup, escape

from ..errors import SpecError
from ..spec import ApiSpec, Operation
from .diagram import lifecycle_svg
from .samples import UNSET, Auth, Samples, auth_for, body_media, samples_for

# Spec text is Markdown that may hold HTML (PayPal's does: links, lists, <code>). It is rendered,
# then sanitised by Ammonia (nh3) to an allowlist: text markup and http(s) links only. No script,
# style, event handler, image or iframe survives, so the page still loads nothing from outside.
_MD = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable("table")
SAFE_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h3", "h4",
    "h5", "h6", "hr", "i", "kbd", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table",
    "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
SAFE_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "td": {"align"}, "th": {"align"}}
SCHEMA_PREFIX = "#/components/schemas/"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def sanitise(html: str) -> str:
    """HTML reduced to the allowlist: what is not allowed is dropped (script and style with
    their content), links keep only http, https and mailto targets."""
    return nh3.clean(
        html,
        tags=SAFE_TAGS,
        attributes=SAFE_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


def markdown_html(text: str) -> str:
    """Markdown from the spec as sanitised HTML."""
    return sanitise(str(_MD.render(text or "")))


def markdown_inline(text: str) -> str:
    """One line of Markdown (field descriptions) as sanitised inline HTML."""
    return sanitise(str(_MD.renderInline(text or "")))


def markdown_text(text: str) -> str:
    """Spec text for the Markdown page: ``<`` outside code spans becomes ``&lt;`` so raw HTML in the
    spec stays text on GitHub and wikis, while code spans (which show ``&lt;`` literally) are kept."""
    pieces = re.split(r"(`+[^`]*`+)", text or "")
    return "".join(p if p.startswith("`") else p.replace("<", "&lt;") for p in pieces)


def breakable(text: str) -> Markup:
    """Escaped text that may wrap inside camelCase and snake_case names (narrow table columns)."""

    def split(match: re.Match[str]) -> str:
        word = match.group(0)
        if len(word) < 18:  # short names read better whole
            return word
        return re.sub(r"(?<=[a-z_])(?=[A-Z])|(?<=_)(?=[a-z])", "<wbr>", word)

    words = re.sub(r"[A-Za-z_]+", split, str(escape(text)))
    return Markup(re.sub(r"(?<=\.)(?=[A-Za-z_])|(?=\[\])", "<wbr>", words))  # dotted field paths


def table_cell(text: str) -> str:
    """Text made safe for one cell of a Markdown table (one line, escaped pipes)."""
    return markdown_text(" ".join(str(text).split())).replace("|", "\\|")


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
    media_type: str = ""

    @property
    def success(self) -> bool:
        return self.status.startswith("2")


@dataclass
class Availability:
    """When a lifecycle-restricted operation may be called: allowed statuses and the rest."""

    allowed: list[str]
    refused: list[str]
    answer: str


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
    deprecated: bool
    parameters: list[Field]
    media_type: str
    fields: list[Field]
    request_examples: list[Example]
    responses: list[ResponseDoc]
    samples: Samples
    auth: Auth
    availability: Availability | None = None
    links: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[ResponseDoc]:
        return [r for r in self.responses if not r.success]


def anchor(text: str, prefix: str = "op-") -> str:
    return prefix + re.sub(r"[^a-zA-Z0-9_-]+", "-", text).strip("-")


def _pretty(value: Any) -> str:
    if isinstance(value, str):
        return value  # XML, CSV and other non-JSON examples are shown as written
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def local_server(spec: ApiSpec) -> str:
    """The base URL samples call by default: the spec's loopback server, else its first server
    (server variables filled with their defaults, relative URLs made absolute)."""
    urls = []
    for server in spec.servers:
        url = str(server.get("url", ""))
        for name, variable in (server.get("variables") or {}).items():
            if isinstance(variable, Mapping):
                url = url.replace("{" + str(name) + "}", str(variable.get("default", "")))
        if not urlsplit(url).scheme:
            url = "http://localhost:8080" + ("/" + url.lstrip("/") if url.strip("/") else "")
        urls.append(url)
    local = [u for u in urls if urlsplit(u).hostname in LOCAL_HOSTS]
    return (local or urls or ["http://localhost:8080"])[0].rstrip("/")


class DocsModel:
    """Everything the templates render, computed once."""

    def __init__(self, spec: ApiSpec, base_url: str | None = None) -> None:
        self.spec = spec
        self.base_url = (base_url or local_server(spec)).rstrip("/")

    # -- schema helpers ----------------------------------------------------------------------
    def deref(self, node: Any) -> Mapping[str, Any]:
        """``spec.deref`` that survives what a docs page can live with: a $ref cycle or an
        external $ref becomes an empty schema instead of an error."""
        try:
            resolved = self.spec.deref(node)
        except SpecError:
            return {}
        return resolved if isinstance(resolved, Mapping) else {}

    def _type(self, schema: Any, depth: int = 0) -> tuple[str, bool]:
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
                    name, null = self._type(option, depth + 1)
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
            kind = f"array of {self._type(schema.get('items') or {}, depth + 1)[0]}"
        if schema.get("format") and isinstance(kind, str):
            kind = f"{kind} ({schema['format']})"
        if "const" in schema:
            kind = f"{kind or 'value'} = {json.dumps(schema['const'])}"
        return str(kind or "any"), nullable

    def _constraints(self, schema: Any, depth: int = 0) -> list[str]:
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
                found += [c for c in self._constraints(option, depth + 1) if c not in found]
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
            kind, nullable = self._type(sub)
            constraints = self._constraints(sub)
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

    # -- operations --------------------------------------------------------------------------
    def operation(self, op: Operation, prefix: str = "op-") -> OperationDoc:
        responses = []
        for status, response in op.responses.items():
            codes = []
            for example in response.examples:
                error = example.value.get("error") if isinstance(example.value, Mapping) else None
                code = error.get("code") if isinstance(error, Mapping) else None
                if isinstance(code, str) and code not in codes:
                    codes.append(code)
            raw = self.deref(op.raw.get("responses", {}).get(status))
            response_media, _ = body_media(raw.get("content"))
            responses.append(
                ResponseDoc(
                    status,
                    response.description,
                    [Example(e.name, _pretty(e.value)) for e in response.examples],
                    codes,
                    response_media,
                )
            )
        parameters = []
        for param in op.parameters:
            schema = param.get("schema") or {}
            kind, nullable = self._type(schema)
            constraints = self._constraints(schema) + (["nullable"] if nullable else [])
            default = self.deref(schema).get("default")
            parameters.append(
                Field(
                    f"{param.get('name')} ({param.get('in')})",
                    kind,
                    bool(param.get("required")),
                    str(param.get("description", "")).strip(),
                    constraints,
                    json.dumps(default) if default is not None else None,
                )
            )
        links = sorted(
            {
                str(link.get("operationId"))
                for r in op.responses.values()
                for link in r.links.values()
                if isinstance(link, Mapping) and link.get("operationId")
            }
        )
        request_body = self.deref(op.raw.get("requestBody"))
        media_type, media = body_media(request_body.get("content"))
        schema = op.request_schema if op.request_schema is not None else media.get("schema")
        examples = [Example(e.name, _pretty(e.value)) for e in op.request_examples]
        body: Any = UNSET
        if not examples and "example" in media:
            examples = [Example("example", _pretty(media["example"]))]
        elif not examples and schema is not None:
            body = self.example(schema)
            examples = [Example("made from the schema", _pretty(body))]
        auth = auth_for(self.spec, op)
        return OperationDoc(
            id=op.operation_id,
            anchor=anchor(op.operation_id, prefix),
            method=op.method,
            path=op.path,
            summary=op.summary,
            description=op.description,
            description_html=markdown_html(op.description),
            test_only=op.test_only,
            deprecated=bool(op.raw.get("deprecated")),
            parameters=parameters,
            media_type=media_type,
            fields=self.fields(schema),
            request_examples=examples,
            responses=responses,
            samples=samples_for(op, self.base_url, body, auth=auth, media=(media_type, media)),
            auth=auth,
            availability=self.availability(op.operation_id),
            links=links,
        )

    def availability(self, operation_id: str) -> Availability | None:
        lifecycle = self.spec.lifecycle
        if lifecycle is None or operation_id not in lifecycle.restricted_operations:
            return None
        allowed, refused, answers = [], [], []
        for status in lifecycle.states:
            answer = lifecycle.forbidden_answer(status, operation_id)
            if answer is not None:
                refused.append(status)
                if f"{answer.http} {answer.code}" not in answers:
                    answers.append(f"{answer.http} {answer.code}")
            elif lifecycle.transitions_from(status, operation_id):
                allowed.append(status)
        return Availability(allowed, refused, ", ".join(answers))

    def groups(self) -> list[tuple[str, str, list[OperationDoc]]]:
        """(tag, description, operations), tags in the document's order."""
        declared = {
            str(t.get("name")): str(t.get("description", ""))
            for t in self.spec.document.get("tags") or []
            if isinstance(t, Mapping)
        }
        grouped: dict[str, list[OperationDoc]] = {name: [] for name in declared}
        for op in self.spec.operations.values():
            grouped.setdefault(op.tag, []).append(self.operation(op))
        return [(tag, declared.get(tag, ""), ops) for tag, ops in grouped.items() if ops]

    def webhooks(self) -> list[OperationDoc]:
        """3.1 webhooks: requests the API sends to you, documented like operations."""
        hooks = self.spec.document.get("webhooks")
        if not isinstance(hooks, Mapping) or not hooks:
            return []
        # The same resolution as paths, by reading the webhooks as if they were paths.
        as_paths = ApiSpec({**self.spec.document, "paths": dict(hooks)}, self.spec.path)
        return [self.operation(op, "hook-") for op in as_paths.operations.values()]

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
                    cells.append(
                        {
                            "outcomes": [(f"{answer.http} {answer.code}", "", False)],
                            "allowed": False,
                        }
                    )
                    continue
                outcomes = [
                    (f"→ {t.target}", ", ".join(t.guard), True)
                    for t in lifecycle.transitions_from(status, op)
                ]
                outcomes += [
                    (f"{r.answer.http} {r.answer.code}", r.guard, False)
                    for r in lifecycle.rejections
                    if r.source == status and r.operation == op
                ]
                cells.append(
                    {"outcomes": outcomes or [("not specified", "", True)], "allowed": True}
                )
            rows.append(
                {
                    "status": status,
                    "description": lifecycle.states[status],
                    "final": status in lifecycle.final,
                    "initial": status in lifecycle.initial,
                    "cells": cells,
                }
            )
        rejections = [
            f"{r.source} · {r.operation} with {r.guard}: {r.answer.http} {r.answer.code}"
            for r in lifecycle.rejections
        ]
        return {
            "svg": lifecycle_svg(lifecycle, f"{lifecycle.schema} lifecycle"),
            "schema": lifecycle.schema,
            "field": lifecycle.field,
            "operations": list(lifecycle.restricted_operations),
            "unrestricted": list(lifecycle.unrestricted),
            "rows": rows,
            "rejections": rejections,
            "guards": dict(lifecycle.guards),
            "events": [(e.name, e.description, e.helper) for e in lifecycle.events.values()],
            "dashed": any(
                t.source is None and any("payment" in g for g in t.guard)
                for t in lifecycle.transitions
            ),
        }

    def errors(self) -> list[dict[str, Any]]:
        return [
            {"code": c.code, "http": c.http, "description": c.description}
            for c in self.spec.error_codes.values()
        ]

    def error_envelope(self) -> list[Field]:
        """Fields of the ``Error`` schema (the envelope), when the document has one."""
        schema = self.spec.schemas.get("Error")
        return self.fields({"$ref": SCHEMA_PREFIX + "Error"}) if schema else []

    def search_index(
        self, groups: list[tuple[str, str, list[OperationDoc]]], hooks: list[OperationDoc]
    ) -> list[dict[str, str]]:
        entries = []
        everything = [op for _tag, _description, ops in groups for op in ops] + hooks
        for op in everything:
            entries.append(
                {
                    "kind": "operation" if op.anchor.startswith("op-") else "webhook",
                    "name": op.id,
                    "detail": f"{op.method} {op.path} {op.summary}".strip(),
                    "anchor": op.anchor,
                }
            )
            for f in op.fields:
                entries.append(
                    {
                        "kind": "field",
                        "name": f.name,
                        "detail": f"{op.id} · {f.type}",
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
        hooks = self.webhooks()
        info = self.spec.document.get("info") or {}
        schemes = (self.spec.document.get("components") or {}).get("securitySchemes") or {}
        test_mode = self.spec.test_mode
        # "</" would end the <script> element the index lives in; JSON allows "<\/" for it.
        search_json = json.dumps(self.search_index(groups, hooks), ensure_ascii=False)
        return {
            "title": self.spec.title,
            "version": self.spec.version,
            "openapi": self.spec.openapi_version,
            "summary": str(info.get("summary", "")),
            "description_html": markdown_html(str(info.get("description", ""))),
            "description": str(info.get("description", "")),
            "servers": [
                {"url": str(s.get("url")), "description": str(s.get("description", ""))}
                for s in self.spec.servers
            ],
            "security": [
                {
                    "name": str(n),
                    "type": str(self.deref(s).get("type", "")),
                    "scheme": str(self.deref(s).get("scheme", "")),
                    "location": " ".join(
                        str(self.deref(s).get(k, "")) for k in ("in", "name")
                    ).strip(),
                    "description": str(self.deref(s).get("description", "")),
                }
                for n, s in schemes.items()
            ],
            "groups": groups,
            "webhooks": hooks,
            "errors": self.errors(),
            "envelope": self.error_envelope(),
            "lifecycle": self.lifecycle(),
            "test_mode": test_mode,
            "test_helpers": [
                {"operation": op, "event": event, "anchor": anchor(op)}
                for op, event in (test_mode.helpers.items() if test_mode else [])
            ],
            "customers": [
                op for _t, _d, ops in groups for op in ops if "customer" in op.id.lower()
            ],
            "idempotency": dict(self.spec.idempotency),
            "limits": dict(self.spec.limits),
            "search_json": search_json.replace("</", "<\\/"),
            "base_url": self.base_url,
            "inline": markdown_inline,
            "md": markdown_text,
            "cell": table_cell,
            "breakable": breakable,
        }
