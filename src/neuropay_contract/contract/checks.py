"""Checks raise :class:`ContractViolation`: failures are data (rule, expected, received, steps)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NoReturn

import pytest

from ..results import Step
from ..spec import ApiSpec
from .client import Response

NOT_COVERED_PREFIX = "not covered: "


class ContractViolation(AssertionError):
    """The target broke a rule of the contract.

    ``steps`` and ``curl`` (the whole sequence of the check and its shell reproduction) are
    filled by the plugin from the check's recorder when the result is built; a raiser need not
    pass them."""

    def __init__(
        self,
        rule: str,
        title: str,
        message: str,
        *,
        operation: str | None = None,
        expected: Any = None,
        received: Any = None,
        steps: list[Step] | None = None,
        curl: str = "",
    ) -> None:
        super().__init__(f"[{rule}] {title}: {message}")
        self.rule = rule
        self.title = title
        self.message = message
        self.operation = operation
        self.expected = expected
        self.received = received
        self.steps = steps
        self.curl = curl
        self.setup: str | None = None  # what the check was setting up when this was found
        note_failure(self)


# The first failure a check raised, kept for when Hypothesis replaces it: replaying a failing
# example against a live target whose state has moved on can pass or draw differently, and
# Hypothesis then raises Flaky*; the violation found is still what to report.
_first_failure: list[BaseException] = []


def note_failure(exc: BaseException) -> None:
    """Remember ``exc`` if it is the current check's first failure."""
    if not _first_failure:
        _first_failure.append(exc)


def forget_failures() -> None:
    """A new check starts (called by the plugin)."""
    _first_failure.clear()


def first_failure() -> BaseException | None:
    return _first_failure[0] if _first_failure else None


class NotImplementedOperation(Exception):
    """The check needs an operation the target does not implement (found by the preflight):
    it is blocked, not failed, and sends nothing to that operation."""

    def __init__(self, operation: str) -> None:
        super().__init__(f"needs {operation}, which the target does not implement")
        self.operation = operation


@contextmanager
def setup_step(what: str) -> Iterator[None]:
    """Mark what runs inside as the check's setup (creating a checkout, reaching a status, a
    customer): a violation found there blocks the check instead of failing it, and is reported
    under the root cause it shares with the checks that test that step."""
    try:
        yield
    except ContractViolation as exc:
        exc.setup = exc.setup or what
        raise


def not_covered(reason: str) -> NoReturn:
    """Stop this check: the target cannot reach what it needs. Reported as not covered."""
    pytest.skip(NOT_COVERED_PREFIX + reason)


def _envelope_problem(body: Any) -> str | None:
    if not isinstance(body, dict) or set(body) != {"error"}:
        return 'the body is not {"error": {...}}'
    error = body["error"]
    if not isinstance(error, dict) or not {"code", "message", "param"} <= set(error):
        return "error needs code, message and param"
    if not isinstance(error["code"], str) or not isinstance(error["message"], str):
        return "error.code and error.message must be strings"
    return None


def check_status(resp: Response, expected: int | Iterable[int], rule: str, title: str) -> None:
    wanted = {expected} if isinstance(expected, int) else set(expected)
    if resp.status not in wanted:
        error = resp.json_object().get("error")
        code = error.get("code") if isinstance(error, dict) else None
        raise ContractViolation(
            rule,
            f"{title}: answered {resp.status}" + (f" {code}" if isinstance(code, str) else ""),
            f"{resp.operation} answered {resp.status}, expected {' or '.join(map(str, sorted(wanted)))}",
            operation=resp.operation,
            expected={"status": sorted(wanted)},
            received={
                "status": resp.status,
                "body": resp.body if resp.body is not None else resp.text[:500],
            },
        )


def check_response_schema(spec: ApiSpec, resp: Response, rule: str = "schema.response") -> None:
    """The body matches the schema the spec documents for this operation and status."""
    if resp.operation is None:
        return
    op = spec.operation(resp.operation)
    documented = op.responses.get(str(resp.status)) or op.responses.get(f"{str(resp.status)[0]}XX")
    documented = documented or op.responses.get("default")
    if documented is None:
        raise ContractViolation(
            "schema.status-documented",
            "Undocumented status code",
            f"{resp.operation} answered {resp.status}, which the spec does not document",
            operation=resp.operation,
            expected={"status": sorted(op.responses)},
            received={"status": resp.status, "body": resp.body},
        )
    if documented.schema is None:
        return
    errors = spec.validation_errors(documented.schema, resp.body)
    if errors:
        first = errors[0]
        where = "/" + "/".join(str(p) for p in first.absolute_path)
        missing = missing_fields(errors)
        if missing:
            names = ", ".join(missing)
            title = f"{resp.operation} {resp.status} answer lacks required {names}"
            expected: dict[str, Any] = {"schema": documented.pointer, "required": missing}
        else:
            title = f"{resp.operation} {resp.status} answer at {where}: {first.message[:120]}"
            expected = {"schema": documented.pointer, "at": where}
        raise ContractViolation(
            rule,
            title,
            f"{resp.operation} {resp.status} body at {where}: {first.message[:300]}"
            + (f" (missing: {', '.join(missing)})" if len(missing) > 1 else ""),
            operation=resp.operation,
            expected=expected,
            received=resp.body,
        )


_REQUIRED = re.compile(r"^'([^']+)' is a required property$")


def missing_fields(errors: Iterable[Any]) -> list[str]:
    """The required properties jsonschema ``errors`` say are absent (as ``a/b`` pointers when
    nested), in the order the errors came."""
    found: list[str] = []
    for error in errors:
        match = _REQUIRED.match(str(getattr(error, "message", "")))
        if match:
            path = [str(p) for p in getattr(error, "absolute_path", ())]
            name = "/".join([*path, match.group(1)])
            if name not in found:
                found.append(name)
    return found


def check_error(
    spec: ApiSpec,
    resp: Response,
    http: int,
    code: str | Iterable[str],
    rule: str,
    title: str,
    *,
    subject: str | None = None,
) -> None:
    """An error answer with this status, the envelope and one of these codes.

    ``title`` is the failure's title when the target accepted the request (a 2xx); any other
    mismatch is titled with what it actually answered: "``subject``: answered 401
    invalid_api_key, expected 401 missing_api_key" (``subject`` defaults to the operation)."""
    codes = {code} if isinstance(code, str) else set(code)
    problem = _envelope_problem(resp.body)
    received_code = resp.json_object().get("error", {}) if problem is None else None
    got = received_code.get("code") if isinstance(received_code, dict) else None
    if resp.status == http and problem is not None:
        raise ContractViolation(
            "schema.error-envelope",
            f"{resp.operation or 'the target'} answered {resp.status} without the error envelope",
            f"{resp.operation} answered {resp.status} but {problem}",
            operation=resp.operation,
            expected={
                "status": http,
                "body": {"error": {"code": sorted(codes), "message": "…", "param": "…"}},
            },
            received={
                "status": resp.status,
                "body": resp.body if resp.body is not None else resp.text[:500],
            },
        )
    if resp.status != http or problem is not None or got not in codes:
        if not 200 <= resp.status < 300:
            answered = f"{resp.status} {got}" if got else f"{resp.status} without an error code"
            title = (
                f"{subject or resp.operation or 'the target'}: answered {answered}, "
                f"expected {http} {'/'.join(sorted(codes))}"
            )
        raise ContractViolation(
            rule,
            title,
            f"{resp.operation} answered {resp.status} {got or ''}".strip()
            + f", expected {http} {'/'.join(sorted(codes))}"
            + (f" ({problem})" if problem and resp.status == http else ""),
            operation=resp.operation,
            expected={"status": http, "error.code": sorted(codes)},
            received={
                "status": resp.status,
                "body": resp.body if resp.body is not None else resp.text[:500],
            },
        )
    op = spec.operation(resp.operation) if resp.operation else None
    if op is not None and str(resp.status) in op.responses:
        check_response_schema(spec, resp, rule="schema.error-envelope")
    elif "Error" in spec.schemas:
        # Answers no operation documents (405 for other methods) still use the envelope.
        errors = spec.validation_errors("Error", resp.body)
        if errors:
            raise ContractViolation(
                "schema.error-envelope",
                "Error answer without the envelope",
                f"{resp.operation} {resp.status}: {errors[0].message[:300]}",
                operation=resp.operation,
                expected={"schema": "#/components/schemas/Error"},
                received=resp.body,
            )


def check_unchanged(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    operation: str,
    rule: str = "lifecycle.unchanged-after-refusal",
) -> None:
    """A refused operation changed nothing: the re-read object equals the one read before."""
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    if changed:
        raise ContractViolation(
            rule,
            "A refused operation changed the object",
            f"after {operation} was refused, these fields changed on re-read: {', '.join(changed)}",
            operation=operation,
            expected={k: before.get(k) for k in changed},
            received={k: after.get(k) for k in changed},
        )


def check_money(
    checkout: Mapping[str, Any], amount: int | None = None, currency: str | None = None
) -> None:
    """Money invariants of one checkout."""
    refunds = checkout.get("refunds") or []
    total = sum(int(r.get("amount", 0)) for r in refunds if isinstance(r, dict))
    refunded = checkout.get("refunded_amount")
    cid = checkout.get("checkout_id")
    if refunded != total:
        raise ContractViolation(
            "money.refunded-equals-sum",
            "refunded_amount is not the sum of refunds",
            f"checkout {cid}: refunded_amount {refunded} but refunds add up to {total}",
            expected={"refunded_amount": total},
            received={"refunded_amount": refunded, "refunds": refunds},
        )
    if (
        isinstance(refunded, int)
        and isinstance(checkout.get("amount"), int)
        and refunded > checkout["amount"]
    ):
        raise ContractViolation(
            "money.refund-cap",
            "More refunded than paid",
            f"checkout {cid}: refunded {refunded} of {checkout['amount']}",
            expected={"refunded_amount": f"<= {checkout['amount']}"},
            received={"refunded_amount": refunded},
        )
    for name, wanted in (("amount", amount), ("currency", currency)):
        if wanted is not None and checkout.get(name) != wanted:
            raise ContractViolation(
                "money.immutable",
                f"{name} changed",
                f"checkout {cid}: {name} was {wanted!r}, now {checkout.get(name)!r}",
                expected={name: wanted},
                received={name: checkout.get(name)},
            )


def expect_status_field(checkout: Mapping[str, Any], expected: str, after: str, rule: str) -> None:
    got = checkout.get("status")
    if got != expected:
        raise ContractViolation(
            rule,
            "Wrong status",
            f"after {after} the checkout is '{got}', expected '{expected}'",
            operation=after.split(" ")[0],
            expected={"status": expected},
            received={"status": got},
        )
