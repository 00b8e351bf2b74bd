"""Drift between an existing Postman collection and the spec."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import NeuropayError
from ..spec import ApiSpec


@dataclass(frozen=True)
class Drift:
    kind: str
    where: str
    message: str


def load_collection(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NeuropayError(f"collection {path} does not exist") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise NeuropayError(f"collection {path} is not valid JSON: {exc}") from None
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
    return re.sub(r"/:([A-Za-z0-9_]+)", r"/{\1}", path) or "/"


def _template_match(spec_path: str, path: str) -> bool:
    pattern = "^" + re.sub(r"\\\{[^/]+\\\}", "[^/]+", re.escape(spec_path)) + "$"
    return re.match(pattern, path) is not None or spec_path == path


def diff_collection(spec: ApiSpec, collection: dict[str, Any]) -> list[Drift]:
    found: list[Drift] = []
    seen: set[str] = set()
    has_collection_auth = isinstance(collection.get("auth"), dict) and collection["auth"].get(
        "type"
    ) not in (None, "noauth")
    if spec.document.get("security") and not has_collection_auth:
        found.append(
            Drift(
                "auth",
                "collection",
                "the spec requires auth but the collection has no collection-level auth for requests to inherit",
            )
        )
    for name, request in _requests(collection["item"]):
        method = str(request.get("method", "GET")).upper()
        path = _path(request)
        op = next(
            (
                o
                for o in spec.operations.values()
                if o.method == method and _template_match(o.path, path)
            ),
            None,
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
        if isinstance(auth, dict) and auth.get("type") not in ("noauth",) and has_collection_auth:
            found.append(
                Drift(
                    "auth",
                    name,
                    f"{op.operation_id} sets its own {auth.get('type')} auth instead of inheriting the collection's",
                )
            )
        if (
            isinstance(auth, dict)
            and auth.get("type") == "noauth"
            and op.raw.get("security") != []
            and spec.document.get("security")
        ):
            found.append(
                Drift("auth", name, f"{op.operation_id} sends no auth, but the spec requires it")
            )
        body = request.get("body") or {}
        raw = body.get("raw") if isinstance(body, dict) else None
        if raw and op.request_schema is not None:
            try:
                data = json.loads(re.sub(r'"?\{\{[^}]+\}\}"?', '"x"', raw))
            except ValueError:
                found.append(Drift("body", name, f"{op.operation_id}: the body is not JSON"))
                continue
            schema = spec.deref(op.request_schema)
            props = set(schema.get("properties") or {})
            if isinstance(data, dict):
                for key in sorted(set(data) - props):
                    found.append(
                        Drift(
                            "body",
                            name,
                            f"{op.operation_id}: field '{key}' is not in the spec's request schema",
                        )
                    )
                for key in sorted(set(schema.get("required") or []) - set(data)):
                    found.append(
                        Drift("body", name, f"{op.operation_id}: required field '{key}' is missing")
                    )
    for op in spec.operations.values():
        if op.operation_id not in seen:
            found.append(
                Drift(
                    "missing-operation",
                    op.operation_id,
                    f"the collection has no request for {op.method} {op.path} ({op.operation_id})",
                )
            )
    return found
