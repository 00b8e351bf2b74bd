"""Group a red run's failures into root causes: what to fix first, and the checks each explains.

Two failures share a cause when they broke the same rule in the same way: the same required
fields missing from an answer (whatever the operation), or the same rule answered with the same
error (status and code, or the same non-envelope body) on several operations, as one framework
handler would; any other failure is its own cause per rule and operation. A blocked check (its
setup failed) joins the cause of the step that failed, so a create answer without ``livemode``
is one cause that explains the sixty checks that could not create their checkout."""

from __future__ import annotations

import json
import re
from collections.abc import Hashable, Mapping
from typing import Any

from ..results import CheckResult, Failure, RootCause
from ..spec import ApiSpec
from ..untrusted import clip

_REQUIRED = re.compile(r"[\"']([^\"'\n]+)[\"'] is a required property")
_STATUS_IN_POINTER = re.compile(r"/responses/(\d{3}|default)$")
_STATUS_IN_MESSAGE = re.compile(r"status code (\d{3})")
SCHEMA_RULES = ("schema.", "schemathesis.response_schema_conformance")


def _missing(failure: Failure) -> list[str]:
    """Required fields the failure says an answer lacks ([] when it is about something else)."""
    if not failure.rule.startswith(SCHEMA_RULES):
        return []
    expected = failure.expected if isinstance(failure.expected, Mapping) else {}
    listed = expected.get("required")
    if isinstance(listed, list) and listed:
        return [str(f) for f in listed]
    found: list[str] = []
    for name in _REQUIRED.findall(failure.message):
        if name not in found:
            found.append(name)
    return found


def _answer(value: Any) -> tuple[Any, ...] | None:
    """(status, error code) of a received answer, or (status, the body's keys) when it is not
    the envelope; None when the failure recorded no answer."""
    if not isinstance(value, Mapping) or not isinstance(value.get("status"), int):
        return None
    body = value.get("body")
    error = body.get("error") if isinstance(body, Mapping) else None
    if isinstance(error, Mapping) and isinstance(error.get("code"), str):
        return (value["status"], error["code"])
    if isinstance(body, Mapping):
        return (value["status"], "keys", tuple(sorted(map(str, body))))
    return (value["status"], type(body).__name__)


def _expected(value: Any) -> Hashable:
    if isinstance(value, Mapping):
        return json.dumps(value, sort_keys=True, default=str)[:300]
    return str(value)[:300]


def signature(
    failure: Failure, spec: ApiSpec | None = None
) -> tuple[tuple[Hashable, ...], list[str]]:
    """The grouping key of a failure and the fields it names. Required fields missing from
    answers of one schema are one cause whichever fields each failure names (schemathesis
    reports one field per failure, our checks all of them)."""
    operation = failure.operation or _last_operation(failure) or ""
    missing = _missing(failure)
    if missing:
        return ("missing", _schema_name(spec, operation, failure)), missing
    if failure.rule == "transport.no-answer":
        # a target that died refuses every later request alike: one cause, not one per operation
        return (failure.rule, failure.message.split(":")[0]), []
    if failure.rule == "suite.error":
        return (failure.rule, operation, failure.message.split("\n")[0][:120]), []
    answer = _answer(failure.received)
    status = answer[0] if answer else _last_status(failure)
    if isinstance(status, int) and status >= 500:
        # a crash explains every rule it broke: one cause per operation that crashes
        return ("server-error", operation), []
    crashed = _crash(failure)
    if crashed is not None:
        # a check whose sequence met a 5xx (concurrent refunds, retries) failed on that crash
        return ("server-error", crashed[0]), []
    if answer is not None and not 200 <= int(answer[0]) < 300:
        # the same wrong answer to the same rule on several operations: one handler to fix
        return (failure.rule, _expected(failure.expected), answer), []
    return (failure.rule, operation), []


def _crash(failure: Failure) -> tuple[str, int] | None:
    """(operation, status) of the first 5xx answer in the failure's recorded steps."""
    for step in failure.steps:
        if step.status is not None and step.status >= 500 and step.operation:
            return step.operation, step.status
    return None


def _last_operation(failure: Failure) -> str | None:
    """The operation of the failure's last request (a stateful sequence names no operation)."""
    return next((s.operation for s in reversed(failure.steps) if s.operation), None)


def _last_status(failure: Failure) -> int | None:
    """The status of the failure's last answered request (for failures that only say it in
    prose, like schemathesis' server-error check)."""
    if failure.rule != "schemathesis.not_a_server_error":
        return None
    answered = [step.status for step in failure.steps if step.status is not None]
    return answered[-1] if answered else None


def _schema_name(spec: ApiSpec | None, operation: str, failure: Failure) -> str:
    """The component name of the answer's schema ("Checkout"), or "documented"."""
    pointer = failure.expected.get("schema") if isinstance(failure.expected, Mapping) else None
    found = _STATUS_IN_POINTER.search(pointer) if isinstance(pointer, str) else None
    found = found or _STATUS_IN_MESSAGE.search(failure.message)
    status = found.group(1) if found else "200"
    if spec is None or operation not in spec.operations:
        return "documented"
    try:
        raw: Any = spec.operation(operation).raw.get("responses", {}).get(status, {})
        if isinstance(raw, Mapping) and "$ref" in raw:
            raw = spec.resolve_pointer(str(raw["$ref"]))
        schema = raw["content"]["application/json"]["schema"]
        return str(schema["$ref"]).rsplit("/", 1)[-1] if "$ref" in schema else "documented"
    except (KeyError, TypeError, AttributeError, LookupError):
        return "documented"


def _words(items: list[str]) -> str:
    quoted = [f"`{i}`" for i in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _one_line(value: Any, limit: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return clip(" ".join(str(text).split()), limit)


def _describe(cause: RootCause, first: Failure, spec: ApiSpec | None) -> None:
    ops = ", ".join(cause.operations) or "the target"
    failed, blocked = len(cause.failed), len(cause.blocked)
    counted = f"{failed} check{'s' if failed != 1 else ''} failed on it" + (
        f" and it kept {blocked} more from running (their setup needed this step)"
        if blocked
        else ""
    )
    if cause.fields:
        schema = _schema_name(spec, cause.operations[0] if cause.operations else "", first)
        verb = "is" if len(cause.fields) == 1 else "are"
        cause.title = f"{_words(cause.fields)} missing from the {schema} answers of {ops}"
        cause.explanation = (
            f"The spec's {schema} schema requires {_words(cause.fields)}, which {verb} absent "
            f"from the answers of {ops}. Expected: every required field present; received: "
            f"{_one_line(first.received) if first.received is not None else 'answers without them'}"
            f". {counted}."
        )
        return
    if cause.rule == "server-error":
        answer = _answer(first.received)
        crashed = _crash(first)
        status = answer[0] if answer else _last_status(first) or (crashed[1] if crashed else 500)
        code = (
            f" {answer[1]}" if answer and isinstance(answer[1], str) and answer[1] != "keys" else ""
        )
        cause.title = f"{ops} answered {status}{code}: the server failed"
        cause.explanation = (
            f"{ops} answered with a server error ({status}{code}), which no rule allows; every "
            f"check below failed on that answer, whatever it tested. First seen: "
            f"{_one_line(first.title)}; expected: {_one_line(first.expected)}; received: "
            f"{_one_line(first.received)}. {counted}."
        )
        return
    title = first.title
    if len(cause.operations) > 1:
        others = [op for op in cause.operations if op != first.operation]
        title += f" (also on {', '.join(others)})"
    cause.title = clip(title, 300)
    cause.explanation = (
        f"{first.rule} on {ops}: {_one_line(first.message, 400)} Expected: "
        f"{_one_line(first.expected)}; received: {_one_line(first.received)}. {counted}."
    )


def assign_root_causes(checks: list[CheckResult], spec: ApiSpec | None = None) -> list[RootCause]:
    """The run's root causes, largest first; sets each explained check's ``root_cause``.
    Checks blocked by a not-implemented operation keep that as their root cause instead."""
    groups: dict[tuple[Hashable, ...], tuple[RootCause, Failure]] = {}
    for check in checks:
        failure = check.failure
        if failure is None or check.outcome not in ("failed", "blocked", "error"):
            continue
        key, fields = signature(failure, spec)
        if key not in groups:
            groups[key] = (RootCause(id="", rule=failure.rule, title="", explanation=""), failure)
            groups[key][0].rule = "schema.response" if fields else failure.rule
            if key[0] == "server-error":
                groups[key][0].rule = "server-error"
            groups[key][0].expected = failure.expected
            groups[key][0].received = failure.received
        cause = groups[key][0]
        cause.fields += [f for f in fields if f not in cause.fields]
        cause.checks.append(check.id)
        if check.outcome == "blocked":
            cause.blocked.append(check.id)
        crashed = _crash(failure) if key[0] == "server-error" else None
        operation = (crashed[0] if crashed else None) or failure.operation or check.operation
        operation = operation or _last_operation(failure)
        if operation and operation not in cause.operations:
            cause.operations.append(operation)
    ordered = sorted(groups.values(), key=lambda pair: -len(pair[0].checks))
    by_check: dict[str, str] = {}
    for index, (cause, first) in enumerate(ordered, start=1):
        cause.id = f"rc{index}"
        _describe(cause, first, spec)
        for check_id in cause.checks:
            by_check[check_id] = cause.id
    for check in checks:
        if check.id in by_check:
            check.root_cause = by_check[check.id]
    return [cause for cause, _ in ordered]
