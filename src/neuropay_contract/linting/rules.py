"""The spec linter: openapi-spec-validator first, then the project's own rules.

Each rule is a small function yielding findings; every finding has a stable rule id, the JSON
pointer of the node at fault, its line in the file, and a message saying how to fix it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import SpecError
from ..lifecycle import cells
from ..spec import ApiSpec, escape_pointer, load_spec
from .extension_schemas import extension_problems
from .refs import isolate
from .ruleset import OFF, Ruleset
from .validator import validator_findings

LEVELS = ("info", "warning", "error")  # ascending: --fail-on LEVEL fails on it and above


@dataclass(frozen=True)
class Finding:
    rule: str
    pointer: str
    message: str
    line: int | None = None
    severity: str = ""  # empty: the rule's registered severity


@dataclass
class LintReport:
    path: Path
    findings: list[Finding] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.findings

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def fails(self, fail_on: str) -> bool:
        """Whether any finding is at ``fail_on`` or more severe."""
        floor = LEVELS.index(fail_on)
        return any(LEVELS.index(f.severity) >= floor for f in self.findings)


Rule = Callable[[ApiSpec], Iterator[Finding]]
RULES: dict[str, tuple[str, Rule]] = {}
# Every rule's severity, rules outside RULES included; a rule registered without one is an error.
SEVERITIES: dict[str, str] = {"NP000": "error", "NP012": "error"}
# The rules that run outside RULES (the validator first, the $ref policy before it).
OUTSIDE = {
    "NP000": "openapi-spec-validator accepts the document (OpenAPI 3.0 or 3.1)",
    "NP012": "no external $ref is followed (files only with --allow-local-refs)",
}


def summaries() -> dict[str, str]:
    """Every rule id, in order, with its one-line summary."""
    table = {**OUTSIDE, **{rule_id: summary for rule_id, (summary, _fn) in RULES.items()}}
    return dict(sorted(table.items()))


def rule(rule_id: str, summary: str, severity: str = "error") -> Callable[[Rule], Rule]:
    """Register a rule under ``rule_id`` with its one-line summary and default severity."""
    if severity not in LEVELS:
        raise ValueError(f"severity {severity!r} is not one of {LEVELS}")

    def register(fn: Rule) -> Rule:
        RULES[rule_id] = (summary, fn)
        SEVERITIES[rule_id] = severity
        return fn

    return register


def _f(rule_id: str, pointer: str, message: str) -> Finding:
    return Finding(rule_id, pointer, message)


# -- NP001 .. NP003: operations and examples ---------------------------------------------------
@rule("NP001", "every operation has operationId, summary, description and a tag", "warning")
def operation_metadata(spec: ApiSpec) -> Iterator[Finding]:
    for op in spec.operations.values():
        for key in ("operationId", "summary", "description", "tags"):
            if not op.raw.get(key):
                yield _f("NP001", op.pointer, f"{op.method} {op.path} has no {key}; add one")


@rule("NP002", "every request body and every 2xx response has examples", "info")
def examples_present(spec: ApiSpec) -> Iterator[Finding]:
    for op in spec.operations.values():
        if op.request_schema is not None and not op.request_examples:
            yield _f(
                "NP002",
                f"{op.pointer}/requestBody",
                f"{op.operation_id}: the request body has no example; add `examples`",
            )
        for status, response in op.responses.items():
            if status.startswith("2") and response.schema is not None and not response.examples:
                yield _f(
                    "NP002",
                    response.pointer,
                    f"{op.operation_id} {status}: the response has no example; add `examples`",
                )


@rule("NP003", "every example validates against its schema")
def examples_valid(spec: ApiSpec) -> Iterator[Finding]:
    for op in spec.operations.values():
        pairs = [(op.request_schema, ex) for ex in op.request_examples]
        pairs += [(r.schema, ex) for r in op.responses.values() for ex in r.examples]
        for schema, example in pairs:
            if schema is None:
                continue
            for error in spec.validation_errors(schema, example.value)[:3]:
                where = "/" + "/".join(str(p) for p in error.absolute_path)
                yield _f(
                    "NP003",
                    example.pointer,
                    f"{op.operation_id}: example '{example.name}' at {where}: {error.message[:200]}",
                )


# -- NP004: the error envelope -----------------------------------------------------------------
def _is_envelope(spec: ApiSpec, schema: Any) -> bool:
    target = "#/components/schemas/Error"
    if isinstance(schema, Mapping) and schema.get("$ref") == target:
        return True
    try:
        return bool(schema == spec.resolve_pointer(target))
    except SpecError:
        return False


@rule(
    "NP004", "every non-2xx response uses the error envelope #/components/schemas/Error", "warning"
)
def error_envelope(spec: ApiSpec) -> Iterator[Finding]:
    if "Error" not in spec.schemas:
        if spec.lifecycle is not None:
            yield _f(
                "NP004",
                "#/components/schemas",
                "there is no Error schema (the error envelope); add one",
            )
        return
    for op in spec.operations.values():
        for status, response in op.responses.items():
            is_error = status.startswith(("4", "5")) or status == "default"
            if is_error and (response.schema is None or not _is_envelope(spec, response.schema)):
                yield _f(
                    "NP004",
                    response.pointer,
                    f"{op.operation_id} {status} does not use the error envelope; reference #/components/schemas/Error",
                )


# -- NP005 .. NP008: the lifecycle -------------------------------------------------------------
def _status_enum(spec: ApiSpec) -> tuple[list[str], str]:
    lifecycle = spec.lifecycle
    assert lifecycle is not None
    schema = spec.deref(spec.schemas.get(lifecycle.schema, {}))
    prop = spec.deref((schema.get("properties") or {}).get(lifecycle.field, {}))
    pointer = f"#/components/schemas/{lifecycle.schema}/properties/{lifecycle.field}"
    if isinstance(schema.get("properties", {}).get(lifecycle.field), Mapping):
        ref = schema["properties"][lifecycle.field].get("$ref")
        if isinstance(ref, str):
            pointer = ref
    return list(prop.get("enum") or []), pointer


@rule("NP005", "the status enum and x-lifecycle.states list the same statuses")
def lifecycle_states(spec: ApiSpec) -> Iterator[Finding]:
    if spec.lifecycle is None:
        return
    enum, pointer = _status_enum(spec)
    states = list(spec.lifecycle.states)
    for status in enum:
        if status not in states:
            yield _f(
                "NP005",
                pointer,
                f"status '{status}' is in the enum but not in x-lifecycle.states; add it",
            )
    for status in states:
        if status not in enum:
            yield _f(
                "NP005",
                "#/x-lifecycle/states",
                f"x-lifecycle state '{status}' is not in the status enum at {pointer}",
            )
    for name, values in (("initial", spec.lifecycle.initial), ("final", spec.lifecycle.final)):
        for status in values:
            if status not in states:
                yield _f(
                    "NP005", f"#/x-lifecycle/{name}", f"{name} status '{status}' is not a state"
                )
    for index, t in enumerate(spec.lifecycle.transitions):
        for end in (t.source, t.target):
            if end is not None and end not in states:
                yield _f(
                    "NP005",
                    f"#/x-lifecycle/transitions/{index}",
                    f"transition {t.name} names unknown status '{end}'",
                )


@rule("NP006", "lifecycle operations exist and document the answers the lifecycle names")
def lifecycle_operations(spec: ApiSpec) -> Iterator[Finding]:
    lifecycle = spec.lifecycle
    if lifecycle is None:
        return
    ops = spec.operations
    codes = spec.error_codes
    answers: list[tuple[str, str, int, str]] = []
    for i, f in enumerate(lifecycle.forbidden):
        answers.append((f"#/x-lifecycle/forbidden/{i}", f.operation, f.answer.http, f.answer.code))
    for i, r in enumerate(lifecycle.rejections):
        answers.append((f"#/x-lifecycle/rejections/{i}", r.operation, r.answer.http, r.answer.code))
    named: list[tuple[str, str | None]] = [
        ("#/x-lifecycle/unrestricted", o) for o in lifecycle.unrestricted
    ]
    named += [
        (f"#/x-lifecycle/transitions/{i}", t.operation) for i, t in enumerate(lifecycle.transitions)
    ]
    named += [
        (f"#/x-lifecycle/events/{escape_pointer(e.name)}", e.helper)
        for e in lifecycle.events.values()
    ]
    for i, t in enumerate(lifecycle.transitions):
        if t.event and t.event not in lifecycle.events:
            yield _f(
                "NP006",
                f"#/x-lifecycle/transitions/{i}",
                f"transition {t.name} names unknown event '{t.event}'; declare it in x-lifecycle.events",
            )
        for guard in t.guard:
            if guard not in lifecycle.guards:
                yield _f(
                    "NP006",
                    f"#/x-lifecycle/transitions/{i}",
                    f"transition {t.name} uses undeclared guard '{guard}'; declare it in x-lifecycle.guards",
                )
    named += [(pointer, answer_op) for pointer, answer_op, _http, _code in answers]
    for pointer, named_op in named:
        if named_op is not None and named_op not in ops:
            yield _f(
                "NP006",
                pointer,
                f"x-lifecycle names operation '{named_op}', which the spec does not have",
            )
    for pointer, op_id, http, code in answers:
        if code not in codes:
            yield _f(
                "NP006",
                pointer,
                f"error code '{code}' is not in the ErrorCode enum; add it with its x-error-codes entry",
            )
        elif codes[code].http and codes[code].http != http:
            yield _f(
                "NP006",
                pointer,
                f"'{code}' is HTTP {codes[code].http} in x-error-codes but {http} here",
            )
        if op_id in ops and str(http) not in ops[op_id].responses:
            yield _f(
                "NP006",
                pointer,
                f"{op_id} does not document the {http} answer the lifecycle gives; add the response",
            )


@rule(
    "NP007",
    "every (status, restricted operation) pair has exactly one of a transition or a forbidden answer",
)
def lifecycle_complete(spec: ApiSpec) -> Iterator[Finding]:
    lifecycle = spec.lifecycle
    if lifecycle is None:
        return
    for cell in cells(lifecycle):
        status, op, moves, answer = cell.status, cell.operation, cell.moves, cell.forbidden
        if not moves and answer is None:
            yield _f(
                "NP007",
                "#/x-lifecycle/forbidden",
                f"({status}, {op}) has neither a transition nor a forbidden answer; add `- {{status: {status}, operation: {op}, http: 409, code: invalid_status}}`",
            )
        if moves and answer is not None:
            yield _f(
                "NP007",
                "#/x-lifecycle/forbidden",
                f"({status}, {op}) is both allowed ({moves[0].name}) and forbidden; remove one",
            )
    for status in lifecycle.final:
        for t in lifecycle.transitions:
            if t.source == status:
                yield _f(
                    "NP007",
                    "#/x-lifecycle/final",
                    f"final status '{status}' has an outgoing transition {t.name}",
                )


_EXPRESSION = re.compile(r"^\$response\.body#(/[^/]*)+$")


@rule("NP008", "links point at existing operations with well-formed runtime expressions")
def links(spec: ApiSpec) -> Iterator[Finding]:
    for op in spec.operations.values():
        for status, response in op.responses.items():
            for name, link in response.links.items():
                pointer = f"{response.pointer}/links/{escape_pointer(name)}"
                target = link.get("operationId")
                if target is None or target not in spec.operations:
                    yield _f(
                        "NP008", pointer, f"link {name} points at unknown operation {target!r}"
                    )
                    continue
                values = dict(link.get("parameters") or {})
                body = link.get("requestBody")
                if isinstance(body, Mapping):
                    values.update(body)
                for key, expr in values.items():
                    if not isinstance(expr, str) or not expr.startswith("$"):
                        continue
                    if not _EXPRESSION.match(expr):
                        yield _f(
                            "NP008",
                            pointer,
                            f"link {name}: {key} = {expr!r} is not $response.body#/<property>",
                        )
                        continue
                    prop = expr.split("#/", 1)[1].split("/")[0]
                    schema = spec.deref(response.schema or {})
                    if prop not in (schema.get("properties") or {}):
                        yield _f(
                            "NP008",
                            pointer,
                            f"link {name}: the {status} response has no property '{prop}'",
                        )


@rule(
    "NP009", "test helpers are x-test-only; idempotent operations accept Idempotency-Key", "warning"
)
def extensions(spec: ApiSpec) -> Iterator[Finding]:
    tm = spec.test_mode
    if tm is not None:
        for op_id in tm.helpers:
            op = spec.operations.get(op_id)
            if op is None:
                yield _f(
                    "NP009", "#/x-test-mode/helpers", f"test helper {op_id} is not an operation"
                )
            elif not op.test_only:
                yield _f(
                    "NP009",
                    op.pointer,
                    f"{op_id} is a test helper but not marked x-test-only: true",
                )
    for op_id in spec.idempotency.operations:
        op = spec.operations.get(str(op_id))
        if op is None:
            yield _f(
                "NP009",
                "#/x-idempotency/operations",
                f"x-idempotency names unknown operation {op_id}",
            )
        elif not op.accepts_idempotency_key:
            yield _f(
                "NP009",
                op.pointer,
                f"{op_id} is idempotent per x-idempotency but has no Idempotency-Key header parameter",
            )


@rule("NP010", "every object schema decides additionalProperties", "warning")
def additional_properties(spec: ApiSpec) -> Iterator[Finding]:
    if spec.lifecycle is None:  # a project convention, not a rule for other people's documents
        return
    for name, schema in spec.schemas.items():
        if (
            isinstance(schema, Mapping)
            and schema.get("type") == "object"
            and "additionalProperties" not in schema
        ):
            yield _f(
                "NP010",
                f"#/components/schemas/{escape_pointer(name)}",
                f"schema {name} does not decide additionalProperties; set it to false or a schema",
            )


@rule(
    "NP011",
    "the project's x- extensions validate against their shipped JSON Schemas and agree",
)
def extension_schemas(spec: ApiSpec) -> Iterator[Finding]:
    problems = list(extension_problems(spec.document))
    for pointer, message in problems:
        yield _f("NP011", pointer, message)
    if problems or "x-precedence" not in spec.document:
        return
    try:
        steps = spec.precedence
    except SpecError as exc:  # an order the rules cannot run in
        yield _f("NP011", "#/x-precedence", str(exc))
        return
    codes = spec.error_codes
    for index, step in enumerate(steps):
        for code in step.codes:
            if code not in codes:
                yield _f("NP011", f"#/x-precedence/{index}", f"{step.name}: unknown code '{code}'")
            elif codes[code].http != step.http:
                yield _f(
                    "NP011",
                    f"#/x-precedence/{index}",
                    f"{step.name}: '{code}' is HTTP {codes[code].http} in x-error-codes, not {step.http}",
                )
    yield from _restated_answers(spec.document, {step.name: step for step in steps})


# Answers another extension restates for a precedence step: they must say what the step says.
_RESTATED = (
    ("x-test-mode", "live_key_answer", "test_mode_only"),
    ("x-idempotency", "invalid_key", "idempotency_key"),
    ("x-idempotency", "conflict", "idempotency"),
)


def _restated_answers(document: Mapping[str, Any], steps: Mapping[str, Any]) -> Iterator[Finding]:
    for extension, member, name in _RESTATED:
        answer = (document.get(extension) or {}).get(member)
        step = steps.get(name)
        if not isinstance(answer, Mapping) or step is None:
            continue
        http, code = answer.get("http"), answer.get("code")
        if http != step.http or (step.codes and code not in step.codes):
            yield _f(
                "NP011",
                f"#/{extension}/{member}",
                f"{http} {code} disagrees with x-precedence's {name} step "
                f"({step.http} {', '.join(step.codes)}): one answer, stated twice",
            )


def _decides_value(node: Any) -> str | None:
    """What makes a schema node decide its value (``const``, a one-value ``enum``, a
    ``default``), or None when it leaves the value open."""
    if not isinstance(node, Mapping):
        return None
    if "const" in node:
        return "const"
    enum = node.get("enum")
    if isinstance(enum, list) and len(enum) == 1:
        return "a single-value enum"
    if "default" in node:
        return "default"
    return None


@rule("NP018", "x-implementation-defined is consistent and names no point the spec decides")
def implementation_defined(spec: ApiSpec) -> Iterator[Finding]:
    """A free point is *decided* elsewhere when an ``x-decides`` marker names its id, or when a
    node its ``where`` points at fixes the value (``const``, a one-value ``enum``, ``default``):
    a point cannot be both left open and decided."""
    if "x-implementation-defined" not in spec.document:
        return
    try:
        points = spec.implementation_defined
    except SpecError:
        return  # the shape is NP011's finding
    decided = spec.decided_points
    seen: set[str] = set()
    for index, point in enumerate(points):
        pointer = f"#/x-implementation-defined/{index}"
        if point.id in seen:
            yield _f("NP018", f"{pointer}/id", f"point id '{point.id}' is listed twice")
        seen.add(point.id)
        if point.id in decided:
            yield _f(
                "NP018",
                pointer,
                f"point '{point.id}' is declared free but x-decides names it at "
                f"{', '.join(decided[point.id])}: decide it or leave it open, not both",
            )
        for where_index, where in enumerate(point.where):
            try:
                target = spec.resolve_pointer(where)
            except SpecError:
                yield _f(
                    "NP018",
                    f"{pointer}/where/{where_index}",
                    f"'{where}' points at nothing in the document",
                )
                continue
            fixed = _decides_value(target)
            if fixed is not None:
                yield _f(
                    "NP018",
                    f"{pointer}/where/{where_index}",
                    f"point '{point.id}' is declared free but '{where}' decides it with {fixed}",
                )
        for part_index, part in enumerate(point.answers):
            for operation in part.operations:
                if operation not in spec.operations:
                    yield _f(
                        "NP018",
                        f"{pointer}/answers/{part_index}/operations",
                        f"point '{point.id}' names unknown operation '{operation}'",
                    )


def _without_regex_duplicates(findings: list[Finding]) -> list[Finding]:
    """The validator's "is not a 'regex'" is the NP013 finding of the same pattern, told less
    precisely (which mode, which character): keep NP013's. The validator names the node at the
    schema holding it or, for a nested schema, relative to that schema (``#/properties/x/...``)."""
    dialect = [f.pointer for f in findings if f.rule == "NP013"]

    def same(pointer: str) -> bool:
        return any(
            p == pointer
            or p.startswith(pointer + "/")
            or (pointer != "#" and p.endswith(pointer[1:]))
            for p in dialect
        )

    return [
        f for f in findings if not (f.rule == "NP000" and "regex" in f.message and same(f.pointer))
    ]


def lint_spec(
    path: str | Path | None = None,
    allow_local_refs: bool = False,
    ruleset: Ruleset | None = None,
) -> LintReport:
    """Lint a spec file. Raises SpecError (exit 2) only when the file cannot be read as a document.

    External ``$ref``s are never fetched: each becomes an NP012 finding unless ``allow_local_refs``
    lets a relative file inside the spec's folder be inlined (see :mod:`.refs`). ``ruleset``
    (the project's configuration) turns rules off or changes their severity, per file or node."""
    ruleset = ruleset or Ruleset()
    loaded = load_spec(path, positions=True)
    spec_path = Path(str(loaded.path))
    document, refused = isolate(loaded.document, spec_path, allow_local_refs)
    spec = loaded if document is loaded.document else ApiSpec(document, spec_path, "", {})
    report = LintReport(spec_path)
    findings = [
        _f("NP012", p.pointer, f"external $ref {p.ref!r} was not followed: {p.reason}")
        for p in refused
    ]
    hidden = tuple(p.pointer for p in refused)  # what is wrong there is the missing target
    findings += [
        _f("NP000", pointer, message)
        for pointer, message in validator_findings(spec.document, spec.openapi_version)
        if not any(pointer == h or pointer.startswith(h + "/") for h in hidden)
    ]
    # Every rule runs, even on a document the validator refuses: one debatable error must not
    # hide the rest. A rule the document's shape defeats says so in one finding.
    invalid = any(f.rule == "NP000" for f in findings)
    for rule_id, (_summary, fn) in RULES.items():
        if not ruleset.enabled(rule_id, spec_path):
            continue
        try:
            findings.extend(fn(spec))
        except (SpecError, KeyError, TypeError, AttributeError, ValueError) as exc:
            reason = " (the document is not valid OpenAPI: see NP000)" if invalid else ""
            findings.append(_f(rule_id, "#", f"rule could not run on this document{reason}: {exc}"))
    findings = _without_regex_duplicates(findings)
    for f in findings:
        default = f.severity or SEVERITIES.get(f.rule, "error")
        severity = ruleset.severity(f.rule, default, spec_path, f.pointer)
        if severity != OFF:
            line = loaded.line_of(f.pointer)
            report.findings.append(Finding(f.rule, f.pointer, f.message, line, severity))
    return report
