"""Turn pytest reports of suite checks into the results model (results.py)."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .. import __version__
from ..coverage import Seen, build_coverage
from ..errors import NeuropayError
from ..lifecycle import cells as matrix_cells
from ..results import (
    NOT_IMPLEMENTED,
    CheckResult,
    Failure,
    LifecycleCell,
    OperationSummary,
    RunResults,
)
from ..untrusted import bounded, clip
from ..wellformed import utc_timestamp
from .checks import (
    NOT_COVERED_PREFIX,
    ContractViolation,
    NotImplementedOperation,
    first_failure,
)
from .client import Recorder
from .curl import sequence_to_curl
from .root_causes import assign_root_causes
from .settings import RunSettings, RunTarget


@dataclass
class RunState:
    """What the plugin learns during a run, turned into RunResults at the end."""

    started: float
    checks: list[CheckResult] = field(default_factory=list)
    recorder: Recorder | None = None
    target: RunTarget | None = None
    # Why the run could not test, typed (its exit code travels with it to the CLI's edge).
    error: NeuropayError | None = None
    not_implemented: list[str] = field(default_factory=list)  # found by the preflight
    subset: list[str] | None = None  # --operations: the operations certified
    unavailable: dict[str, str] = field(default_factory=dict)  # operation -> why not called
    differential: dict[str, int] | None = None  # --differential: its counts, kept up to date


def spec_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""


def now_iso(stamp: float | None = None) -> str:
    return utc_timestamp(stamp)


def _no_answer(exc: BaseException) -> str | None:
    """``"ReadError: ..."`` when ``exc`` (or what caused it) is a connection or timeout error of
    httpx, requests (schemathesis) or the OS; else None."""
    import httpx
    import requests

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(
            current,
            httpx.TransportError
            | requests.ConnectionError
            | requests.Timeout
            | ConnectionError
            | TimeoutError,
        ):
            return f"{type(current).__name__}: {current}"[:500]
        current = current.__cause__ or current.__context__
    return None


def reported_exception(exc: BaseException | None) -> tuple[BaseException | None, str | None]:
    """The exception to report for a check, and why it was cut short: when Hypothesis replaced
    the failure it found with a Flaky* error (replaying against a live target whose state had
    moved on passed, or drew other data), the first failure the check raised."""
    from hypothesis.errors import Flaky

    found = first_failure()
    if exc is None or not isinstance(exc, Flaky) or found is None:
        return exc, None
    return found, (
        "the failing example did not replay the same way against the live target (its state "
        f"had changed: {type(exc).__name__}); the first failure found is reported, not shrunk"
    )


def _schemathesis_failure(exc: BaseException, operation: str | None) -> Failure | None:
    """A schemathesis check failure (or a group of them) as our Failure."""
    try:
        from schemathesis.core.failures import Failure as StFailure
        from schemathesis.core.failures import FailureGroup
    except ImportError:  # pragma: no cover - schemathesis is a dependency
        return None
    failures: list[Any] = []
    if isinstance(exc, FailureGroup):
        failures = list(exc.exceptions)
    elif isinstance(exc, StFailure):
        failures = [exc]
    if not failures:
        return None
    # A 500 is the most telling of several findings on one answer; then keep schemathesis' order.
    failures.sort(key=lambda f: "not_a_server_error" not in getattr(f, "checks", ()))
    first = failures[0]
    check = first.checks[0] if getattr(first, "checks", ()) else first.code
    titles = "; ".join(f"{f.code} {f.title}" for f in failures)
    return Failure(
        rule=f"schemathesis.{check}",
        title=str(first.title),
        message=f"{titles}. {str(first.message)[:1500]}",
        operation=operation,
        expected={"check": check, "code": first.code},
        received=str(first.message)[:2000],
    )


def check_result(
    item: pytest.Item,
    mark: pytest.Mark,
    report: pytest.TestReport,
    call: pytest.CallInfo[None],
    state: RunState,
) -> CheckResult:
    category = str(mark.kwargs.get("category") or (mark.args[0] if mark.args else "contract"))
    operation = mark.kwargs.get("operation")
    status = mark.kwargs.get("status")
    steps = list(state.recorder.steps) if state.recorder is not None else []
    result = CheckResult(
        id=item.nodeid,
        name=item.name,
        category=category,
        outcome="passed",
        operation=operation,
        status=status,
        requests=max(len(steps), state.recorder.requests if state.recorder is not None else 0),
        duration_s=round(report.duration, 4),
    )
    if report.skipped:
        reason = (
            str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
        )
        reason = reason.removeprefix("Skipped: ")
        result.outcome = "not_covered"
        result.reason = clip(reason.removeprefix(NOT_COVERED_PREFIX), 2000)
        return result
    if report.passed:
        return result
    exc = call.excinfo.value if call.excinfo is not None else None
    exc, result.cut_short = reported_exception(exc)
    if isinstance(exc, NotImplementedOperation):
        result.outcome = "blocked"
        result.root_cause = NOT_IMPLEMENTED + exc.operation
        result.reason = str(exc)
        return result
    secrets = state.recorder.secrets if state.recorder is not None else None
    failure: Failure | None
    if isinstance(exc, ContractViolation):
        failure = Failure(
            rule=exc.rule,
            title=exc.title,
            message=exc.message,
            operation=exc.operation or operation,
            expected=exc.expected,
            received=exc.received,
        )
    elif exc is not None and (lost := _no_answer(exc)) is not None:
        # The target closed, reset or never answered: its fault (often a crash on the last
        # request, which the reproduction then shows), not the check's.
        failure = Failure(
            rule="transport.no-answer",
            title="The target gave no HTTP answer",
            message=lost,
            operation=operation,
            expected="an HTTP answer",
            received=lost,
        )
    else:
        failure = _schemathesis_failure(exc, operation) if exc is not None else None
    if failure is None:
        result.outcome = "error"
        text = str(exc) if exc is not None else str(report.longrepr)
        reason = f"{type(exc).__name__ if exc else 'error'}: {text}"
        result.reason = clip(secrets.redact(reason) if secrets is not None else reason, 2000)
        failure = Failure(
            rule="suite.error",
            title="The check could not run to the end",
            message=result.reason,
            operation=operation,
        )
        result.failure = failure
    elif isinstance(exc, ContractViolation) and (exc.setup or report.when == "setup"):
        # Its setup failed: it did not get to test what it set out to. It is counted under
        # the root cause of that step, not as a failure of its own.
        result.outcome = "blocked"
        result.failure = failure
        result.reason = f"its setup failed ({exc.setup or 'a shared fixture'}): {exc.title}"
    else:
        result.outcome = "failed"
        result.failure = failure
    if isinstance(exc, ContractViolation) and exc.steps:
        steps = exc.steps
    failure.steps = steps
    failure.curl = (
        exc.curl
        if isinstance(exc, ContractViolation) and exc.curl
        else (sequence_to_curl(steps) if steps else "")
    )
    if secrets is not None:
        failure.expected = secrets.redact_any(failure.expected)
        failure.received = secrets.redact_any(failure.received)
        failure.message = secrets.redact(failure.message)
        failure.curl = secrets.redact(failure.curl)
    _bound(failure)
    return result


def _bound(failure: Failure) -> None:
    """What the target answered, as stored: every body, header and message at most a few KiB,
    whatever the target sent (redaction happened first, so no key is cut in half)."""
    failure.title = clip(failure.title, 300)
    failure.message = clip(failure.message)
    failure.expected = bounded(failure.expected)
    failure.received = bounded(failure.received)
    for step in failure.steps:
        step.response_body = bounded(step.response_body)
        step.response_headers = {k: bounded(v) for k, v in step.response_headers.items()}


def lifecycle_cells(spec: Any, checks: list[CheckResult]) -> list[LifecycleCell]:
    lifecycle = spec.lifecycle if spec is not None else None
    if lifecycle is None:
        return []
    by_pair: dict[tuple[str, str], list[CheckResult]] = {}
    for check in checks:
        if check.category == "lifecycle" and check.status and check.operation:
            by_pair.setdefault((check.status, check.operation), []).append(check)
    cells: list[LifecycleCell] = []
    for cell in matrix_cells(lifecycle):
        status, op, expected = cell.status, cell.operation, cell.expected
        found = by_pair.get((status, op), [])
        if not found:
            cells.append(LifecycleCell(status, op, expected, "not_covered", "no check ran"))
            continue
        worst = next(
            (c for c in found if c.outcome in ("failed", "error", "blocked")),
            next((c for c in found if c.outcome == "not_covered"), found[0]),
        )
        cells.append(LifecycleCell(status, op, expected, worst.outcome, worst.reason))
    return cells


def _coverage(
    spec: Any, state: RunState, cells: list[LifecycleCell], checks: list[CheckResult]
) -> dict[str, Any] | None:
    """The run's coverage map: every answer the recorder saw and the lifecycle cells a check
    exercised (with the answer it got). The contract is the whole spec: cells of operations the
    target lacks or the run left out (--operations) are not covered, never out of reach."""
    if spec is None:
        return None
    seen = state.recorder.seen if state.recorder is not None else Seen()
    failures = {(c.status, c.operation): c.failure for c in checks if c.failure is not None}
    for cell in cells:
        if cell.outcome == "passed":
            seen.moves.setdefault((cell.status, cell.operation), cell.expected)
        elif cell.outcome == "failed":
            failure = failures.get((cell.status, cell.operation))
            received = failure.received if failure is not None else None
            got = received.get("status") if isinstance(received, dict) else None
            seen.moves.setdefault((cell.status, cell.operation), f"{got or '?'} (failed)")
    seen.rules |= {c.failure.rule for c in checks if c.failure is not None}
    return build_coverage(spec, seen)


def build_results(state: RunState, settings: RunSettings) -> RunResults:
    """The run's results from what the plugin gathered and the settings it ran with."""
    target = state.target
    spec = target.spec if target is not None else None
    checks: list[CheckResult] = state.checks
    operations: dict[str, OperationSummary] = {}
    if spec is not None:
        for op in spec.operations:
            operations[op] = OperationSummary()
    if state.recorder is not None:
        for op, count in state.recorder.per_operation.items():
            operations.setdefault(op, OperationSummary()).requests = count
    for check in checks:
        if check.operation:
            summary = operations.setdefault(check.operation, OperationSummary())
            if check.outcome == "passed":
                summary.passed += 1
            elif check.outcome == "failed":
                summary.failed += 1
            elif check.outcome == "not_covered":
                summary.not_covered += 1
            elif check.outcome == "blocked":
                summary.blocked += 1
            else:
                summary.errors += 1
    root_causes = assign_root_causes(checks, spec)
    lifecycle = lifecycle_cells(spec, checks)
    coverage = _coverage(spec, state, lifecycle, checks)
    not_implemented = list(state.not_implemented)
    failed = bool(not_implemented) or any(
        c.outcome in ("failed", "error", "blocked") for c in checks
    )
    spec_path = Path(str(spec.path or "")) if spec is not None else Path()
    return RunResults(
        target_url=target.url if target is not None else "",
        embedded_target=target.embedded if target is not None else False,
        spec_path=str(spec_path),
        spec_title=spec.title if spec is not None else "",
        spec_version=spec.version if spec is not None else "",
        spec_sha256=spec_digest(spec_path) if spec_path.name else "",
        started=now_iso(state.started),
        finished=now_iso(),
        duration_s=round(time.time() - state.started, 3),
        seed=settings.seed,
        profile=settings.profile,
        verdict="violations" if failed else "conformant",
        tool_version=__version__,
        checks=checks,
        operations=operations,
        lifecycle=lifecycle,
        error=str(state.error) if state.error is not None else None,
        root_causes=root_causes,
        not_implemented=not_implemented,
        operations_tested=state.subset,
        differential=dict(state.differential) if state.differential is not None else None,
        coverage=coverage,
        shard="/".join(map(str, settings.shard)) if settings.shard else None,
    )
