"""Load ``spec/openapi.yaml`` into a typed model that every other part of the toolkit reads."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._resources import default_spec_path
from .documents import DocumentError, parse_document, parse_yaml, read_text
from .documents import escape_pointer as escape_pointer  # re-exported: the linter and docs use it
from .errors import SpecError
from .lifecycle import Lifecycle, parse_lifecycle

if TYPE_CHECKING:  # jsonschema is imported on first use: `postman convert` never needs it
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError
    from referencing import Registry

SPEC_URI = "urn:neuropay:spec"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class MediaExample:
    """A named example of a request or response body."""

    name: str
    value: Any
    pointer: str


@dataclass(frozen=True)
class ResponseSpec:
    """One documented response of an operation, with ``$ref`` resolved."""

    status: str
    description: str
    schema: Mapping[str, Any] | None
    examples: tuple[MediaExample, ...]
    links: Mapping[str, Any]
    headers: Mapping[str, Any]
    pointer: str


@dataclass(frozen=True)
class Operation:
    """One operation of the spec, with its request and responses resolved."""

    operation_id: str
    method: str
    path: str
    tags: tuple[str, ...]
    summary: str
    description: str
    test_only: bool
    parameters: tuple[Mapping[str, Any], ...]
    request_schema: Mapping[str, Any] | None
    request_required: bool
    request_examples: tuple[MediaExample, ...]
    responses: Mapping[str, ResponseSpec]
    pointer: str
    raw: Mapping[str, Any] = field(repr=False)

    @property
    def tag(self) -> str:
        return self.tags[0] if self.tags else "default"

    @property
    def accepts_idempotency_key(self) -> bool:
        return any(p.get("name", "").lower() == "idempotency-key" for p in self.parameters)


@dataclass(frozen=True)
class TestCard:
    """A hosted-page card number or an automatic-payment card id declared for test mode."""

    __test__ = False  # not a pytest test class

    value: str
    brand: str
    outcome: str


# x-test-mode's key prefixes when a spec gives none (written once: the server's generated keys,
# the traffic checker's key modes and the reports' redaction follow them).
DEFAULT_KEY_PREFIXES: Mapping[str, str] = {"test": "sk_test_", "live": "sk_live_"}


@dataclass(frozen=True)
class TestMode:
    """The typed ``x-test-mode`` extension."""

    __test__ = False

    key_prefixes: Mapping[str, str]
    hosted_page_cards: tuple[TestCard, ...]
    unknown_card_outcome: str
    card_ids: tuple[TestCard, ...]
    helpers: Mapping[str, str]  # operationId -> event
    live_key_answer: tuple[int, str]

    def card_number(self, outcome: str) -> str | None:
        return next((c.value for c in self.hosted_page_cards if c.outcome == outcome), None)

    def card_id(self, outcome: str) -> str | None:
        return next((c.value for c in self.card_ids if c.outcome == outcome), None)

    def outcome_of_number(self, number: str) -> str:
        for card in self.hosted_page_cards:
            if card.value == number:
                return card.outcome
        return self.unknown_card_outcome


@dataclass(frozen=True)
class FreeAnswerPart:
    """A part of an answer that may differ between conformant servers (one ``answers`` entry)."""

    operations: tuple[str, ...]  # empty: every operation
    body: str | None  # JSON pointer into the answer body ('*' matches any index or name)
    header: str | None
    values: tuple[Any, ...] | None  # None: any value the schema allows

    def applies_to(self, operation_id: str) -> bool:
        return not self.operations or operation_id in self.operations


@dataclass(frozen=True)
class ImplementationDefined:
    """One point of ``x-implementation-defined``: left open on purpose, every reading accepted."""

    id: str
    point: str
    readings: tuple[str, ...]
    why: str
    where: tuple[str, ...] = ()
    answers: tuple[FreeAnswerPart, ...] = ()


@dataclass(frozen=True)
class ErrorCodeInfo:
    code: str
    http: int
    description: str


# The generic rules of every request, in the order x-precedence may arrange them; an unknown path
# has no operation to check anything else against, and the idempotency lookup and the operation
# itself run last, in one transaction.
DEFAULT_PRECEDENCE = (
    "path",
    "method",
    "api_key",
    "body_size",
    "media_type",
    "test_mode_only",
    "json",
    "json_depth",
    "schema",
    "idempotency_key",
    "idempotency",
    "operation",
)
# The answer of each step when the spec's x-precedence leaves it out (the shipped spec gives all):
# (http, codes). api_key's codes are the answer with no credential, then with a bad one.
DEFAULT_STEP_ANSWERS: Mapping[str, tuple[int, tuple[str, ...]]] = {
    "path": (404, ("not_found",)),
    "method": (405, ("method_not_allowed",)),
    "api_key": (401, ("missing_api_key", "invalid_api_key")),
    "body_size": (413, ("payload_too_large",)),
    "media_type": (415, ("unsupported_media_type",)),
    "test_mode_only": (403, ("test_mode_only",)),
    "json": (400, ("invalid_json",)),
    "json_depth": (400, ("invalid_json",)),
    "schema": (400, ("invalid_request",)),
    "idempotency_key": (400, ("invalid_request",)),
    "idempotency": (409, ("idempotency_key_reused",)),
}
# Which of the api_key step's codes answers which credential (x-precedence lists them in this
# order): none presented, or one that is no valid key.
KEY_MISSING, KEY_INVALID = 0, 1
# (a, b): a needs to run before b, whatever the order (a body is read before it is parsed, a
# key identifies the caller before its mode is known, ...).
PRECEDENCE_CONSTRAINTS = (
    *((DEFAULT_PRECEDENCE[0], later) for later in DEFAULT_PRECEDENCE[1:]),
    ("body_size", "json"),
    ("json", "json_depth"),
    ("json_depth", "schema"),
    ("api_key", "test_mode_only"),
    *((earlier, "idempotency") for earlier in DEFAULT_PRECEDENCE[1:10]),
    ("idempotency", "operation"),
)


@dataclass(frozen=True)
class Refusal:
    """An answer the spec fixes for a refusal: HTTP status, error code, the ``param`` named."""

    http: int
    code: str
    param: str | None = None


@dataclass(frozen=True)
class Idempotency:
    """The typed ``x-idempotency`` extension; its defaults are written here once."""

    header: str = "Idempotency-Key"
    replay_header: str = "Idempotent-Replayed"
    retention_hours: float = 24.0
    scope: str = "api_key"
    operations: tuple[str, ...] = ()
    conflict: Refusal = Refusal(409, "idempotency_key_reused")
    invalid_key: Refusal = Refusal(400, "invalid_request", "Idempotency-Key")

    @property
    def retention_s(self) -> float:
        return self.retention_hours * 3600

    def as_dict(self) -> dict[str, Any]:
        """Plain data for templates."""
        return {
            "header": self.header,
            "replay_header": self.replay_header,
            "retention_hours": _plain_number(self.retention_hours),
            "scope": self.scope,
            "operations": list(self.operations),
            "conflict": {"http": self.conflict.http, "code": self.conflict.code},
            "invalid_key": {
                "http": self.invalid_key.http,
                "code": self.invalid_key.code,
                "param": self.invalid_key.param,
            },
        }


@dataclass(frozen=True)
class Limits:
    """The typed ``x-limits`` extension; its defaults are written here once."""

    max_body_bytes: int = 65536
    max_json_depth: int = 32
    max_metadata_keys: int = 50

    def as_dict(self) -> dict[str, int]:
        """Plain data for templates."""
        return {
            "max_body_bytes": self.max_body_bytes,
            "max_json_depth": self.max_json_depth,
            "max_metadata_keys": self.max_metadata_keys,
        }


def _plain_number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _refusal(raw: Any, default: Refusal) -> Refusal:
    if not isinstance(raw, Mapping):
        return default
    param = raw.get("param", default.param)
    return Refusal(
        int(raw.get("http", default.http)),
        str(raw.get("code", default.code)),
        None if param is None else str(param),
    )


def read_idempotency(raw: Any) -> Idempotency:
    """``x-idempotency`` as :class:`Idempotency` (defaults for what it leaves out)."""
    raw = raw if isinstance(raw, Mapping) else {}
    base = Idempotency()
    header = str(raw.get("header", base.header))
    return Idempotency(
        header=header,
        replay_header=str(raw.get("replay_header", base.replay_header)),
        retention_hours=float(raw.get("retention_hours", base.retention_hours)),
        scope=str(raw.get("scope", base.scope)),
        operations=tuple(str(op) for op in raw.get("operations") or ()),
        conflict=_refusal(raw.get("conflict"), base.conflict),
        invalid_key=_refusal(raw.get("invalid_key"), Refusal(400, "invalid_request", header)),
    )


def read_limits(raw: Any) -> Limits:
    """``x-limits`` as :class:`Limits` (defaults for what it leaves out)."""
    raw = raw if isinstance(raw, Mapping) else {}
    base = Limits()
    return Limits(
        max_body_bytes=int(raw.get("max_body_bytes", base.max_body_bytes)),
        max_json_depth=int(raw.get("max_json_depth", base.max_json_depth)),
        max_metadata_keys=int(raw.get("max_metadata_keys", base.max_metadata_keys)),
    )


@dataclass(frozen=True)
class PrecedenceStep:
    """One generic rule of ``x-precedence``: its name and the answer a request breaking it gets."""

    name: str
    http: int
    codes: tuple[str, ...]

    def refusal(self, which: int = 0, param: str | None = None) -> Refusal:
        """The answer a request breaking this step gets: its ``http`` and its ``which``-th code
        (the last when it lists fewer), the default of :data:`DEFAULT_STEP_ANSWERS` for what
        the spec leaves out."""
        default_http, default_codes = DEFAULT_STEP_ANSWERS.get(self.name, (0, ()))
        codes = self.codes or default_codes
        if not codes:
            raise SpecError(f"x-precedence: the {self.name} step has no answer")
        return Refusal(self.http or default_http, codes[min(which, len(codes) - 1)], param)


class ApiSpec:
    """A loaded OpenAPI document with resolved operations and the project's extensions."""

    def __init__(
        self,
        document: Mapping[str, Any],
        path: Path | None = None,
        text: str = "",
        lines: dict[str, int] | None = None,
    ) -> None:
        if not isinstance(document, Mapping) or "openapi" not in document:
            raise SpecError(f"{path or 'document'} is not an OpenAPI document (no 'openapi' field)")
        self.document: Mapping[str, Any] = document
        self.path = path
        self.text = text
        self._given_lines = lines
        self._validators: dict[str, Draft202012Validator] = {}

    @cached_property
    def _registry(self) -> Registry[Any]:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        registry: Registry[Any] = Registry().with_resource(
            SPEC_URI, Resource.from_contents(dict(self.document), default_specification=DRAFT202012)
        )
        return registry

    # -- basic facts -------------------------------------------------------------------------
    @property
    def title(self) -> str:
        return str(self.document.get("info", {}).get("title", "API"))

    @property
    def version(self) -> str:
        return str(self.document.get("info", {}).get("version", ""))

    @property
    def openapi_version(self) -> str:
        return str(self.document.get("openapi", ""))

    @property
    def servers(self) -> list[Mapping[str, Any]]:
        return list(self.document.get("servers") or [])

    # -- references --------------------------------------------------------------------------
    def resolve_pointer(self, pointer: str) -> Any:
        """The value at a JSON pointer (``#/a/b`` or ``/a/b``) of the document."""
        node: Any = self.document
        for raw_token in pointer.lstrip("#").split("/")[1:]:
            token = raw_token.replace("~1", "/").replace("~0", "~")
            try:
                node = node[int(token)] if isinstance(node, list) else node[token]
            except (KeyError, IndexError, ValueError, TypeError) as exc:
                raise SpecError(f"$ref {pointer} points at nothing in {self.path}") from exc
        return node

    def deref(self, node: Any, _depth: int = 0) -> Any:
        """Follow a top-level ``$ref`` chain (not nested ones) to the object it names."""
        while isinstance(node, Mapping) and "$ref" in node and isinstance(node["$ref"], str):
            ref = node["$ref"]
            if not ref.startswith("#"):
                raise SpecError(f"external $ref {ref} is not supported; inline it")
            node = self.resolve_pointer(ref)
            _depth += 1
            if _depth > 50:
                raise SpecError(f"$ref cycle at {ref}")
        return node

    def inline_refs(self, node: Any, _seen: tuple[str, ...] = ()) -> Any:
        """A copy of ``node`` with every local ``$ref`` replaced by its target (cycles kept as refs)."""
        if isinstance(node, Mapping):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#"):
                if ref in _seen:
                    return dict(node)
                target = self.inline_refs(self.resolve_pointer(ref), (*_seen, ref))
                rest = {k: self.inline_refs(v, _seen) for k, v in node.items() if k != "$ref"}
                return {**target, **rest} if isinstance(target, dict) else target
            return {k: self.inline_refs(v, _seen) for k, v in node.items()}
        if isinstance(node, list):
            return [self.inline_refs(v, _seen) for v in node]
        return node

    # -- schemas and validation --------------------------------------------------------------
    @property
    def schemas(self) -> Mapping[str, Any]:
        return dict(self.document.get("components", {}).get("schemas", {}) or {})

    def schema_pointer(self, name: str) -> str:
        return f"#/components/schemas/{escape_pointer(name)}"

    def validator(self, schema: Mapping[str, Any] | str) -> Draft202012Validator:
        """A JSON Schema 2020-12 validator for a schema object or a component name.

        ``$ref``s resolve against the whole document, so the spec's own schemas are the only copy
        of the rules. Patterns use ECMA-262's ``$`` (no trailing newline); ``email`` is asserted.
        """
        if isinstance(schema, str):
            key = schema
            root: Mapping[str, Any] = {"$ref": f"{SPEC_URI}{self.schema_pointer(schema)}"}
        else:
            key = json.dumps(schema, sort_keys=True, default=str)
            root = {"$id": f"{SPEC_URI}/inline", "allOf": [self._absolutize(schema)]}
        found = self._validators.get(key)
        if found is None:
            from .schema_dialect import SpecValidator, format_checker

            found = SpecValidator(
                dict(root), registry=self._registry, format_checker=format_checker()
            )
            self._validators[key] = found
        return found

    def _absolutize(self, node: Any) -> Any:
        if isinstance(node, Mapping):
            return {
                k: (
                    f"{SPEC_URI}{v}"
                    if k == "$ref" and isinstance(v, str) and v.startswith("#")
                    else self._absolutize(v)
                )
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [self._absolutize(v) for v in node]
        return node

    def validation_errors(
        self, schema: Mapping[str, Any] | str, instance: Any
    ) -> list[ValidationError]:
        """Every way ``instance`` breaks ``schema``, most relevant first."""
        errors = list(self.validator(schema).iter_errors(instance))
        return sorted(errors, key=lambda e: (len(list(e.path)), str(e.message)))

    # -- operations --------------------------------------------------------------------------
    @cached_property
    def operations(self) -> dict[str, Operation]:
        """Operations by operationId (``METHOD path`` when the id is missing)."""
        result: dict[str, Operation] = {}
        for path, item in (self.document.get("paths") or {}).items():
            if not isinstance(item, Mapping):
                continue
            item = self.deref(item)
            shared = list(item.get("parameters") or [])
            for method in HTTP_METHODS:
                raw = item.get(method)
                if not isinstance(raw, Mapping):
                    continue
                op = self._operation(path, method, raw, shared)
                result[op.operation_id] = op
        return result

    def _operation(
        self, path: str, method: str, raw: Mapping[str, Any], shared: list[Any]
    ) -> Operation:
        pointer = f"#/paths/{escape_pointer(path)}/{method}"
        params = tuple(self.deref(p) for p in [*shared, *(raw.get("parameters") or [])])
        body = self.deref(raw.get("requestBody")) if raw.get("requestBody") else None
        media = _json_media(body.get("content")) if isinstance(body, Mapping) else None
        request_schema = media.get("schema") if media else None
        request_examples = self._examples(media, f"{pointer}/requestBody") if media else ()
        responses: dict[str, ResponseSpec] = {}
        for status, response in (raw.get("responses") or {}).items():
            rpointer = f"{pointer}/responses/{status}"
            resolved = self.deref(response)
            rmedia = _json_media(resolved.get("content")) if isinstance(resolved, Mapping) else None
            responses[str(status)] = ResponseSpec(
                status=str(status),
                description=str(resolved.get("description", "")),
                schema=rmedia.get("schema") if rmedia else None,
                examples=self._examples(rmedia, rpointer) if rmedia else (),
                links={k: self.deref(v) for k, v in (resolved.get("links") or {}).items()},
                headers={k: self.deref(v) for k, v in (resolved.get("headers") or {}).items()},
                pointer=rpointer,
            )
        return Operation(
            operation_id=str(raw.get("operationId") or f"{method.upper()} {path}"),
            method=method.upper(),
            path=path,
            tags=tuple(raw.get("tags") or ()),
            summary=str(raw.get("summary", "")),
            description=str(raw.get("description", "")),
            test_only=bool(raw.get("x-test-only", False)),
            parameters=params,
            request_schema=request_schema,
            request_required=bool(body.get("required", False))
            if isinstance(body, Mapping)
            else False,
            request_examples=request_examples,
            responses=responses,
            pointer=pointer,
            raw=raw,
        )

    def _examples(self, media: Mapping[str, Any], pointer: str) -> tuple[MediaExample, ...]:
        found: list[MediaExample] = []
        if "example" in media:
            found.append(MediaExample("example", media["example"], f"{pointer}/example"))
        for name, example in (media.get("examples") or {}).items():
            resolved = self.deref(example)
            if isinstance(resolved, Mapping) and "value" in resolved:
                found.append(
                    MediaExample(str(name), resolved["value"], f"{pointer}/examples/{name}")
                )
        return tuple(found)

    def iter_operations(self, include_test_only: bool = True) -> Iterator[Operation]:
        for op in self.operations.values():
            if include_test_only or not op.test_only:
                yield op

    def operation(self, operation_id: str) -> Operation:
        try:
            return self.operations[operation_id]
        except KeyError:
            raise SpecError(f"the spec has no operation {operation_id!r}") from None

    def operation_for(self, method: str, path: str) -> Operation | None:
        for op in self.operations.values():
            if op.path == path and op.method == method.upper():
                return op
        return None

    # -- extensions --------------------------------------------------------------------------
    @cached_property
    def lifecycle(self) -> Lifecycle | None:
        raw = self.document.get("x-lifecycle")
        return parse_lifecycle(raw) if isinstance(raw, Mapping) else None

    def require_lifecycle(self) -> Lifecycle:
        if self.lifecycle is None:
            raise SpecError(f"{self.path or 'the spec'} has no x-lifecycle extension")
        return self.lifecycle

    @cached_property
    def test_mode(self) -> TestMode | None:
        raw = self.document.get("x-test-mode")
        if not isinstance(raw, Mapping):
            return None
        try:
            answer = raw.get("live_key_answer") or {"http": 403, "code": "test_mode_only"}
            return TestMode(
                key_prefixes=dict(raw.get("key_prefixes") or DEFAULT_KEY_PREFIXES),
                hosted_page_cards=tuple(
                    TestCard(str(c["number"]), str(c.get("brand", "unknown")), str(c["outcome"]))
                    for c in raw.get("hosted_page_cards") or []
                ),
                unknown_card_outcome=str(raw.get("unknown_card_outcome", "decline")),
                card_ids=tuple(
                    TestCard(str(c["card_id"]), str(c.get("brand", "unknown")), str(c["outcome"]))
                    for c in raw.get("card_ids") or []
                ),
                helpers={str(h["operation"]): str(h["event"]) for h in raw.get("helpers") or []},
                live_key_answer=(int(answer["http"]), str(answer["code"])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SpecError(f"x-test-mode is malformed: {exc}") from exc

    @cached_property
    def error_codes(self) -> dict[str, ErrorCodeInfo]:
        """The error-code catalogue: ``ErrorCode`` enum with its ``x-error-codes``."""
        schema = self.schemas.get("ErrorCode") or {}
        info = schema.get("x-error-codes") or {}
        return {
            str(code): ErrorCodeInfo(
                str(code),
                int((info.get(code) or {}).get("http", 0)),
                str((info.get(code) or {}).get("description", "")),
            )
            for code in schema.get("enum") or []
        }

    @cached_property
    def implementation_defined(self) -> tuple[ImplementationDefined, ...]:
        """``x-implementation-defined``: the points two conformant servers may answer differently
        (empty when the spec leaves nothing open)."""
        raw = self.document.get("x-implementation-defined")
        if raw is None:
            return ()
        try:
            return tuple(
                ImplementationDefined(
                    id=str(item["id"]),
                    point=str(item["point"]),
                    readings=tuple(str(r) for r in item["readings"]),
                    why=str(item["why"]),
                    where=tuple(str(w) for w in item.get("where") or ()),
                    answers=tuple(
                        FreeAnswerPart(
                            operations=tuple(str(o) for o in part.get("operations") or ()),
                            body=None if part.get("body") is None else str(part["body"]),
                            header=None if part.get("header") is None else str(part["header"]),
                            values=None if part.get("values") is None else tuple(part["values"]),
                        )
                        for part in item.get("answers") or ()
                    ),
                )
                for item in raw
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SpecError(f"x-implementation-defined is malformed: {exc}") from exc

    @cached_property
    def decided_points(self) -> dict[str, tuple[str, ...]]:
        """``x-decides`` markers anywhere in the document: each point id the spec decides, with
        the JSON pointers (``#/...``) of the nodes that decide it. A point is *decided* when it
        is named by such a marker; ``x-implementation-defined`` must not name it too (NP018)."""
        found: dict[str, list[str]] = {}
        stack: list[tuple[Any, str]] = [(self.document, "#")]
        while stack:
            node, where = stack.pop()
            if isinstance(node, Mapping):
                marker = node.get("x-decides")
                if isinstance(marker, list):
                    for point in marker:
                        found.setdefault(str(point), []).append(where)
                for key, value in node.items():
                    if key != "x-decides":
                        stack.append((value, f"{where}/{escape_pointer(str(key))}"))
            elif isinstance(node, list):
                stack.extend((item, f"{where}/{i}") for i, item in enumerate(node))
        return {point: tuple(sorted(pointers)) for point, pointers in sorted(found.items())}

    @cached_property
    def limits(self) -> Limits:
        """``x-limits``, typed."""
        try:
            return read_limits(self.document.get("x-limits"))
        except (TypeError, ValueError) as exc:
            raise SpecError(f"x-limits is malformed: {exc}") from exc

    @cached_property
    def idempotency(self) -> Idempotency:
        """``x-idempotency``, typed."""
        try:
            return read_idempotency(self.document.get("x-idempotency"))
        except (TypeError, ValueError) as exc:
            raise SpecError(f"x-idempotency is malformed: {exc}") from exc

    @cached_property
    def precedence(self) -> tuple[PrecedenceStep, ...]:
        """``x-precedence``: the order in which a request's generic rules are checked (the first
        rule a request breaks gives the answer); :data:`DEFAULT_PRECEDENCE` when absent."""
        raw = self.document.get("x-precedence")
        if raw is None:
            return tuple(PrecedenceStep(name, 0, ()) for name in DEFAULT_PRECEDENCE)
        try:
            steps = tuple(
                PrecedenceStep(
                    str(item["step"]), int(item.get("http", 0)), tuple(item.get("codes") or ())
                )
                for item in raw
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SpecError(f"x-precedence is malformed: {exc}") from exc
        names = [step.name for step in steps]
        if sorted(names) != sorted(DEFAULT_PRECEDENCE):
            raise SpecError(
                f"x-precedence must list each of {', '.join(DEFAULT_PRECEDENCE)} once; "
                f"it lists {', '.join(names)}"
            )
        for before, after in PRECEDENCE_CONSTRAINTS:
            if names.index(before) > names.index(after):
                raise SpecError(f"x-precedence: {before} must come before {after}")
        return steps

    @cached_property
    def _steps(self) -> dict[str, PrecedenceStep]:
        return {step.name: step for step in self.precedence}

    def refusal(self, step: str, which: int = 0, param: str | None = None) -> Refusal:
        """The answer of the ``x-precedence`` step named ``step`` (``which``: see
        :data:`KEY_MISSING`): the one lookup by which the reference server refuses and the
        traffic checker predicts, so that the spec's ``http`` and ``codes`` decide both."""
        return self._steps[step].refusal(which, param)

    @property
    def max_body_bytes(self) -> int:
        return self.limits.max_body_bytes

    @property
    def max_json_depth(self) -> int:
        return self.limits.max_json_depth

    # -- source positions --------------------------------------------------------------------
    @cached_property
    def _lines(self) -> dict[str, int]:
        if self._given_lines is not None:
            return self._given_lines
        if not self.text:
            return {}
        try:
            return parse_yaml(self.text, "spec", positions=True)[1] or {}
        except DocumentError:
            return {}

    def line_of(self, pointer: str) -> int | None:
        """The 1-based line of the node at ``pointer`` (or its nearest ancestor) in the file."""
        parts = pointer.lstrip("#").split("/")
        while parts:
            line = self._lines.get("/".join(parts))
            if line is not None:
                return line
            parts = parts[:-1]
        return None


def _json_media(content: Any) -> Mapping[str, Any] | None:
    if not isinstance(content, Mapping):
        return None
    for mime, media in content.items():
        if "json" in str(mime) and isinstance(media, Mapping):
            return media
    return None


def load_spec(path: str | Path | None = None, positions: bool = False) -> ApiSpec:
    """Read a YAML or JSON OpenAPI document; raise :class:`SpecError` with one line if it fails.

    ``positions`` also records the source line of every node (for the linter), from the same parse.
    """
    spec_path = Path(path) if path else default_spec_path()
    try:
        text = read_text(spec_path, "spec file")
        document, lines = parse_document(text, f"spec file {spec_path}", positions)
    except DocumentError as exc:
        message = str(exc)
        if "does not exist" in message:
            message += "; pass --spec PATH"
        raise SpecError(message) from None
    return ApiSpec(document, spec_path, text, lines)
