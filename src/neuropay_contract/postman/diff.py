"""Drift between an existing Postman collection and the spec."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..documents import DocumentError, parse_json, read_json
from ..errors import NeuropayError
from ..spec import ApiSpec, Operation


@dataclass(frozen=True)
class Drift:
    kind: str
    where: str
    message: str


def load_collection(path: Path) -> dict[str, Any]:
    """A Postman collection file, read safely (one-line error when missing, invalid or too deep)."""
    data = read_json(path, "collection")
    if not isinstance(data, dict) or not isinstance(data.get("item"), list):
        raise NeuropayError(f"{path} is not a Postman collection (no 'item' list)")
    return data


def _requests(items: list[Any], trail: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    for item in items:
        if not isinstance(item, dict):
            continue
        name = f"{trail}/{item.get('name', '?')}"
        if isinstance(item.get("item"), list):
            yield from _requests(item["item"], name)
        elif isinstance(item.get("request"), dict):
            yield name, item["request"]


def _path(request: dict[str, Any]) -> str:
    url = request.get("url")
    raw = url.get("raw", "") if isinstance(url, dict) else str(url or "")
    if isinstance(url, dict) and isinstance(url.get("path"), list):
        path = "/" + "/".join(str(p) for p in url["path"])
    else:
        path = re.sub(r"^(\{\{[^}]+\}\}|https?://[^/]+)", "", raw.split("?")[0])
    return re.sub(r"/:([^/]+)", r"/{\1}", path) or "/"


def _template_match(spec_path: str, path: str) -> bool:
    pattern = "^" + re.sub(r"\\\{[^/]+\\\}", "[^/]+", re.escape(spec_path)) + "$"
    return re.match(pattern, path) is not None or spec_path == path


# A Postman variable stands for a value the diff cannot know, and errors about it (type, pattern,
# enum ...) are not drift. Where it stands for a JSON value ({"amount": {{amount}}}) it becomes
# the VARIABLE string; inside a JSON string ("Basic {{credentials}}") it is text, replaced by
# VARIABLE's text so the string stays a string.
VARIABLE = "\u0000postman-variable"
_VARIABLE_RE = re.compile(r"\{\{[^{}\n\"]+\}\}")
_IN_STRING = json.dumps(VARIABLE)[1:-1]


def substitute_variables(raw: str) -> str:
    """``raw`` with every Postman ``{{variable}}`` replaced: as a JSON value outside strings, as
    text inside them (Postman substitutes text; only where it stands decides what it is)."""
    out: list[str] = []
    in_string = False
    i = 0
    while i < len(raw):
        match = _VARIABLE_RE.match(raw, i) if raw.startswith("{{", i) else None
        if match:
            out.append(_IN_STRING if in_string else json.dumps(VARIABLE))
            i = match.end()
            continue
        ch = raw[i]
        if in_string and ch == "\\":
            out.append(raw[i : i + 2])
            i += 2
            continue
        if ch == '"':
            in_string = not in_string
        out.append(ch)
        i += 1
    return "".join(out)


def _where(path: Iterable[Any]) -> str:
    where = ""
    for part in path:
        where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
    return where


# openapi-to-postmanv2 writes type placeholders ("<integer>", "<email>", "<dateTime>") for values
_PLACEHOLDER_RE = re.compile(r"^<[A-Za-z][A-Za-z0-9-]*>$")


def _mentions_variable(instance: Any) -> bool:
    if isinstance(instance, str):
        return VARIABLE in instance or _PLACEHOLDER_RE.match(instance) is not None
    if isinstance(instance, dict):
        return any(_mentions_variable(v) for v in instance.values())
    if isinstance(instance, list):
        return any(_mentions_variable(v) for v in instance)
    return False


def _body_drift(spec: ApiSpec, op: Operation, request: dict[str, Any]) -> list[str]:
    """What is wrong with a request's body against the operation's JSON schema, at any depth."""
    body = request.get("body") or {}
    if not isinstance(body, dict) or op.request_schema is None:
        return []
    mode = body.get("mode")
    if mode in ("urlencoded", "formdata", "file", "graphql"):
        return [f"the body is sent as {mode}, the spec wants application/json"]
    raw = body.get("raw")
    if mode not in (None, "raw") or not isinstance(raw, str) or not raw.strip():
        return []
    for header in request.get("header") or []:
        if (
            isinstance(header, dict)
            and str(header.get("key", "")).lower() == "content-type"
            and not header.get("disabled")
            and "json" not in str(header.get("value", "")).lower()
            and "{{" not in str(header.get("value", ""))
        ):
            return [f"Content-Type is {header.get('value')!r}, the spec wants application/json"]
    try:
        data = parse_json(substitute_variables(raw), "the body")
    except DocumentError as exc:
        return [str(exc)]
    messages: list[str] = []
    for error in spec.validation_errors(op.request_schema, data):
        where = _where(error.absolute_path)
        instance = error.instance
        if error.validator == "additionalProperties" and isinstance(instance, dict):
            schema = error.schema if isinstance(error.schema, Mapping) else {}
            known = set(schema.get("properties") or {})
            for key in sorted(set(instance) - known):
                field = _where([*error.absolute_path, key])
                messages.append(f"field '{field}' is not in the spec's request schema")
        elif error.validator == "required" and isinstance(instance, dict):
            wanted = error.validator_value if isinstance(error.validator_value, list) else []
            for key in sorted(set(wanted) - set(instance)):
                field = _where([*error.absolute_path, key])
                messages.append(f"required field '{field}' is missing")
        elif _mentions_variable(instance) and error.validator != "dependentRequired":
            continue  # a {{variable}} the diff cannot judge
        else:
            messages.append(f"{where or 'the body'}: {error.message}")
    return list(dict.fromkeys(messages))  # a rule repeated by allOf/if-then is one drift


def _needs_auth(requirements: Any) -> bool:
    """Whether a ``security`` list demands credentials (not empty, no anonymous ``{}`` first)."""
    if not isinstance(requirements, list) or not requirements:
        return False
    first = requirements[0]
    return not (isinstance(first, Mapping) and not first)


def _to_webhook(request: dict[str, Any]) -> bool:
    """A webhook delivery aimed at the user's own endpoint, not at the API."""
    url = request.get("url")
    raw = url.get("raw", "") if isinstance(url, dict) else str(url or "")
    return str(raw).startswith("{{webhookUrl}}")


def diff_collection(spec: ApiSpec, collection: dict[str, Any]) -> list[Drift]:
    found: list[Drift] = []
    seen: set[str] = set()
    has_collection_auth = isinstance(collection.get("auth"), dict) and collection["auth"].get(
        "type"
    ) not in (None, "noauth")
    global_security = spec.document.get("security")
    if spec.document.get("security") and not has_collection_auth:
        found.append(
            Drift(
                "auth",
                "collection",
                "the spec requires auth but the collection has no collection-level auth for requests to inherit",
            )
        )
    for name, request in _requests(collection["item"]):
        if _to_webhook(request):
            continue
        method = str(request.get("method", "GET")).upper()
        path = _path(request)
        # The most literal match wins: /pets/mine is GET /pets/mine, not GET /pets/{id}
        op = min(
            (
                o
                for o in spec.operations.values()
                if o.method == method and _template_match(o.path, path)
            ),
            key=lambda o: o.path.count("{"),
            default=None,
        )
        if op is None:
            other = [o.method for o in spec.operations.values() if _template_match(o.path, path)]
            detail = (
                f"the spec has {path} only for {', '.join(other)}"
                if other
                else f"the spec has no path {path}"
            )
            found.append(Drift("unknown-request", name, f"{method} {path}: {detail}"))
            continue
        seen.add(op.operation_id)
        auth = request.get("auth")
        security = op.raw.get("security", global_security)
        own_security = "security" in op.raw and op.raw["security"] != global_security
        if (
            isinstance(auth, dict)
            and auth.get("type") not in ("noauth",)
            and has_collection_auth
            and not own_security
        ):
            found.append(
                Drift(
                    "auth",
                    name,
                    f"{op.operation_id} sets its own {auth.get('type')} auth instead of inheriting the collection's",
                )
            )
        sends = auth.get("type") if isinstance(auth, dict) else None
        if sends is None and has_collection_auth:
            sends = collection["auth"].get("type")
        if _needs_auth(security) and sends in (None, "noauth"):
            found.append(
                Drift("auth", name, f"{op.operation_id} sends no auth, but the spec requires it")
            )
        found += [
            Drift("body", name, f"{op.operation_id}: {m}") for m in _body_drift(spec, op, request)
        ]
    for op in spec.operations.values():
        # Test-only helpers (x-test-only) are conveniences of test mode, not part of the API a
        # collection is expected to cover.
        if op.operation_id not in seen and not op.test_only:
            found.append(
                Drift(
                    "missing-operation",
                    op.operation_id,
                    f"the collection has no request for {op.method} {op.path} ({op.operation_id})",
                )
            )
    return found
