"""The status x operation matrix: for every status and every status-dependent operation, what the
spec says happens (the moves it makes, the guard rejections, or the one forbidden answer). The docs
show it, the results grade coverage by it, the linter checks it is complete."""

from __future__ import annotations

from dataclasses import dataclass

from .model import Answer, Lifecycle, Rejection, Transition
from .plan import plan


@dataclass(frozen=True)
class Cell:
    """One (status, operation) pair of the matrix."""

    status: str
    operation: str
    moves: tuple[Transition, ...]
    rejections: tuple[Rejection, ...]
    forbidden: Answer | None

    @property
    def allowed(self) -> bool:
        return self.forbidden is None

    @property
    def expected(self) -> str:
        """What a check of this pair expects, in a few words: ``409 invalid_status`` or ``→ paid``."""
        if self.forbidden is not None:
            return f"{self.forbidden.http} {self.forbidden.code}"
        return "→ " + " / ".join(sorted({t.target for t in self.moves}))


def matrix(lifecycle: Lifecycle) -> list[tuple[str, list[Cell]]]:
    """One row per status (the spec's order): the status and one cell per restricted operation."""
    return [
        (
            status,
            [
                Cell(
                    status,
                    op,
                    tuple(lifecycle.transitions_from(status, op)),
                    tuple(
                        r for r in lifecycle.rejections if r.source == status and r.operation == op
                    ),
                    lifecycle.forbidden_answer(status, op),
                )
                for op in lifecycle.restricted_operations
            ],
        )
        for status in lifecycle.states
    ]


def cells(lifecycle: Lifecycle) -> list[Cell]:
    """The matrix's cells row by row."""
    return [cell for _status, row in matrix(lifecycle) for cell in row]


def distinct_statuses(lifecycle: Lifecycle) -> list[str]:
    """One status per distinct row of the matrix, in the spec's order, among those :func:`plan`
    reaches: the checkouts a run needs to exercise every way the restricted operations answer
    (statuses whose rows are equal take the same branches). Of statuses sharing a row, the first
    whose plan makes no payment, so reaching it needs no test card."""
    guards: dict[str, set[str]] = {}
    for status in lifecycle.states:
        try:
            guards[status] = {g for t, _flag in plan(lifecycle, status) for g in t.guard}
        except ValueError:
            continue  # unreachable: no checkout can be made in it
    rows: dict[tuple[object, ...], list[str]] = {}
    for status, row in matrix(lifecycle):
        if status in guards:
            key = tuple((c.operation, c.moves, c.rejections, c.forbidden) for c in row)
            rows.setdefault(key, []).append(status)
    paying = {"payment_succeeds", "payment_declines"}
    chosen = {([s for s in same if not guards[s] & paying] or same)[0] for same in rows.values()}
    return [s for s in lifecycle.states if s in chosen]
