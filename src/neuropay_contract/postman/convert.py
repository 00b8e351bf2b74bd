"""Any OpenAPI 3.0/3.1 document as a Postman Collection v2.1 that keeps everything: folders per
tag, one request per operation with auth (collection-level when global, per request where an
operation differs, ``noauth`` for ``security: []``), a body for every request body (the spec's
example or a schema-valid value; JSON, form-urlencoded, multipart with file fields, other types
raw), path variables, query, header and cookie parameters with values, the document's, path's or
operation's servers, saved example responses and descriptions; with ``tests`` a status and a
response-schema test per request."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from ..sampling import Sampler
from ..spec import HTTP_METHODS, ApiSpec, Operation
from .auth import AuthPlan, SecurityMapper
from .schema_tests import SCHEMAS_VARIABLE, AjvSchemas, tests_for

SCHEMA_URL = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
NAMESPACE = uuid.UUID("6f1d2c0e-8a5b-4c3d-9e7f-0a1b2c3d4e5f")
SKIPPED_HEADERS = {"authorization", "content-type", "accept"}  # OpenAPI ignores these parameters
_TEMPLATE = re.compile(r"\{([^{}/]+)\}")


def stable_id(*parts: str) -> str:
    """Deterministic ids, so regenerating an unchanged spec gives identical files."""
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def _text(value: Any) -> str:
    """A parameter value as Postman text (booleans as JSON spells them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return str(value)


def server_url(server: Mapping[str, Any]) -> str:
    """A server's URL with its variables at their defaults, without a trailing slash."""
    url = str(server.get("url", ""))
    for name, variable in (server.get("variables") or {}).items():
        if isinstance(variable, Mapping):
            url = url.replace(f"{{{name}}}", str(variable.get("default", "")))
    return url.rstrip("/")


class Converter:
    """Builds the collection of one document."""

    def __init__(self, spec: ApiSpec, tests: bool = False, token_variable: str | None = None):
        self.spec = spec
        self.tests = tests
        self.sampler = Sampler(spec.deref)
        self.security = SecurityMapper(spec, token_variable)
        self.global_auth = self.security.global_plan()
        servers = spec.servers
        self.base_url = server_url(servers[0]) if servers else "http://localhost"
        self.hosts: dict[str, str] = {self.base_url: "baseUrl"}  # server URL -> variable
        self.schemas = AjvSchemas(spec, shared=True)  # the test scripts' schemas, each once

    # -- values ----------------------------------------------------------------------------
    def param_value(self, param: Mapping[str, Any]) -> Any:
        """A parameter's example: example, examples, then its schema's own or a valid value."""
        if "example" in param:
            return param["example"]
        examples = param.get("examples")
        if isinstance(examples, Mapping):
            for example in examples.values():
                resolved = self.spec.deref(example)
                if isinstance(resolved, Mapping) and "value" in resolved:
                    return resolved["value"]
        schema = param.get("schema")
        if schema is None:  # content-typed parameter
            content = param.get("content") or {}
            media: Any = next(iter(content.values()), {}) if isinstance(content, Mapping) else {}
            schema = media.get("schema", {}) if isinstance(media, Mapping) else {}
        return self.sampler.value(schema)

    def media_value(self, media: Mapping[str, Any]) -> Any:
        if "example" in media:
            return media["example"]
        for example in (media.get("examples") or {}).values():
            resolved = self.spec.deref(example)
            if isinstance(resolved, Mapping) and "value" in resolved:
                return resolved["value"]
        return self.sampler.value(media.get("schema") or {})

    # -- url -------------------------------------------------------------------------------
    def _host(self, op: Operation) -> str:
        item = self.spec.deref((self.spec.document.get("paths") or {}).get(op.path) or {})
        servers = op.raw.get("servers") or (
            item.get("servers") if isinstance(item, Mapping) else None
        )
        if not servers or not isinstance(servers[0], Mapping):
            return "baseUrl"
        url = server_url(servers[0])
        return self.hosts.setdefault(url, f"baseUrl{len(self.hosts) + 1}")

    def _query(self, param: Mapping[str, Any], value: Any) -> list[dict[str, Any]]:
        name = str(param["name"])
        described = {"description": str(param.get("description", ""))}
        enabled = {} if param.get("required") else {"disabled": True}
        explode = param.get("explode", param.get("style", "form") == "form")
        if isinstance(value, list) and explode:
            return [{"key": name, "value": _text(v), **described, **enabled} for v in value]
        if isinstance(value, list):
            value = ",".join(_text(v) for v in value)
        if isinstance(value, Mapping) and param.get("style") == "deepObject":
            return [
                {"key": f"{name}[{k}]", "value": _text(v), **described, **enabled}
                for k, v in value.items()
            ]
        return [{"key": name, "value": _text(value), **described, **enabled}]

    def url(self, op: Operation, extra_query: list[dict[str, Any]]) -> dict[str, Any]:
        params = {(p.get("in"), p.get("name")): p for p in op.parameters if isinstance(p, Mapping)}
        path: list[str] = []
        variables: list[dict[str, Any]] = []
        for segment in [s for s in op.path.split("/") if s]:
            whole = _TEMPLATE.fullmatch(segment)
            if whole:
                name = whole.group(1)
                param = params.get(("path", name), {"name": name, "schema": {"type": "string"}})
                path.append(f":{name}")
                variables.append(
                    {
                        "key": name,
                        "value": _text(self.param_value(param)),
                        "description": str(param.get("description", "")),
                    }
                )
            else:  # a template inside a segment (`{id}.json`): Postman needs the value itself
                path.append(
                    _TEMPLATE.sub(
                        lambda m: _text(
                            self.param_value(params.get(("path", m.group(1)), {"schema": {}}))
                        ),
                        segment,
                    )
                )
        query = [
            entry
            for p in op.parameters
            if isinstance(p, Mapping) and p.get("in") == "query"
            for entry in self._query(p, self.param_value(p))
        ] + extra_query
        host = "{{" + self._host(op) + "}}"
        raw = host + "/" + "/".join(path)
        sent = [q for q in query if not q.get("disabled")]
        if sent:
            raw += "?" + "&".join(f"{q['key']}={q['value']}" for q in sent)
        url: dict[str, Any] = {"raw": raw, "host": [host], "path": path}
        if query:
            url["query"] = query
        if variables:
            url["variable"] = variables
        return url

    # -- headers and body ------------------------------------------------------------------
    def headers(self, op: Operation) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        cookies: list[str] = []
        for p in op.parameters:
            if not isinstance(p, Mapping):
                continue
            if p.get("in") == "header" and str(p.get("name", "")).lower() not in SKIPPED_HEADERS:
                found.append(
                    {
                        "key": str(p["name"]),
                        "value": _text(self.param_value(p)),
                        "description": str(p.get("description", "")),
                        **({} if p.get("required") else {"disabled": True}),
                    }
                )
            elif p.get("in") == "cookie" and p.get("required"):
                cookies.append(f"{p['name']}={_text(self.param_value(p))}")
        if cookies:
            found.append({"key": "Cookie", "value": "; ".join(cookies)})
        return found

    def body(self, op: Operation, value: Any = None) -> tuple[str | None, dict[str, Any] | None]:
        """(Content-Type, Postman body) for the operation's request body, if it has one."""
        raw_body = op.raw.get("requestBody")
        body = self.spec.deref(raw_body) if raw_body else None
        content = body.get("content") if isinstance(body, Mapping) else None
        if not isinstance(content, Mapping) or not content:
            return None, None
        mime = _pick_media(content)
        media = self.spec.deref(content[mime]) or {}
        kind = mime.split(";")[0].strip().lower()
        if value is None:
            value = self.media_value(media)
        if "json" in kind:
            text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
            return mime, {"mode": "raw", "raw": text, "options": {"raw": {"language": "json"}}}
        if kind == "application/x-www-form-urlencoded":
            return mime, {"mode": "urlencoded", "urlencoded": self._fields(media, value, False)}
        if kind.startswith("multipart/"):
            return mime, {"mode": "formdata", "formdata": self._fields(media, value, True)}
        if kind in ("application/octet-stream",) or kind.startswith(("image/", "audio/", "video/")):
            return mime, {"mode": "file", "file": {"src": ""}}
        language = "xml" if "xml" in kind else "text"
        text = (
            value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
        )
        return mime, {"mode": "raw", "raw": text, "options": {"raw": {"language": language}}}

    def _fields(self, media: Mapping[str, Any], value: Any, files: bool) -> list[dict[str, Any]]:
        schema = self.spec.deref(media.get("schema") or {})
        props = schema.get("properties") if isinstance(schema, Mapping) else None
        required = set(schema.get("required") or []) if isinstance(schema, Mapping) else set()
        values = value if isinstance(value, Mapping) else {}
        fields: list[dict[str, Any]] = []
        for name, prop in (props or {}).items():
            prop = self.spec.deref(prop) if isinstance(prop, Mapping) else {}
            described = {"description": str(prop.get("description", ""))} if prop else {}
            enabled = {} if name in required or name in values else {"disabled": True}
            if files and (prop.get("format") in ("binary", "base64") or "contentMediaType" in prop):
                fields.append({"key": str(name), "type": "file", "src": [], **described})
                continue
            field = values[name] if name in values else self.sampler.value(prop)
            entries: list[tuple[str, Any]] = [(str(name), field)]
            if isinstance(field, Mapping):  # deepObject, as form APIs expect
                entries = [(f"{name}[{k}]", v) for k, v in field.items()]
            elif isinstance(field, list):
                entries = [(f"{name}[]" if not files else str(name), v) for v in field]
            for key, item in entries:
                entry = {"key": key, "value": _text(item), **described, **enabled}
                fields.append({**entry, "type": "text"} if files else entry)
        if not props and isinstance(value, Mapping):
            fields = [{"key": str(k), "value": _text(v)} for k, v in value.items()]
        return fields

    # -- requests --------------------------------------------------------------------------
    def request(self, op: Operation, body: Any = None) -> dict[str, Any]:
        own = self.security.operation_plan(op.raw)
        plan: AuthPlan = own if own is not None else self.global_auth
        headers = self.headers(op) + plan.headers
        request: dict[str, Any] = {
            "method": op.method,
            "header": headers,
            "url": self.url(op, plan.query),
            "description": op.description or op.summary,
        }
        if body is None and op.request_examples:
            body = op.request_examples[0].value
        mime, postman_body = self.body(op, body)
        if postman_body is not None:
            if postman_body["mode"] != "formdata":  # Postman adds the multipart boundary itself
                request["header"] = [{"key": "Content-Type", "value": mime}, *headers]
            request["body"] = postman_body
        if own is not None and own.auth != self.global_auth.auth:
            request["auth"] = own.auth if own.auth is not None else {"type": "noauth"}
        return request

    def responses(self, op: Operation, request: dict[str, Any]) -> list[dict[str, Any]]:
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
                        "body": json.dumps(
                            example.value, indent=2, ensure_ascii=False, default=str
                        ),
                    }
                )
        return saved

    def item(self, op: Operation) -> dict[str, Any]:
        request = self.request(op)
        item: dict[str, Any] = {
            "id": stable_id("request", op.operation_id),
            "name": op.summary or op.operation_id,
            "request": request,
            "response": self.responses(op, request),
        }
        if self.tests:
            item["event"] = [
                {
                    "listen": "test",
                    "script": {
                        "type": "text/javascript",
                        "exec": tests_for(self.spec, op, self.schemas),
                    },
                }
            ]
        return item

    def webhooks(self) -> Iterator[dict[str, Any]]:
        """OpenAPI 3.1 webhooks as requests that deliver the payload to your `{{webhookUrl}}`."""
        for name, item in (self.spec.document.get("webhooks") or {}).items():
            item = self.spec.deref(item)
            if not isinstance(item, Mapping):
                continue
            for method in HTTP_METHODS:
                raw = item.get(method)
                if not isinstance(raw, Mapping):
                    continue
                op = self.spec._operation(f"/{name}", method, raw, [])
                request = self.request(op)
                request["url"] = {"raw": "{{webhookUrl}}", "host": ["{{webhookUrl}}"]}
                request["auth"] = {"type": "noauth"}  # deliveries go to your endpoint
                yield {
                    "id": stable_id("webhook", name, method),
                    "name": f"webhook {name}: {op.summary or op.operation_id}",
                    "request": request,
                    "response": [],
                }

    def collection(self) -> dict[str, Any]:
        folders: dict[str, list[dict[str, Any]]] = {}
        for tag in self.spec.document.get("tags") or []:
            if isinstance(tag, Mapping):
                folders[str(tag.get("name"))] = []
        for op in self.spec.operations.values():
            folders.setdefault(op.tag, []).append(self.item(op))
        webhooks = list(self.webhooks())
        if webhooks:
            folders["Webhooks"] = webhooks
        spec = self.spec
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
            "variable": [
                {"key": var, "value": url, "type": "string"} for url, var in self.hosts.items()
            ],
        }
        if webhooks:
            collection["variable"].append(
                {"key": "webhookUrl", "value": "http://localhost:3000/webhook", "type": "string"}
            )
        # One empty variable per credential, unless the caller's environments hold the token
        credentials = self.security.variables if self.security.token_variable is None else {}
        for var, description in credentials.items():
            collection["variable"].append(
                {"key": var, "value": "", "type": "string", "description": description}
            )
        if self.global_auth.auth is not None and self.global_auth.auth["type"] != "noauth":
            collection["auth"] = self.global_auth.auth
        if self.schemas.definitions:
            # every schema the test scripts refer to, once (see schema_tests)
            collection["variable"].append(
                {
                    "key": SCHEMAS_VARIABLE,
                    "value": json.dumps(
                        self.schemas.definitions, separators=(",", ":"), default=str
                    ),
                    "type": "string",
                    "description": "The response schemas the test scripts check, shared.",
                }
            )
        return collection


def _pick_media(content: Mapping[str, Any]) -> str:
    """The media type a client would send: JSON first, then forms, then whatever comes first."""
    names = [str(m) for m in content]
    for wanted in ("application/json", "+json", "json", "x-www-form-urlencoded", "multipart/"):
        for name in names:
            if wanted in name.lower():
                return name
    return names[0]


def convert(
    spec: ApiSpec, token_variable: str | None = None, tests: bool = False
) -> dict[str, Any]:
    """The whole collection for any document (``tests``: a status and schema test per request)."""
    return Converter(spec, tests, token_variable).collection()


def request_for(
    spec: ApiSpec, op: Operation, body: Any = None, name: str | None = None
) -> dict[str, Any]:
    """The Postman request of ``op`` (``body`` defaults to the first request example)."""
    return Converter(spec).request(op, body)
