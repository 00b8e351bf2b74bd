"""Any OpenAPI 3.0/3.1 document as a Postman Collection v2.1: folders per tag, one request per
operation with its example body, every named response example as a saved response, collection-level
auth inherited by every request, `{{baseUrl}}` and path variables."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from ..spec import ApiSpec, Operation

SCHEMA_URL = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
NAMESPACE = uuid.UUID("6f1d2c0e-8a5b-4c3d-9e7f-0a1b2c3d4e5f")


def stable_id(*parts: str) -> str:
    """Deterministic ids, so regenerating an unchanged spec gives identical files."""
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def _auth_for(spec: ApiSpec, token_variable: str) -> dict[str, Any] | None:
    """Collection auth from the document's global security, when Postman can express it."""
    schemes = (spec.document.get("components") or {}).get("securitySchemes") or {}
    for requirement in spec.document.get("security") or []:
        for name in requirement:
            scheme = spec.deref(schemes.get(name) or {})
            kind, http_scheme = scheme.get("type"), str(scheme.get("scheme", "")).lower()
            if kind == "http" and http_scheme == "bearer":
                return {
                    "type": "bearer",
                    "bearer": [
                        {"key": "token", "value": f"{{{{{token_variable}}}}}", "type": "string"}
                    ],
                }
            if kind == "http" and http_scheme == "basic":
                return {
                    "type": "basic",
                    "basic": [
                        {"key": "username", "value": "{{username}}", "type": "string"},
                        {"key": "password", "value": "{{password}}", "type": "string"},
                    ],
                }
            if kind == "apiKey":
                return {
                    "type": "apikey",
                    "apikey": [
                        {
                            "key": "key",
                            "value": str(scheme.get("name", "X-API-Key")),
                            "type": "string",
                        },
                        {"key": "value", "value": f"{{{{{token_variable}}}}}", "type": "string"},
                        {
                            "key": "in",
                            "value": "query" if scheme.get("in") == "query" else "header",
                            "type": "string",
                        },
                    ],
                }
            if kind in ("oauth2", "openIdConnect"):
                return {
                    "type": "oauth2",
                    "oauth2": [
                        {
                            "key": "accessToken",
                            "value": f"{{{{{token_variable}}}}}",
                            "type": "string",
                        },
                        {"key": "addTokenTo", "value": "header", "type": "string"},
                    ],
                }
    return None


def _url(op: Operation, query: list[dict[str, Any]]) -> dict[str, Any]:
    segments = [s for s in op.path.split("/") if s]
    variables = []
    path = []
    for segment in segments:
        if segment.startswith("{") and segment.endswith("}"):
            name = segment[1:-1]
            path.append(f":{name}")
            param = next(
                (p for p in op.parameters if p.get("name") == name and p.get("in") == "path"), {}
            )
            example = param.get("example") or (param.get("schema") or {}).get("example")
            variables.append(
                {
                    "key": name,
                    "value": "" if example is None else str(example),
                    "description": str(param.get("description", "")),
                }
            )
        else:
            path.append(segment)
    raw = "{{baseUrl}}/" + "/".join(path)
    if query:
        raw += "?" + "&".join(f"{q['key']}={q['value']}" for q in query)
    url: dict[str, Any] = {"raw": raw, "host": ["{{baseUrl}}"], "path": path}
    if query:
        url["query"] = query
    if variables:
        url["variable"] = variables
    return url


def _example_value(param: Mapping[str, Any]) -> str:
    schema = param.get("schema") or {}
    for value in (param.get("example"), schema.get("example"), schema.get("default")):
        if value is not None:
            return str(value).lower() if isinstance(value, bool) else str(value)
    return ""


def _params(op: Operation, location: str) -> list[dict[str, Any]]:
    """Postman entries for the operation's parameters in ``location`` (optional ones disabled)."""
    return [
        {
            "key": str(p["name"]),
            "value": _example_value(p),
            "description": str(p.get("description", "")),
            **({} if p.get("required") else {"disabled": True}),
        }
        for p in op.parameters
        if p.get("in") == location
    ]


def request_for(
    spec: ApiSpec, op: Operation, body: Any = None, name: str | None = None
) -> dict[str, Any]:
    """The Postman request of ``op`` (``body`` defaults to the first request example)."""
    query = _params(op, "query")
    headers = [
        h
        for h in _params(op, "header")
        if h["key"].lower() not in ("authorization", "content-type")
    ]
    request: dict[str, Any] = {
        "method": op.method,
        "header": headers,
        "url": _url(op, query),
        "description": op.description or op.summary,
    }
    if body is None and op.request_examples:
        body = op.request_examples[0].value
    if body is not None or op.request_schema is not None:
        request["header"] = [{"key": "Content-Type", "value": "application/json"}, *headers]
        request["body"] = {
            "mode": "raw",
            "raw": json.dumps(body if body is not None else {}, indent=2, ensure_ascii=False),
            "options": {"raw": {"language": "json"}},
        }
    if op.raw.get("security") == []:
        request["auth"] = {"type": "noauth"}
    return request


def _responses(spec: ApiSpec, op: Operation, request: dict[str, Any]) -> list[dict[str, Any]]:
    saved = []
    for status, response in op.responses.items():
        code = int(status) if status.isdigit() else 200
        for example in response.examples:
            saved.append(
                {
                    "id": stable_id(op.operation_id, status, example.name),
                    "name": f"{status} {example.name}",
                    "originalRequest": request,
                    "status": response.description[:60] or status,
                    "code": code,
                    "_postman_previewlanguage": "json",
                    "header": [{"key": "Content-Type", "value": "application/json"}],
                    "body": json.dumps(example.value, indent=2, ensure_ascii=False),
                }
            )
    return saved


def convert(spec: ApiSpec, token_variable: str = "apiKey") -> dict[str, Any]:
    """The whole collection for any document."""
    folders: dict[str, list[dict[str, Any]]] = {}
    declared = [str(t.get("name")) for t in spec.document.get("tags") or []]
    for name in declared:
        folders[name] = []
    for op in spec.operations.values():
        request = request_for(spec, op)
        item = {
            "id": stable_id("request", op.operation_id),
            "name": op.summary or op.operation_id,
            "request": request,
            "response": _responses(spec, op, request),
        }
        folders.setdefault(op.tag, []).append(item)
    webhooks = list(_webhook_items(spec))
    if webhooks:
        folders["Webhooks"] = webhooks
    servers = spec.servers
    base_url = str(servers[0].get("url", "")) if servers else "http://localhost"
    collection: dict[str, Any] = {
        "info": {
            "_postman_id": stable_id("collection", spec.title, spec.version),
            "name": f"{spec.title} {spec.version}".strip(),
            "description": str((spec.document.get("info") or {}).get("description", "")),
            "schema": SCHEMA_URL,
        },
        "item": [
            {"id": stable_id("folder", tag), "name": tag, "item": items}
            for tag, items in folders.items()
            if items
        ],
        "variable": [{"key": "baseUrl", "value": base_url, "type": "string"}],
    }
    if webhooks:
        collection["variable"].append(
            {"key": "webhookUrl", "value": "http://localhost:3000/webhook", "type": "string"}
        )
    auth = _auth_for(spec, token_variable)
    if auth is not None:
        collection["auth"] = auth
    return collection


def _webhook_items(spec: ApiSpec) -> Any:
    """OpenAPI 3.1 webhooks as requests that deliver the payload to your own `{{webhookUrl}}`."""
    from ..spec import HTTP_METHODS

    for name, item in (spec.document.get("webhooks") or {}).items():
        item = spec.deref(item)
        if not isinstance(item, Mapping):
            continue
        for method in HTTP_METHODS:
            raw = item.get(method)
            if not isinstance(raw, Mapping):
                continue
            op = spec._operation(f"/{name}", method, raw, [])
            request = request_for(spec, op)
            request["url"] = {"raw": "{{webhookUrl}}", "host": ["{{webhookUrl}}"]}
            request["auth"] = {"type": "noauth"}  # deliveries go to your endpoint, not the API
            yield {
                "id": stable_id("webhook", name, method),
                "name": f"webhook {name}: {op.summary or op.operation_id}",
                "request": request,
                "response": [],
            }
