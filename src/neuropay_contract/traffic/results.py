"""Turn a traffic check into the toolkit's :class:`RunResults`, so the proxy and the audit write
the same results JSON, JUnit, HTML and Markdown as ``neuropay test``."""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

from .. import __version__
from ..contract.curl import sequence_to_curl
from ..contract.root_causes import STATEFUL_RULES, assign_root_causes
from ..coverage import Seen, build_coverage
from ..documents import DocumentError, parse_json
from ..results import (
    CheckResult,
    Failure,
    ObjectTimeline,
    OperationSummary,
    RunResults,
    Step,
)
from ..untrusted import BODY_LIMIT, bounded
from ..wellformed import utc_timestamp
from .checker import TrafficChecker
from .exchange import Exchange, redact_text
from .findings import Finding

SIDES = ("client", "server")
# Timelines in a report: objects with findings first, then the others, up to this many.
MAX_REPORTED_OBJECTS = 300


def _iso(stamp: float) -> str:
    return utc_timestamp(stamp)


# Bodies and values of all findings together, per report: past it a finding keeps its text but
# not its exchange, so a report stays a few MB whatever the traffic (thousands of findings on
# 50 MB bodies included).
REPORT_BODY_BUDGET = 1 << 20


def _body(raw: bytes) -> Any:
    """A body as a report stores it: bounded like ``neuropay test``'s, and JSON only when it
    parses within the document depth limit (a deeper one stays text, never a RecursionError)."""
    if len(raw) > 4 * BODY_LIMIT:  # never decode or parse megabytes to keep 4 KB
        head = raw[:BODY_LIMIT].decode("utf-8", "ignore")
        return f"{redact_text(head)}… (truncated: {len(raw):,} bytes in all)"
    text = raw.decode("utf-8", "replace")
    if not text:
        return None
    try:
        return bounded(parse_json(text, "a body"))
    except DocumentError:
        return bounded(redact_text(text))


def exchange_step(ex: Exchange, operation: str | None) -> Step:
    """An exchange as a report step; the key is written as ``$NEUROPAY_API_KEY``."""
    headers = {
        k: ("Bearer $NEUROPAY_API_KEY" if k == "authorization" else v)
        for k, v in ex.request_headers.items()
        if k in ("authorization", "content-type", "idempotency-key", "x-neuropay-expect")
    }
    return Step(
        method=ex.method,
        url=redact_text(ex.url),
        operation=operation,
        request_headers=headers,
        request_body=_body(ex.request_body),
        status=ex.status,
        response_headers={k: bounded(v) for k, v in ex.response_headers.items()},
        response_body=_body(ex.response_body),
        elapsed_ms=ex.elapsed_ms,
    )


def _failure(finding: Finding, step: Step | None, room: int = BODY_LIMIT) -> Failure:
    steps = [step] if step is not None else []
    return Failure(
        rule=finding.rule,
        title=f"{finding.side}: {finding.rule}",
        message=finding.message,
        operation=finding.operation,
        expected=bounded(finding.expected, room),
        received=bounded(finding.received, room),
        steps=steps,
        curl=sequence_to_curl(steps) if steps else "",
    )


def build_results(
    checker: TrafficChecker,
    target: str,
    started: float,
    profile: str,
    error: str | None = None,
) -> RunResults:
    """One failed check per finding (category ``client`` or ``server``) and, per operation and
    side, one passed check counting the exchanges without a finding."""
    checks: list[CheckResult] = []
    failing: Counter[tuple[str, str]] = Counter()
    first_on: dict[tuple[str, str], tuple[str, str]] = {}  # (object, kind) -> (check, rule)
    follows: dict[str, str] = {}
    steps: dict[int, tuple[Step, int]] = {}  # per exchange: its step and its bodies' size
    budget = REPORT_BODY_BUDGET
    for number, finding in enumerate(checker.findings, start=1):
        kept = checker.kept.get(finding.exchange)
        step: Step | None = None
        if kept is not None:
            if finding.exchange not in steps:
                made = exchange_step(kept.exchange, kept.operation)
                size = len(json.dumps([made.request_body, made.response_body], default=str))
                steps[finding.exchange] = (made, size)
            step, size = steps[finding.exchange]
            budget -= size
            if budget < 0:  # the finding's text stays; its reproduction does not fit
                step = None
        room = BODY_LIMIT if budget > 0 else 256
        budget -= len(json.dumps([finding.expected, finding.received], default=str)[:room])
        operation = finding.operation or "(not an operation)"
        failing[(operation, finding.side)] += 1
        obj = f" {finding.object_id}" if finding.object_id else ""
        check_id = f"traffic::{finding.side}::{number}"
        if finding.object_id and finding.rule.startswith(STATEFUL_RULES):
            # judged on a part of the object's state (its status, its totals) that an earlier
            # finding of the same kind on it already got wrong: a knock-on of that finding
            kind = (finding.object_id, finding.rule.split(".", 1)[0])
            earlier = first_on.setdefault(kind, (check_id, finding.rule))
            if earlier[1] != finding.rule:
                follows[check_id] = earlier[0]
        checks.append(
            CheckResult(
                id=check_id,
                name=f"#{finding.exchange} {operation}{obj}: {finding.rule}",
                category=finding.side,
                outcome="failed",
                operation=finding.operation,
                requests=1,
                failure=_failure(finding, step, room),
            )
        )
    operations: dict[str, OperationSummary] = {}
    for operation, count in sorted(checker.requests.items()):
        operations[operation] = OperationSummary(requests=count)
        for side in SIDES:
            bad = failing[(operation, side)]
            operations[operation].failed += bad
            if bad:
                continue  # its findings are the failed checks above
            operations[operation].passed += 1
            checks.append(
                CheckResult(
                    id=f"traffic::{side}::{operation}",
                    name=f"{operation}: the {side} side of {count} exchange(s)",
                    category=side,
                    outcome="passed",
                    operation=operation if operation in checker.spec.operations else None,
                    requests=count,
                )
            )
    spec_path = Path(str(checker.spec.path or ""))
    digest = (
        hashlib.sha256(spec_path.read_bytes()).hexdigest()
        if spec_path.name and spec_path.exists()
        else ""
    )
    root_causes = assign_root_causes(checks, checker.spec, follows)
    coverage = build_coverage(checker.spec, _with_moves(checker))
    finished = time.time()
    return RunResults(
        target_url=target,
        embedded_target=False,
        spec_path=str(spec_path),
        spec_title=checker.spec.title,
        spec_version=checker.spec.version,
        spec_sha256=digest,
        started=_iso(started),
        finished=_iso(finished),
        duration_s=round(max(0.0, finished - started), 3),
        seed=None,
        profile=profile,
        verdict="error" if error else ("violations" if checker.findings else "conformant"),
        tool_version=__version__,
        checks=checks,
        operations=operations,
        lifecycle=[],
        error=error,
        objects=_timelines(checker),
        root_causes=root_causes,
        coverage=coverage,
    )


def _with_moves(checker: TrafficChecker) -> Seen:
    """The answers the traffic got and, from each object's timeline, every (status before,
    operation) it exercised with the answer: ``200 → paid``, ``409``."""
    seen = Seen()
    seen.merge(checker.seen)
    seen.rules |= {f.rule for f in checker.findings}
    for obj in checker.objects:
        before: str | None = None
        for event in obj.timeline:
            if before is not None and event.http is not None:
                moved = f" → {event.status}" if 200 <= event.http < 300 and event.status else ""
                seen.moves.setdefault((before, event.operation), f"{event.http}{moved}")
            before = event.status or before
    return seen


def _timelines(checker: TrafficChecker) -> list[ObjectTimeline]:
    objects = sorted(checker.objects, key=lambda o: not any(e.findings for e in o.timeline))[
        :MAX_REPORTED_OBJECTS
    ]
    return [ObjectTimeline(o.kind, o.object_id, o.owner, list(o.timeline)) for o in objects]
