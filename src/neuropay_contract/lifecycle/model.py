"""The typed ``x-lifecycle`` extension and the one decision it makes.

The reference server, the contract suite, the Postman scenarios and the docs all decide what an
operation does to a checkout by calling :meth:`Lifecycle.decide`, so the rules live in the spec once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ..errors import SpecError


@dataclass(frozen=True)
class Answer:
    """An error answer the lifecycle prescribes: HTTP status and error code."""

    http: int
    code: str


@dataclass(frozen=True)
class Event:
    """Something a customer or the platform does, forced in test mode by ``helper``."""

    name: str
    description: str
    helper: str | None


@dataclass(frozen=True)
class Transition:
    """One allowed move. ``source`` is None for moves made by creating the checkout."""

    name: str
    source: str | None
    target: str
    operation: str | None
    event: str | None
    guard: tuple[str, ...]
    effect: str | None

    @property
    def trigger(self) -> str:
        """The operation or event that makes the move, for people."""
        return self.operation or f"event {self.event}"


@dataclass(frozen=True)
class Rejection:
    """An allowed (status, operation) pair whose guard fails: answered with ``answer``."""

    source: str
    operation: str
    guard: str
    answer: Answer


@dataclass(frozen=True)
class Forbidden:
    """A (status, operation) pair with no transition and the answer it gets."""

    status: str
    operation: str
    answer: Answer


@dataclass(frozen=True)
class Lifecycle:
    """The typed ``x-lifecycle`` extension."""

    schema: str
    field: str
    amount_field: str
    refunded_field: str
    states: Mapping[str, str]
    initial: tuple[str, ...]
    final: tuple[str, ...]
    unrestricted: tuple[str, ...]
    events: Mapping[str, Event]
    guards: Mapping[str, str]
    effects: Mapping[str, str]
    transitions: tuple[Transition, ...]
    rejections: tuple[Rejection, ...]
    forbidden: tuple[Forbidden, ...]

    def trigger_operation(self, transition: Transition) -> str | None:
        """The API operation that performs ``transition``: its own, or its event's test helper."""
        if transition.operation:
            return transition.operation
        event = self.events.get(transition.event or "")
        return event.helper if event else None

    @cached_property
    def refund_operations(self) -> frozenset[str]:
        """Operations whose transitions refund money (the amount guard is among their facts)."""
        return frozenset(
            op
            for t in self.transitions
            if t.effect == "refund" and (op := self.trigger_operation(t)) is not None
        )

    @cached_property
    def restricted_operations(self) -> tuple[str, ...]:
        """Operations whose outcome depends on the status (all but create and ``unrestricted``);
        asked on every exchange the traffic checker follows, so worked out once."""
        ops: list[str] = []
        for t in self.transitions:
            op = self.trigger_operation(t)
            if t.source is not None and op and op not in ops:
                ops.append(op)
        for f in self.forbidden:
            if f.operation not in ops:
                ops.append(f.operation)
        return tuple(ops)

    def transitions_from(self, status: str | None, operation: str) -> list[Transition]:
        """Transitions out of ``status`` that ``operation`` performs."""
        return list(self._transitions_by_move.get((status, operation), ()))

    @cached_property
    def _transitions_by_move(self) -> dict[tuple[str | None, str | None], list[Transition]]:
        # Asked on every request that moves a checkout: indexed once, in declaration order.
        moves: dict[tuple[str | None, str | None], list[Transition]] = {}
        for t in self.transitions:
            moves.setdefault((t.source, self.trigger_operation(t)), []).append(t)
        return moves

    def forbidden_answer(self, status: str, operation: str) -> Answer | None:
        return self._forbidden_by_move.get((status, operation))

    @cached_property
    def _forbidden_by_move(self) -> dict[tuple[str, str], Answer]:
        # the first declaration of a pair wins, as the scan in declaration order did
        moves: dict[tuple[str, str], Answer] = {}
        for f in self.forbidden:
            moves.setdefault((f.status, f.operation), f.answer)
        return moves

    def rejected_guard(self, status: str, operation: str, answer: Answer) -> str | None:
        """The guard whose rejection ``answer`` is (None for a forbidden status)."""
        if self.forbidden_answer(status, operation) is not None:
            return None
        return next(
            (
                r.guard
                for r in self.rejections
                if r.source == status and r.operation == operation and r.answer == answer
            ),
            None,
        )

    def decide(
        self, status: str | None, operation: str, facts: Iterable[str]
    ) -> Transition | Answer:
        """What ``operation`` does in ``status`` given the guards that hold (``facts``).

        Returns the transition to apply, or the error answer (after which nothing may change).
        Unrestricted operations are not decided here: they never change the status.
        """
        held = set(facts)
        if status is not None:
            answer = self.forbidden_answer(status, operation)
            if answer is not None:
                return answer
        candidates = self.transitions_from(status, operation)
        for t in candidates:
            if all(g in held for g in t.guard):
                return t
        for r in self.rejections:
            if r.source == status and r.operation == operation and r.guard in held:
                return r.answer
        raise SpecError(
            f"x-lifecycle has no transition, rejection or forbidden answer for {operation} in "
            f"status {status!r} with guards {sorted(held)}; add one to the spec"
        )


def _answer(raw: Mapping[str, Any], where: str) -> Answer:
    try:
        return Answer(http=int(raw["http"]), code=str(raw["code"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise SpecError(f"{where} needs 'http' and 'code': {exc}") from exc


def _str_tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def parse_lifecycle(raw: Mapping[str, Any]) -> Lifecycle:
    """Build the typed lifecycle from the raw ``x-lifecycle`` mapping."""
    where = "x-lifecycle"
    try:
        states_raw = raw["states"]
        states = {
            str(name): str((info or {}).get("description", "")) for name, info in states_raw.items()
        }
        events = {
            str(name): Event(str(name), str(info.get("description", "")), info.get("helper"))
            for name, info in (raw.get("events") or {}).items()
        }
        transitions = tuple(
            Transition(
                name=str(t["name"]),
                source=t.get("from"),
                target=str(t["to"]),
                operation=t.get("operation"),
                event=t.get("event"),
                guard=_str_tuple(t.get("guard")),
                effect=t.get("effect"),
            )
            for t in raw.get("transitions") or []
        )
        rejections = tuple(
            Rejection(
                source=str(r["from"]),
                operation=str(r["operation"]),
                guard=str(r["guard"]),
                answer=_answer(r, f"{where}.rejections"),
            )
            for r in raw.get("rejections") or []
        )
        forbidden = tuple(
            Forbidden(
                status=str(f["status"]),
                operation=str(f["operation"]),
                answer=_answer(f, f"{where}.forbidden"),
            )
            for f in raw.get("forbidden") or []
        )
        return Lifecycle(
            schema=str(raw.get("schema", "Checkout")),
            field=str(raw.get("field", "status")),
            amount_field=str(raw.get("amount_field", "amount")),
            refunded_field=str(raw.get("refunded_field", "refunded_amount")),
            states=states,
            initial=_str_tuple(raw.get("initial")),
            final=_str_tuple(raw.get("final")),
            unrestricted=_str_tuple(raw.get("unrestricted")),
            events=events,
            guards={str(k): str(v) for k, v in (raw.get("guards") or {}).items()},
            effects={str(k): str(v) for k, v in (raw.get("effects") or {}).items()},
            transitions=transitions,
            rejections=rejections,
            forbidden=forbidden,
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise SpecError(f"{where} is malformed: missing or wrong field {exc}") from exc
