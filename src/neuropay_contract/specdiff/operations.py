"""Compare operations: paths and methods, parameters, request bodies, responses and security."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .context import DiffContext, attribute, child
from .extensions import compare_generic
from .model import Change, Document, OperationRef
from .schemas import Direction, SchemaDiffer

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_PARAM = re.compile(r"\{[^}]*\}")


@dataclass(frozen=True)
class OperationSite:
    """An operation where it sits in its document, with the path item's shared parameters."""

    ref: OperationRef
    node: dict[str, Any]
    pointer: str
    shared_parameters: tuple[tuple[Any, str], ...]


def operations_of(ctx: DiffContext, doc: Document) -> dict[tuple[str, str], OperationSite]:
    """Operations keyed by method and path template (parameter names do not matter)."""
    found: dict[tuple[str, str], OperationSite] = {}
    paths = doc.content.get("paths")
    for path, raw_item in (paths if isinstance(paths, dict) else {}).items():
        item, _ = ctx.resolve(doc, raw_item, child("#/paths", path))
        if not isinstance(item, dict):
            continue
        base = child("#/paths", path)
        shared = tuple(
            (p, child(base, "parameters", i))
            for i, p in enumerate(_as_list(item.get("parameters")))
        )
        for method in HTTP_METHODS:
            node = item.get(method)
            if isinstance(node, dict):
                op_id = str(node.get("operationId") or f"{method.upper()} {path}")
                ref = OperationRef(method.upper(), str(path), op_id)
                key = (method.upper(), _PARAM.sub("{}", str(path)))
                found[key] = OperationSite(ref, node, child(base, method), shared)
    return found


class OperationDiffer:
    """Compares every operation of the old document with its counterpart in the new one."""

    def __init__(self, ctx: DiffContext) -> None:
        self.ctx = ctx
        self.schemas = SchemaDiffer(ctx)
        self._responses: dict[tuple[int, int], list[Change]] = {}

    def compare_all(self) -> tuple[list[Change], dict[str, OperationRef]]:
        """All operation-level changes, and every operationId's ref (new side preferred)."""
        old_ops = operations_of(self.ctx, self.ctx.old)
        new_ops = operations_of(self.ctx, self.ctx.new)
        by_id = {site.ref.operation_id: site for site in new_ops.values()}
        old_ids = {site.ref.operation_id for site in old_ops.values()}
        out: list[Change] = []
        moved: set[str] = set()
        for key, site in old_ops.items():
            if key in new_ops:
                out.extend(self._operation(site, new_ops[key]))
                continue
            target = by_id.get(site.ref.operation_id)
            if (
                target is not None
                and (target.ref.method, _PARAM.sub("{}", target.ref.path)) not in old_ops
            ):
                moved.add(site.ref.operation_id)
                change = self.ctx.change(
                    "operation-moved",
                    f"{site.ref.operation_id} moved from {site.ref.label} to {target.ref.label}",
                    site.pointer,
                    target.pointer,
                )
                out.extend(attribute([change], target.ref))
                out.extend(self._operation(site, target))
            else:
                # Removing what was announced as deprecated is the expected end of it.
                rid = (
                    "deprecated-operation-removed"
                    if site.node.get("deprecated")
                    else "operation-removed"
                )
                change = self.ctx.change(rid, f"{site.ref.label} removed", site.pointer, None)
                out.extend(attribute([change], site.ref))
        for key, site in new_ops.items():
            if key not in old_ops and site.ref.operation_id not in moved:
                reason = f"new operation {site.ref.label}"
                if site.ref.operation_id in old_ids:
                    reason += f" (operationId {site.ref.operation_id} also still elsewhere)"
                out.extend(
                    attribute(
                        [self.ctx.change("operation-added", reason, None, site.pointer)], site.ref
                    )
                )
        refs = {s.ref.operation_id: s.ref for s in old_ops.values()}
        refs.update({s.ref.operation_id: s.ref for s in new_ops.values()})
        return out, refs

    # -- one operation -------------------------------------------------------------------
    def _operation(self, o: OperationSite, n: OperationSite) -> list[Change]:
        mk = self.ctx.change
        out: list[Change] = []
        if o.ref.operation_id != n.ref.operation_id and o.ref.label == n.ref.label:
            out.append(
                mk(
                    "operation-id-changed",
                    f"operationId {o.ref.operation_id} became {n.ref.operation_id}",
                    child(o.pointer, "operationId"),
                    child(n.pointer, "operationId"),
                )
            )
        if not o.node.get("deprecated") and n.node.get("deprecated"):
            out.append(
                mk(
                    "operation-deprecated",
                    f"{n.ref.label} is deprecated",
                    o.pointer,
                    child(n.pointer, "deprecated"),
                )
            )
        out.extend(self._parameters(o, n))
        out.extend(self._request_body(o, n))
        out.extend(self._responses_of(o, n))
        out.extend(self._security(o, n))
        for key in sorted({*o.node, *n.node}):
            if key.startswith("x-"):
                out.extend(
                    compare_generic(
                        self.ctx,
                        o.node.get(key),
                        n.node.get(key),
                        child(o.pointer, key),
                        child(n.pointer, key),
                    )
                )
        return attribute(out, n.ref)

    def _params(
        self, doc: Document, site: OperationSite
    ) -> dict[tuple[str, str], tuple[dict[str, Any], str]]:
        found: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
        own = [
            (p, child(site.pointer, "parameters", i))
            for i, p in enumerate(_as_list(site.node.get("parameters")))
        ]
        for raw, ptr in [*site.shared_parameters, *own]:
            param, param_ptr = self.ctx.resolve(doc, raw, ptr)
            if isinstance(param, dict) and "name" in param:
                where = str(param.get("in", ""))
                name = str(param["name"])
                key = (where, name.lower() if where == "header" else name)
                if where == "path":
                    key = (where, f"#{len([k for k in found if k[0] == 'path'])}")
                found[key] = (param, param_ptr)
        return found

    def _parameters(self, o: OperationSite, n: OperationSite) -> list[Change]:
        mk = self.ctx.change
        out: list[Change] = []
        old_params, new_params = self._params(self.ctx.old, o), self._params(self.ctx.new, n)
        for key, (param, ptr) in new_params.items():
            label = f"{key[0]} parameter {param.get('name')!r}"
            if key not in old_params:
                required = bool(param.get("required"))
                rid = (
                    "request-parameter-added-required"
                    if required
                    else "request-parameter-added-optional"
                )
                out.append(
                    mk(rid, f"new {'required' if required else 'optional'} {label}", o.pointer, ptr)
                )
                continue
            old_param, old_ptr = old_params[key]
            if bool(old_param.get("required")) != bool(param.get("required")):
                state = "required" if param.get("required") else "optional"
                out.append(
                    mk(f"request-parameter-became-{state}", f"{label} became {state}", old_ptr, ptr)
                )
            if "schema" in old_param and "schema" in param:
                out.extend(
                    self.schemas.compare(
                        old_param["schema"],
                        param["schema"],
                        child(old_ptr, "schema"),
                        child(ptr, "schema"),
                        "request",
                    )
                )
        for key, (param, ptr) in old_params.items():
            if key not in new_params:
                out.append(
                    mk(
                        "request-parameter-removed",
                        f"{key[0]} parameter {param.get('name')!r} removed",
                        ptr,
                        n.pointer,
                    )
                )
        return out

    def _request_body(self, o: OperationSite, n: OperationSite) -> list[Change]:
        mk = self.ctx.change
        old_ptr, new_ptr = child(o.pointer, "requestBody"), child(n.pointer, "requestBody")
        old_body, old_ptr = self.ctx.resolve(self.ctx.old, o.node.get("requestBody"), old_ptr)
        new_body, new_ptr = self.ctx.resolve(self.ctx.new, n.node.get("requestBody"), new_ptr)
        if not isinstance(new_body, dict):
            if isinstance(old_body, dict):
                return [
                    mk(
                        "request-body-removed",
                        "the operation no longer takes a request body",
                        old_ptr,
                        n.pointer,
                    )
                ]
            return []
        if not isinstance(old_body, dict):
            if new_body.get("required"):
                return [
                    mk(
                        "request-body-became-required",
                        "a required request body was added",
                        o.pointer,
                        new_ptr,
                    )
                ]
            return []
        out: list[Change] = []
        if bool(old_body.get("required")) != bool(new_body.get("required")):
            state = "required" if new_body.get("required") else "optional"
            out.append(
                mk(
                    f"request-body-became-{state}",
                    f"the request body became {state}",
                    child(old_ptr, "required") if "required" in old_body else old_ptr,
                    child(new_ptr, "required") if "required" in new_body else new_ptr,
                )
            )
        out.extend(self._content(old_body, new_body, old_ptr, new_ptr, "request"))
        return out

    def _content(
        self, old: dict[str, Any], new: dict[str, Any], old_ptr: str, new_ptr: str, d: str
    ) -> list[Change]:
        mk = self.ctx.change
        out: list[Change] = []
        old_content, new_content = _as_dict(old.get("content")), _as_dict(new.get("content"))
        for mime in old_content:
            if mime not in new_content:
                out.append(
                    mk(
                        f"{d}-content-type-removed",
                        f"media type {mime} removed",
                        child(old_ptr, "content", mime),
                        child(new_ptr, "content") if new_content else new_ptr,
                    )
                )
        for mime in new_content:
            if mime not in old_content:
                out.append(
                    mk(
                        f"{d}-content-type-added",
                        f"media type {mime} added",
                        child(old_ptr, "content") if old_content else old_ptr,
                        child(new_ptr, "content", mime),
                    )
                )
                continue
            old_media, new_media = _as_dict(old_content[mime]), _as_dict(new_content[mime])
            if "schema" in old_media and "schema" in new_media:
                direction: Direction = "request" if d == "request" else "response"
                out.extend(
                    self.schemas.compare(
                        old_media["schema"],
                        new_media["schema"],
                        child(old_ptr, "content", mime, "schema"),
                        child(new_ptr, "content", mime, "schema"),
                        direction,
                    )
                )
        return out

    def _responses_of(self, o: OperationSite, n: OperationSite) -> list[Change]:
        mk = self.ctx.change
        out: list[Change] = []
        old_responses, new_responses = (
            _as_dict(o.node.get("responses")),
            _as_dict(n.node.get("responses")),
        )
        old_base, new_base = child(o.pointer, "responses"), child(n.pointer, "responses")
        had_success = any(_success(s) for s in old_responses)
        for status in old_responses:
            if str(status) not in {str(s) for s in new_responses}:
                rid = (
                    "response-success-status-removed"
                    if _success(status)
                    else "response-error-status-removed"
                )
                out.append(mk(rid, f"status {status} removed", child(old_base, status), new_base))
        for status in new_responses:
            if str(status) in {str(s) for s in old_responses}:
                out.extend(
                    self._response(
                        old_responses[status],
                        new_responses[status],
                        child(old_base, status),
                        child(new_base, status),
                    )
                )
            elif _success(status):
                if had_success:
                    out.append(
                        mk(
                            "response-success-status-added",
                            f"new success status {status}",
                            old_base,
                            child(new_base, status),
                        )
                    )
            else:
                out.append(
                    mk(
                        "response-error-status-added",
                        f"new error status {status}",
                        old_base,
                        child(new_base, status),
                    )
                )
        return out

    def _response(self, old: Any, new: Any, old_ptr: str, new_ptr: str) -> list[Change]:
        old, old_ptr = self.ctx.resolve(self.ctx.old, old, old_ptr)
        new, new_ptr = self.ctx.resolve(self.ctx.new, new, new_ptr)
        if not isinstance(old, dict) or not isinstance(new, dict):
            return []
        key = (id(old), id(new))
        if key in self._responses:  # a shared component response: its changes once
            return self._responses[key]
        mk = self.ctx.change
        out: list[Change] = []
        old_headers = {
            str(k).lower(): (v, child(old_ptr, "headers", k))
            for k, v in _as_dict(old.get("headers")).items()
        }
        new_headers = {
            str(k).lower(): (v, child(new_ptr, "headers", k))
            for k, v in _as_dict(new.get("headers")).items()
        }
        for name, (raw, ptr) in old_headers.items():
            if name not in new_headers:
                out.append(mk("response-header-removed", f"header {name} removed", ptr, new_ptr))
                continue
            header, header_ptr = self.ctx.resolve(self.ctx.old, raw, ptr)
            new_header, new_header_ptr = self.ctx.resolve(self.ctx.new, *new_headers[name])
            if isinstance(header, dict) and isinstance(new_header, dict):
                if header.get("required") and not new_header.get("required"):
                    out.append(
                        mk(
                            "response-header-became-optional",
                            f"header {name} may be absent",
                            header_ptr,
                            new_header_ptr,
                        )
                    )
                if "schema" in header and "schema" in new_header:
                    out.extend(
                        self.schemas.compare(
                            header["schema"],
                            new_header["schema"],
                            child(header_ptr, "schema"),
                            child(new_header_ptr, "schema"),
                            "response",
                        )
                    )
        for name, (_raw, ptr) in new_headers.items():
            if name not in old_headers:
                out.append(mk("response-header-added", f"new header {name}", old_ptr, ptr))
        out.extend(self._content(old, new, old_ptr, new_ptr, "response"))
        self._responses[key] = out
        return out

    def _security(self, o: OperationSite, n: OperationSite) -> list[Change]:
        old_req, old_ptr = _effective_security(self.ctx.old, o)
        new_req, new_ptr = _effective_security(self.ctx.new, n)
        mk = self.ctx.change
        out: list[Change] = []
        old_alts = {frozenset(alt): alt for alt in old_req}
        new_alts = {frozenset(alt): alt for alt in new_req}
        for names, alt in old_alts.items():
            if names in new_alts:
                for scheme, scopes in alt.items():
                    now = new_alts[names][scheme]
                    if set(now) - set(scopes):
                        out.append(
                            mk(
                                "security-scopes-added",
                                f"{scheme} needs scopes {sorted(set(now) - set(scopes))}",
                                old_ptr,
                                new_ptr,
                            )
                        )
                    if set(scopes) - set(now):
                        out.append(
                            mk(
                                "security-scopes-removed",
                                f"{scheme} no longer needs scopes {sorted(set(scopes) - set(now))}",
                                old_ptr,
                                new_ptr,
                            )
                        )
                continue
            wider = [other for other in new_alts if other > names]
            if wider:
                extra = sorted(min(wider, key=len) - names)
                out.append(
                    mk(
                        "security-scheme-added",
                        f"clients using {_alt(names)} now also need {', '.join(extra)}",
                        old_ptr,
                        new_ptr,
                    )
                )
            else:
                out.append(
                    mk(
                        "security-alternative-removed",
                        f"{_alt(names)} no longer authenticates",
                        old_ptr,
                        new_ptr,
                    )
                )
        for names in new_alts:
            if names not in old_alts and not any(names > old for old in old_alts):
                out.append(
                    mk(
                        "security-alternative-added",
                        f"{_alt(names)} now authenticates",
                        old_ptr,
                        new_ptr,
                    )
                )
        return out


def compare_security_schemes(ctx: DiffContext) -> list[Change]:
    """``components.securitySchemes``: a scheme removed or its type/scheme/location changed,
    reaching every operation that authenticated with it."""
    base = "#/components/securitySchemes"
    old = _as_dict(_as_dict(ctx.old.content.get("components")).get("securitySchemes"))
    new = _as_dict(_as_dict(ctx.new.content.get("components")).get("securitySchemes"))
    keys = ("type", "scheme", "in", "name", "bearerFormat", "openIdConnectUrl")
    out: list[Change] = []
    for name, raw in old.items():
        scheme, ptr = ctx.resolve(ctx.old, raw, child(base, name))
        if name not in new:
            change = ctx.change(
                "security-scheme-changed",
                f"security scheme {name} removed",
                ptr,
                base if new else None,
            )
        else:
            new_scheme, new_ptr = ctx.resolve(ctx.new, new[name], child(base, name))
            before = {k: _as_dict(scheme).get(k) for k in keys}
            after = {k: _as_dict(new_scheme).get(k) for k in keys}
            if before == after:
                continue
            diff = ", ".join(
                f"{k} {before[k]!r} became {after[k]!r}" for k in keys if before[k] != after[k]
            )
            change = ctx.change(
                "security-scheme-changed", f"security scheme {name}: {diff}", ptr, new_ptr
            )
        for site in operations_of(ctx, ctx.old).values():
            alternatives, _ = _effective_security(ctx.old, site)
            if any(name in alternative for alternative in alternatives):
                change.operations.add(site.ref)
        out.append(change)
    return out


def _effective_security(
    doc: Document, site: OperationSite
) -> tuple[list[dict[str, list[str]]], str]:
    if "security" in site.node:
        raw, ptr = site.node.get("security"), child(site.pointer, "security")
    else:
        raw, ptr = doc.content.get("security"), "#/security"
    alts = [
        {str(k): [str(s) for s in _as_list(v)] for k, v in alt.items()}
        for alt in _as_list(raw)
        if isinstance(alt, dict)
    ]
    return alts, ptr


def _success(status: object) -> bool:
    return str(status).upper().startswith("2")


def _alt(names: frozenset[str]) -> str:
    return " + ".join(sorted(names)) if names else "no authentication"


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
