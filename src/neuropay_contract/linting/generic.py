"""Rules for any OpenAPI document, the ones users know from ``spectral:oas``: the regex dialect of
``pattern``, ``$ref`` siblings in 3.0, unused components, a server URL's trailing slash,
URL-safe operationIds. They read the raw document, so they run on one that fails validation."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from ..spec import ApiSpec, escape_pointer
from .regex_dialect import check
from .rules import Finding, rule

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# Where a value is data, not OpenAPI: a "$ref" or a "pattern" key there means nothing.
_DATA_KEYS = ("example", "examples", "default", "enum", "const")


def _walk(node: Any, pointer: str = "#") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every mapping of the document's OpenAPI structure with its pointer (data values skipped)."""
    stack: list[tuple[str, Any]] = [(pointer, node)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, Mapping):
            yield where, value
            in_properties = where.endswith("/properties")  # there "default" is a property's name
            for key, child in value.items():
                if (key in _DATA_KEYS and not in_properties) or str(key).startswith("x-"):
                    continue
                stack.append((f"{where}/{escape_pointer(str(key))}", child))
        elif isinstance(value, list):
            stack.extend((f"{where}/{i}", child) for i, child in enumerate(value))


def _schemas_with_patterns(document: Any) -> Iterator[tuple[str, str]]:
    for pointer, node in _walk(document):
        pattern = node.get("pattern")
        if isinstance(pattern, str):
            yield f"{pointer}/pattern", pattern
        props = node.get("patternProperties")
        if isinstance(props, Mapping):
            for key in props:
                yield f"{pointer}/patternProperties/{escape_pointer(str(key))}", str(key)


@rule(
    "NP013",
    "every pattern is ECMA-262 with the u flag (JSON Schema 2020-12), not only without it",
    "warning",
)
def pattern_dialect(spec: ApiSpec) -> Iterator[Finding]:
    for pointer, pattern in _schemas_with_patterns(spec.document):
        verdict = check(pattern)
        if verdict.without_u is not None:
            yield Finding(
                "NP013",
                pointer,
                f"the pattern is not valid ECMA-262 with or without the u flag: {verdict.without_u}",
                severity="error",
            )
        elif verdict.with_u is not None:
            yield Finding(
                "NP013",
                pointer,
                "the pattern is ECMA-262 only without the u flag (Annex B): "
                f"{verdict.with_u}; JSON Schema 2020-12 says to build patterns with u, and "
                "validators that do (Ajv with unicodeRegExp, jsonschema-rs) refuse it",
            )


@rule("NP014", "no $ref has sibling keys in OpenAPI 3.0 (they are ignored)")
def ref_siblings(spec: ApiSpec) -> Iterator[Finding]:
    if not str(spec.document.get("openapi", "")).startswith("3.0"):
        return  # 3.1 lets summary and description (and any schema keyword) stand beside $ref
    for pointer, node in _walk(spec.document):
        if "$ref" in node and len(node) > 1:
            others = ", ".join(sorted(str(k) for k in node if k != "$ref"))
            yield Finding(
                "NP014",
                pointer,
                f"$ref has siblings ({others}), which OpenAPI 3.0 ignores; wrap it in allOf",
            )


_COMPONENTS = (
    "schemas",
    "responses",
    "parameters",
    "examples",
    "requestBodies",
    "headers",
    "links",
    "callbacks",
    "pathItems",
)


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    stack = [node]
    while stack:
        value = stack.pop()
        if isinstance(value, Mapping):
            ref = value.get("$ref")
            if isinstance(ref, str):
                found.add(ref)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return found


@rule("NP015", "every component is referenced", "warning")
def unused_components(spec: ApiSpec) -> Iterator[Finding]:
    components = spec.document.get("components")
    if not isinstance(components, Mapping):
        return
    used: set[str] = set()
    for ref in _refs(spec.document):
        if ref.startswith("#/components/"):
            kind, _, rest = ref[len("#/components/") :].partition("/")
            used.add(f"{kind}/{rest.split('/')[0]}")
    named = _named_by_extensions(spec)
    for kind in _COMPONENTS:
        table = components.get(kind)
        if not isinstance(table, Mapping):
            continue
        for name in table:
            key = f"{kind}/{escape_pointer(str(name))}"
            if key not in used and not (kind == "schemas" and name in named):
                yield Finding(
                    "NP015",
                    f"#/components/{key}",
                    f"components/{kind}/{name} is never referenced; use it or remove it",
                )


def _named_by_extensions(spec: ApiSpec) -> set[str]:
    """Schemas our extensions name without a $ref (x-lifecycle's object schema)."""
    lifecycle = spec.document.get("x-lifecycle")
    if isinstance(lifecycle, Mapping) and isinstance(lifecycle.get("schema"), str):
        return {lifecycle["schema"]}
    return set()


def _servers(document: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    yield "#/servers", document.get("servers")
    paths = document.get("paths")
    for path, item in paths.items() if isinstance(paths, Mapping) else []:
        if not isinstance(item, Mapping):
            continue
        base = f"#/paths/{escape_pointer(str(path))}"
        yield f"{base}/servers", item.get("servers")
        for method in _METHODS:
            op = item.get(method)
            if isinstance(op, Mapping):
                yield f"{base}/{method}/servers", op.get("servers")


@rule("NP016", "no server URL ends with a slash (paths start with one)", "warning")
def server_trailing_slash(spec: ApiSpec) -> Iterator[Finding]:
    for pointer, servers in _servers(spec.document):
        for index, server in enumerate(servers if isinstance(servers, list) else []):
            url = server.get("url") if isinstance(server, Mapping) else None
            if isinstance(url, str) and url.endswith("/") and url != "/":
                yield Finding(
                    "NP016",
                    f"{pointer}/{index}/url",
                    f"server URL {url!r} ends with '/': joined with a path it gives '//'; "
                    "remove the slash",
                )


# RFC 3986's unreserved and reserved characters: what may stand in a URL unescaped.
_URL_SAFE = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]*$")


@rule("NP017", "every operationId is URL-safe (tools put it in URLs and file names)", "warning")
def operation_id_url_safe(spec: ApiSpec) -> Iterator[Finding]:
    paths = spec.document.get("paths")
    for path, item in paths.items() if isinstance(paths, Mapping) else []:
        if not isinstance(item, Mapping):
            continue
        for method in _METHODS:
            op = item.get(method)
            op_id = op.get("operationId") if isinstance(op, Mapping) else None
            if isinstance(op_id, str) and not _URL_SAFE.match(op_id):
                yield Finding(
                    "NP017",
                    f"#/paths/{escape_pointer(str(path))}/{method}/operationId",
                    f"operationId {op_id!r} has characters a URL cannot hold unescaped; "
                    "use letters, digits and -._~",
                )
