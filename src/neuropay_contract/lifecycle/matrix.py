"""The status x operation matrix: for every status and every status-dependent operation, what the
spec says happens (the moves it makes, the guard rejections, or the one forbidden answer). The docs
show it, the results grade coverage by it, the linter checks it is complete."""

from __future__ import annotations

from dataclasses import dataclass

from .model import Answer, Lifecycle, Rejection, Transition


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
