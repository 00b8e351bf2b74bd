"""The results of a contract run: the one data model every output (terminal, JSON, JUnit, HTML,
Markdown) is rendered from. ``results.json`` is ``RunResults.to_dict()``; its JSON Schema is
``RESULTS_SCHEMA`` below (also written by ``neuropay report --schema``)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from .documents import read_json
from .errors import NeuropayError
from .outputs import write_text

SCHEMA_VERSION = "2"  # 2: root causes, not-implemented operations, the blocked outcome
READABLE_VERSIONS = ("1", SCHEMA_VERSION)

# blocked: the check could not test what it set out to, because its setup (a create, reaching a
# status, a customer) failed or it needs an operation the target does not implement; its
# ``root_cause`` says which.
Outcome = Literal["passed", "failed", "blocked", "not_covered", "error"]
OUTCOMES: tuple[str, ...] = ("passed", "failed", "blocked", "not_covered", "error")
NOT_IMPLEMENTED = "not-implemented:"  # root_cause of a check blocked by a missing operation
Verdict = Literal["conformant", "violations", "error"]


@dataclass
class Step:
    """One HTTP exchange of a failing sequence. Headers never hold the API key."""

    method: str
    url: str
    operation: str | None = None
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: Any = None
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: Any = None
    elapsed_ms: float | None = None


@dataclass
class Failure:
    """Why a check failed: the rule it broke, what was expected and received, how to reproduce."""

    rule: str
    title: str
    message: str
    operation: str | None = None
    expected: Any = None
    received: Any = None
    steps: list[Step] = field(default_factory=list)
    curl: str = ""


@dataclass
class CheckResult:
    """One check (one pytest test of the suite) and its outcome."""

    id: str
    name: str
    category: str
    outcome: Outcome
    operation: str | None = None
    status: str | None = None  # lifecycle status the check starts from, if any
    requests: int = 0
    duration_s: float = 0.0
    reason: str | None = None  # why not covered or blocked, or the error
    failure: Failure | None = None
    root_cause: str | None = None  # id of the RootCause (or "not-implemented:OP") it shares
    cut_short: str | None = None  # why the check stopped before its full budget of examples


@dataclass
class RootCause:
    """Failures that share one cause: one thing to fix, and the checks it explains."""

    id: str
    rule: str
    title: str
    explanation: str  # one paragraph: what was expected, what was received
    operations: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    expected: Any = None
    received: Any = None
    checks: list[str] = field(default_factory=list)  # ids of every check it explains
    blocked: list[str] = field(default_factory=list)  # those of them it kept from running
    fix: str = ""  # what to change in the target, one sentence
    rules: list[str] = field(default_factory=list)  # every rule its checks broke
    knock_on: list[str] = field(default_factory=list)  # traffic: later findings it caused

    @property
    def failed(self) -> list[str]:
        return [c for c in self.checks if c not in set(self.blocked)]


@dataclass
class OperationSummary:
    requests: int = 0
    passed: int = 0
    failed: int = 0
    not_covered: int = 0
    errors: int = 0
    blocked: int = 0


@dataclass
class LifecycleCell:
    """One (status, operation) pair of the lifecycle matrix and what the run found."""

    status: str
    operation: str
    expected: str  # "→ paid" or "409 invalid_status"
    outcome: Outcome
    reason: str | None = None


@dataclass
class TimelineEvent:
    """One exchange that touched an object in observed traffic (``neuropay proxy`` and
    ``audit``): the operation, who asked (a key label, never a key) and what came back."""

    exchange: int
    started: str
    operation: str
    key: str | None
    http: int | None
    status: str | None  # the object's status after the exchange, as far as answers show it
    note: str = ""
    findings: list[str] = field(default_factory=list)  # "side: rule" of the exchange


@dataclass
class ObjectTimeline:
    """An object followed across observed traffic."""

    kind: str
    object_id: str
    owner: str | None
    events: list[TimelineEvent] = field(default_factory=list)


@dataclass
class RunResults:
    """Everything a contract run found."""

    target_url: str
    embedded_target: bool
    spec_path: str
    spec_title: str
    spec_version: str
    spec_sha256: str
    started: str
    finished: str
    duration_s: float
    seed: int | None
    profile: str
    verdict: Verdict
    tool_version: str
    checks: list[CheckResult] = field(default_factory=list)
    operations: dict[str, OperationSummary] = field(default_factory=dict)
    lifecycle: list[LifecycleCell] = field(default_factory=list)
    error: str | None = None
    schema_version: str = SCHEMA_VERSION
    objects: list[ObjectTimeline] = field(default_factory=list)  # observed traffic only
    root_causes: list[RootCause] = field(default_factory=list)  # largest first
    not_implemented: list[str] = field(default_factory=list)  # operation ids
    operations_tested: list[str] | None = None  # the subset certified (--operations), or all
    # --differential: exchanges replayed on the reference, differences, reference bugs
    differential: dict[str, int] | None = None
    coverage: dict[str, Any] | None = None  # what the run exercised (coverage.build_coverage)
    shard: str | None = None  # "K/N" of a --shard run (None: every check, or merged shards)

    def counts(self) -> dict[str, int]:
        totals = dict.fromkeys(OUTCOMES, 0)
        for check in self.checks:
            totals[check.outcome] += 1
        totals["requests"] = sum(op.requests for op in self.operations.values())
        return totals

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if c.outcome in ("failed", "error")]

    @property
    def not_covered(self) -> list[CheckResult]:
        return [c for c in self.checks if c.outcome == "not_covered"]

    @property
    def blocked(self) -> list[CheckResult]:
        return [c for c in self.checks if c.outcome == "blocked"]

    def unexplained(self) -> list[CheckResult]:
        """Failures no root cause explains (the rest, after the root causes)."""
        return [c for c in self.failures if c.root_cause is None]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["summary"] = self.counts()
        return data

    def write(self, path: Path) -> None:
        write_text(path, json.dumps(self.to_dict(), indent=2, default=str) + "\n")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunResults:
        data = dict(data)
        data.pop("summary", None)
        checks = []
        for raw in data.pop("checks", []):
            raw = dict(raw)
            failure = raw.pop("failure", None)
            if failure is not None:
                failure = dict(failure)
                failure["steps"] = [Step(**s) for s in failure.get("steps", [])]
                raw["failure"] = Failure(**failure)
            checks.append(CheckResult(**raw))
        operations = {k: OperationSummary(**v) for k, v in data.pop("operations", {}).items()}
        lifecycle = [LifecycleCell(**c) for c in data.pop("lifecycle", [])]
        objects = [
            ObjectTimeline(**{**o, "events": [TimelineEvent(**e) for e in o.get("events", [])]})
            for o in data.pop("objects", [])
        ]
        causes = [RootCause(**c) for c in data.pop("root_causes", [])]
        data["schema_version"] = SCHEMA_VERSION  # a version-1 file reads as a run without causes
        return cls(
            **data,
            checks=checks,
            operations=operations,
            lifecycle=lifecycle,
            objects=objects,
            root_causes=causes,
        )

    @classmethod
    def read(cls, path: Path) -> RunResults:
        """Load a results file; one-line :class:`NeuropayError` when it is missing or malformed."""
        if not path.exists():
            raise NeuropayError(f"results file {path} does not exist; run `neuropay test` first")
        # Recorded bodies come from the target, so allow deeper nesting than in a spec; the
        # renderers still recurse comfortably at this depth.
        data = read_json(path, "results file", limit=400)
        from jsonschema import Draft202012Validator

        errors = sorted(Draft202012Validator(RESULTS_SCHEMA).iter_errors(data), key=str)
        if errors:
            where = "/".join(str(p) for p in errors[0].absolute_path) or "(root)"
            raise NeuropayError(
                f"results file {path} does not match the results schema at {where}: "
                f"{errors[0].message}"
            )
        try:
            return cls.from_dict(data)
        except TypeError as exc:
            raise NeuropayError(f"results file {path} has unexpected fields: {exc}") from None


_STEP = {
    "type": "object",
    "required": ["method", "url"],
    "properties": {
        "method": {"type": "string"},
        "url": {"type": "string"},
        "operation": {"type": ["string", "null"]},
        "request_headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "request_body": {},
        "status": {"type": ["integer", "null"]},
        "response_headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "response_body": {},
        "elapsed_ms": {"type": ["number", "null"]},
    },
    "additionalProperties": False,
}

_FAILURE = {
    "type": "object",
    "required": ["rule", "title", "message"],
    "properties": {
        "rule": {"type": "string", "minLength": 1},
        "title": {"type": "string"},
        "message": {"type": "string"},
        "operation": {"type": ["string", "null"]},
        "expected": {},
        "received": {},
        "steps": {"type": "array", "items": _STEP},
        "curl": {"type": "string"},
    },
    "additionalProperties": False,
}

_OUTCOME = {"enum": list(OUTCOMES)}

_ROOT_CAUSE = {
    "type": "object",
    "required": ["id", "rule", "title", "explanation", "operations", "checks"],
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "rule": {"type": "string", "minLength": 1},
        "title": {"type": "string"},
        "explanation": {"type": "string"},
        "operations": {"type": "array", "items": {"type": "string"}},
        "fields": {"type": "array", "items": {"type": "string"}},
        "expected": {},
        "received": {},
        "checks": {"type": "array", "items": {"type": "string"}},
        "blocked": {"type": "array", "items": {"type": "string"}},
        "fix": {"type": "string"},
        "rules": {"type": "array", "items": {"type": "string"}},
        "knock_on": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": False,
}

_NAMES = {"type": "array", "items": {"type": "string"}}
_SEEN_NOT = {
    "type": "object",
    "properties": {"declared": _NAMES, "seen": _NAMES, "not_seen": _NAMES},
}
# The coverage map (neuropay_contract.coverage), versioned on its own ("version").
_COVERAGE = {
    "type": "object",
    "required": ["version", "percent", "covered", "reachable", "operations", "lifecycle"],
    "properties": {
        "version": {"enum": ["1"]},
        "percent": {"type": "number", "minimum": 0, "maximum": 100},
        "covered": {"type": "integer", "minimum": 0},
        "reachable": {"type": "integer", "minimum": 0},
        "operations": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "requests_answered": {"type": "integer"},
                    "responses": {
                        "type": "object",
                        "properties": {
                            "declared": _NAMES,
                            "seen": _NAMES,
                            "not_seen": _NAMES,
                            "undeclared_seen": _NAMES,
                        },
                    },
                    "error_codes": _SEEN_NOT,
                    "precedence_steps": {
                        "type": "object",
                        "properties": {"exercised": _NAMES, "not_exercised": _NAMES},
                    },
                },
            },
        },
        "lifecycle": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["status", "operation", "expected", "covered"],
                "properties": {
                    "status": {"type": "string"},
                    "operation": {"type": "string"},
                    "expected": {"type": "string"},
                    "kind": {"enum": ["move", "forbidden"]},
                    "answer": {"type": ["string", "null"]},
                    "covered": {"type": "boolean"},
                    "unreachable": {"type": ["string", "null"]},
                },
            },
        },
        "rules_exercised": _NAMES,
        "unreachable": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["cell", "reason"],
                "properties": {"cell": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
        "seen": {"type": "object"},
    },
}

RESULTS_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "neuropay contract run results",
    "type": "object",
    "required": [
        "schema_version",
        "target_url",
        "spec_title",
        "spec_version",
        "started",
        "finished",
        "verdict",
        "checks",
        "operations",
        "lifecycle",
        "summary",
    ],
    "properties": {
        "schema_version": {"enum": list(READABLE_VERSIONS)},
        "target_url": {"type": "string"},
        "embedded_target": {"type": "boolean"},
        "spec_path": {"type": "string"},
        "spec_title": {"type": "string"},
        "spec_version": {"type": "string"},
        "spec_sha256": {"type": "string"},
        "started": {"type": "string"},
        "finished": {"type": "string"},
        "duration_s": {"type": "number", "minimum": 0},
        "seed": {"type": ["integer", "null"]},
        "profile": {"type": "string"},
        "verdict": {"enum": ["conformant", "violations", "error"]},
        "tool_version": {"type": "string"},
        "error": {"type": ["string", "null"]},
        "summary": {
            "type": "object",
            "properties": {k: {"type": "integer", "minimum": 0} for k in (*OUTCOMES, "requests")},
        },
        "checks": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "name", "category", "outcome"],
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "category": {"type": "string"},
                    "outcome": _OUTCOME,
                    "operation": {"type": ["string", "null"]},
                    "status": {"type": ["string", "null"]},
                    "requests": {"type": "integer", "minimum": 0},
                    "duration_s": {"type": "number", "minimum": 0},
                    "reason": {"type": ["string", "null"]},
                    "failure": {"oneOf": [_FAILURE, {"type": "null"}]},
                    "root_cause": {"type": ["string", "null"]},
                    "cut_short": {"type": ["string", "null"]},
                },
                "additionalProperties": False,
            },
        },
        "operations": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    k: {"type": "integer", "minimum": 0}
                    for k in ("requests", "passed", "failed", "not_covered", "errors", "blocked")
                },
                "additionalProperties": False,
            },
        },
        "objects": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["kind", "object_id", "events"],
                "properties": {
                    "kind": {"type": "string"},
                    "object_id": {"type": "string"},
                    "owner": {"type": ["string", "null"]},
                    "events": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["exchange", "operation"],
                            "properties": {
                                "exchange": {"type": "integer"},
                                "started": {"type": "string"},
                                "operation": {"type": "string"},
                                "key": {"type": ["string", "null"]},
                                "http": {"type": ["integer", "null"]},
                                "status": {"type": ["string", "null"]},
                                "note": {"type": "string"},
                                "findings": {"type": "array", "items": {"type": "string"}},
                            },
                            "additionalProperties": False,
                        },
                    },
                },
                "additionalProperties": False,
            },
        },
        "root_causes": {"type": "array", "items": _ROOT_CAUSE},
        "coverage": {"oneOf": [_COVERAGE, {"type": "null"}]},
        "shard": {"type": ["string", "null"], "pattern": "^[0-9]+/[0-9]+$"},
        "not_implemented": {"type": "array", "items": {"type": "string"}},
        "operations_tested": {"type": ["array", "null"], "items": {"type": "string"}},
        "differential": {"type": ["object", "null"], "additionalProperties": {"type": "integer"}},
        "lifecycle": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["status", "operation", "expected", "outcome"],
                "properties": {
                    "status": {"type": "string"},
                    "operation": {"type": "string"},
                    "expected": {"type": "string"},
                    "outcome": _OUTCOME,
                    "reason": {"type": ["string", "null"]},
                },
                "additionalProperties": False,
            },
        },
    },
    "additionalProperties": False,
}
