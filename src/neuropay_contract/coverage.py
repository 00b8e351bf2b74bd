"""Which part of the contract a run exercised: per operation the declared responses seen and not
seen, the documented error codes seen, the ``x-precedence`` steps whose answer was seen; every
status x operation cell of the lifecycle with the answer it got. The same map for ``neuropay
test`` (every exchange the suite sent) and for observed traffic (``neuropay proxy``, ``audit``:
which part of the contract your client exercised).

A *cell* is one thing that can be covered: an (operation, declared status), an (operation,
error code) or a lifecycle (status, operation). A cell no request can reach is listed as
unreachable with the reason and never counted; ``percent`` is covered / reachable."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .lifecycle.matrix import cells as matrix_cells
from .lifecycle.plan import plan
from .spec import ApiSpec

COVERAGE_VERSION = "1"
# Answers of the server's own failure: no conformant exchange provokes them.
SERVER_FAILURE = "the server's own failure: no request to a conformant server provokes it"


def documented_codes(spec: ApiSpec, operation: str, status: int) -> set[str]:
    """Error codes the spec's examples give for this operation and status."""
    documented = spec.operation(operation).responses.get(str(status))
    codes: set[str] = set()
    for example in documented.examples if documented is not None else ():
        value: Any = example.value
        error = value.get("error") if isinstance(value, Mapping) else None
        if isinstance(error, Mapping) and isinstance(error.get("code"), str):
            codes.add(error["code"])
    return codes


def error_code(body: Any) -> str | None:
    """The error envelope's code of an answer body, or None."""
    error = body.get("error") if isinstance(body, Mapping) else None
    code = error.get("code") if isinstance(error, Mapping) else None
    return code if isinstance(code, str) else None


@dataclass
class Seen:
    """What a run saw: (operation, HTTP status, error code) answers, and lifecycle moves
    (status before, operation) with the answer they got (``200 → paid``, ``409 invalid_status``)."""

    answers: set[tuple[str, int, str]] = field(default_factory=set)
    moves: dict[tuple[str, str], str] = field(default_factory=dict)
    rules: set[str] = field(default_factory=set)

    def answer(self, operation: str | None, status: int | None, body: Any) -> None:
        if operation and status is not None:
            self.answers.add((operation, status, error_code(body) or ""))

    def to_dict(self) -> dict[str, Any]:
        return {
            "answers": sorted([list(a) for a in self.answers]),
            "moves": sorted([[s, o, a] for (s, o), a in self.moves.items()]),
            "rules": sorted(self.rules),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Seen:
        seen = cls()
        seen.answers = {(str(o), int(s), str(c)) for o, s, c in data.get("answers", [])}
        seen.moves = {(str(s), str(o)): str(a) for s, o, a in data.get("moves", [])}
        seen.rules = {str(r) for r in data.get("rules", [])}
        return seen

    def merge(self, other: Seen) -> None:
        self.answers |= other.answers
        for key, answer in other.moves.items():
            self.moves.setdefault(key, answer)
        self.rules |= other.rules


def _unreachable_statuses(spec: ApiSpec) -> dict[str, str]:
    lifecycle = spec.lifecycle
    found: dict[str, str] = {}
    if lifecycle is None:
        return found
    for status in lifecycle.states:
        try:
            plan(lifecycle, status)
        except ValueError:
            found[status] = f"no sequence of operations reaches {status} from creation"
    return found


def _lifecycle_refusals(spec: ApiSpec) -> dict[str, set[str]]:
    """Error code -> the operations x-lifecycle answers it to (guard rejections): a shared
    response's examples may list it for other operations too, which never get it."""
    found: dict[str, set[str]] = {}
    for rejection in spec.lifecycle.rejections if spec.lifecycle is not None else ():
        found.setdefault(rejection.answer.code, set()).add(rejection.operation)
    return found


def build_coverage(
    spec: ApiSpec, seen: Seen, unreachable_operations: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The coverage map of ``seen`` against ``spec`` (the ``coverage`` object of results.json).
    ``unreachable_operations``: operations the run could not call, with why (not implemented,
    outside the certified subset); their cells are listed unreachable, never covered."""
    away = dict(unreachable_operations or {})
    refusals = _lifecycle_refusals(spec)
    answered: dict[str, set[tuple[int, str]]] = {}
    for name, status, code in seen.answers:
        answered.setdefault(name, set()).add((status, code))
    operations: dict[str, Any] = {}
    covered = reachable = 0
    unreachable: list[dict[str, str]] = []
    for op_id, op in spec.operations.items():
        got = answered.get(op_id, set())
        statuses = {s for s, _c in got}
        declared = sorted(s for s in op.responses if s.isdigit())
        codes = sorted({c for s in declared for c in documented_codes(spec, op_id, int(s))})
        seen_codes = sorted({c for _s, c in got if c in codes})
        steps = [
            step.name
            for step in spec.precedence
            if step.http and any(s == step.http and c in step.codes for s, c in got)
        ]
        operations[op_id] = {
            "requests_answered": len(got),
            "responses": {
                "declared": declared,
                "seen": [s for s in declared if int(s) in statuses],
                "not_seen": [s for s in declared if int(s) not in statuses],
                "undeclared_seen": sorted(str(s) for s in statuses if str(s) not in declared),
            },
            "error_codes": {
                "declared": codes,
                "seen": seen_codes,
                "not_seen": [c for c in codes if c not in seen_codes],
            },
            "precedence_steps": {
                "exercised": steps,
                "not_exercised": [
                    s.name for s in spec.precedence if s.http and s.name not in steps
                ],
            },
        }
        for declared_status in declared:
            why = away.get(op_id) or (SERVER_FAILURE if declared_status[0] == "5" else None)
            if why:
                unreachable.append({"cell": f"{op_id} {declared_status}", "reason": why})
                continue
            reachable += 1
            covered += int(declared_status) in statuses
        for code in codes:
            infos = spec.error_codes.get(code)
            owners = refusals.get(code)
            why = (
                away.get(op_id)
                or (SERVER_FAILURE if infos is not None and infos.http >= 500 else None)
                or (
                    f"x-lifecycle gives {code} only to {', '.join(sorted(owners))}"
                    if owners and op_id not in owners
                    else None
                )
            )
            if why:
                unreachable.append({"cell": f"{op_id} {code}", "reason": why})
                continue
            reachable += 1
            covered += code in seen_codes
    lifecycle: list[dict[str, Any]] = []
    dead = _unreachable_statuses(spec)
    if spec.lifecycle is not None:
        for cell in matrix_cells(spec.lifecycle):
            answer = seen.moves.get((cell.status, cell.operation))
            why = dead.get(cell.status) or away.get(cell.operation)
            lifecycle.append(
                {
                    "status": cell.status,
                    "operation": cell.operation,
                    "expected": cell.expected,
                    "kind": "forbidden" if cell.forbidden is not None else "move",
                    "answer": answer,
                    "covered": answer is not None and not why,
                    "unreachable": why,
                }
            )
            if why:
                unreachable.append({"cell": f"{cell.status} x {cell.operation}", "reason": why})
                continue
            reachable += 1
            covered += answer is not None
    percent = round(100.0 * covered / reachable, 1) if reachable else 100.0
    return {
        "version": COVERAGE_VERSION,
        "percent": percent,
        "covered": covered,
        "reachable": reachable,
        "operations": operations,
        "lifecycle": lifecycle,
        "rules_exercised": sorted(seen.rules),
        "unreachable": unreachable,
        "seen": seen.to_dict(),
    }


def categories(coverage: Mapping[str, Any]) -> list[tuple[str, int, int]]:
    """(category, covered, reachable) for the one-line-per-category summary."""
    ops = coverage.get("operations", {})
    away = {u["cell"] for u in coverage.get("unreachable", [])}
    responses = [
        (f"{op} {s}", s in o["responses"]["seen"])
        for op, o in ops.items()
        for s in o["responses"]["declared"]
    ]
    codes = [
        (f"{op} {c}", c in o["error_codes"]["seen"])
        for op, o in ops.items()
        for c in o["error_codes"]["declared"]
    ]
    rows = coverage.get("lifecycle", [])
    moves = [(r, r["covered"]) for r in rows if r["kind"] == "move" and not r["unreachable"]]
    forbidden = [
        (r, r["covered"]) for r in rows if r["kind"] == "forbidden" and not r["unreachable"]
    ]
    steps = [
        (step, step in o["precedence_steps"]["exercised"])
        for o in ops.values()
        for step in o["precedence_steps"]["exercised"] + o["precedence_steps"]["not_exercised"]
    ]

    def count(items: Iterable[tuple[Any, bool]], skip: bool = True) -> tuple[int, int]:
        kept = [hit for cell, hit in items if not (skip and isinstance(cell, str) and cell in away)]
        return sum(kept), len(kept)

    return [
        ("declared responses", *count(responses)),
        ("error codes", *count(codes)),
        ("lifecycle moves", *count(moves, skip=False)),
        ("lifecycle forbidden pairs", *count(forbidden, skip=False)),
        ("precedence steps", *count(steps, skip=False)),
    ]


FAIL_UNDER_HELP = (
    "Exit 1 when the contract coverage (covered / reachable cells: declared responses, error "
    "codes, lifecycle cells) is below PCT percent."
)


def gate(coverage: Mapping[str, Any] | None, fail_under: float | None) -> str | None:
    """The one-line reason a run fails ``--fail-under``, or None when it passes (or no gate)."""
    if fail_under is None:
        return None
    percent = float(coverage["percent"]) if coverage else 0.0
    if percent >= fail_under:
        return None
    return (
        f"contract coverage {percent:g}% is below --fail-under {fail_under:g}% "
        f"({coverage['covered'] if coverage else 0} of {coverage['reachable'] if coverage else 0}"
        " reachable cells)"
    )
