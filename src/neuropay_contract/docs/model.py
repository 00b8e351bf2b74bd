"""The docs page model: what the templates show, built from any OpenAPI 3.0/3.1 document (leaving
out what it lacks). Markdown is made safe in :mod:`.markdown`, schemas are read by :mod:`.schemas`."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..lifecycle import cells, matrix
from ..spec import ApiSpec, Operation
from .diagram import lifecycle_svg
from .markdown import breakable, markdown_html, markdown_inline, markdown_text, table_cell
from .samples import UNSET, Auth, Samples, auth_for, body_media, samples_for
from .schemas import SCHEMA_PREFIX, Field, SchemaView
from .search import search_index

LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


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
    (server variables filled with their defaults, relative URLs made absolute against the
    reference server for the project's spec, against plain localhost for anyone else's)."""
    origin = "http://localhost:8080" if spec.lifecycle is not None else "http://localhost"
    urls = []
    for server in spec.servers:
        url = str(server.get("url", ""))
        for name, variable in (server.get("variables") or {}).items():
            if isinstance(variable, Mapping):
                url = url.replace("{" + str(name) + "}", str(variable.get("default", "")))
        if not urlsplit(url).scheme:
            url = origin + ("/" + url.lstrip("/") if url.strip("/") else "")
        urls.append(url)
    local = [u for u in urls if urlsplit(u).hostname in LOCAL_HOSTS]
    return (local or urls or [origin])[0].rstrip("/")


class DocsModel:
    """Everything the templates render, computed once."""

    def __init__(self, spec: ApiSpec, base_url: str | None = None) -> None:
        self.spec = spec
        self.base_url = (base_url or local_server(spec)).rstrip("/")
        self.schemas = SchemaView(spec)

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
            raw = self.schemas.deref(op.raw.get("responses", {}).get(status))
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
            kind, nullable = self.schemas.type_of(schema)
            constraints = self.schemas.constraints(schema) + (["nullable"] if nullable else [])
            default = self.schemas.deref(schema).get("default")
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
        request_body = self.schemas.deref(op.raw.get("requestBody"))
        media_type, media = body_media(request_body.get("content"))
        schema = op.request_schema if op.request_schema is not None else media.get("schema")
        examples = [Example(e.name, _pretty(e.value)) for e in op.request_examples]
        body: Any = UNSET
        if not examples and "example" in media:
            examples = [Example("example", _pretty(media["example"]))]
        elif not examples and schema is not None:
            body = self.schemas.example(schema)
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
            fields=self.schemas.fields(schema),
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
        for cell in cells(lifecycle):
            if cell.operation != operation_id:
                continue
            if cell.forbidden is not None:
                refused.append(cell.status)
                if cell.expected not in answers:
                    answers.append(cell.expected)
            elif cell.moves:
                allowed.append(cell.status)
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
        for status, row in matrix(lifecycle):
            cells = []
            for cell in row:
                if cell.forbidden is not None:
                    outcome = (f"{cell.forbidden.http} {cell.forbidden.code}", "", False)
                    cells.append({"outcomes": [outcome], "allowed": False})
                    continue
                outcomes = [(f"→ {t.target}", ", ".join(t.guard), True) for t in cell.moves]
                outcomes += [
                    (f"{r.answer.http} {r.answer.code}", r.guard, False) for r in cell.rejections
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
        return self.schemas.fields({"$ref": SCHEMA_PREFIX + "Error"}) if schema else []

    def context(self) -> dict[str, Any]:
        groups = self.groups()
        hooks = self.webhooks()
        info = self.spec.document.get("info") or {}
        schemes = (self.spec.document.get("components") or {}).get("securitySchemes") or {}
        test_mode = self.spec.test_mode
        # "</" would end the <script> element the index lives in; JSON allows "<\/" for it.
        search_json = json.dumps(search_index(groups, hooks, self.errors()), ensure_ascii=False)
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
                    "type": str(self.schemas.deref(s).get("type", "")),
                    "scheme": str(self.schemas.deref(s).get("scheme", "")),
                    "location": " ".join(
                        str(self.schemas.deref(s).get(k, "")) for k in ("in", "name")
                    ).strip(),
                    "description": str(self.schemas.deref(s).get("description", "")),
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
            "idempotency": self.spec.idempotency.as_dict(),
            # x-implementation-defined: what a client must not depend on, each with its readings
            "implementation_defined": list(self.spec.implementation_defined),
            "limits": self.spec.limits.as_dict(),
            "precedence": [
                {
                    "step": str(item.get("step", "")),
                    "http": item.get("http"),
                    "codes": [str(c) for c in item.get("codes") or []],
                    "description": str(item.get("description", "")),
                }
                for item in self.spec.document.get("x-precedence") or []
                if isinstance(item, dict)
            ],
            "search_json": search_json.replace("</", "<\\/"),
            "key_envs": sorted(
                {op.auth.env for _t, _d, ops in groups for op in ops if op.auth.kind != "none"}
            ),
            "base_url": self.base_url,
            "inline": markdown_inline,
            "md": markdown_text,
            "cell": table_cell,
            "breakable": breakable,
        }
