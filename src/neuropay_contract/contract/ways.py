"""Every way to make each x-lifecycle transition (issue 20 B.2), derived from the spec.

A way is the transition, how it is triggered and the checkout's capture flag:

- a creation that pays names a card: each test card id of ``x-test-mode`` ending in the
  guard's outcome, and a card the customer saved (saved cards pay successfully);
- an event is forced by its test helper (with each hosted-page test card ending in the
  guard's outcome when it pays), and a customer's event is also played on the hosted page;
- an operation is its own request;

each with the capture flag its guards ask for, or both when they ask for none and the source
status can be reached with either. A new card, guard or transition is covered without new code.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..lifecycle import Lifecycle, Transition, plan, wanted_capture, wanted_outcome
from ..lifecycle.guards import SUCCESS
from ..spec import TestMode

CUSTOMER_EVENT_PREFIX = "customer."  # events a customer causes, on the hosted page


@dataclass(frozen=True)
class Way:
    """One way to make ``transition``: ``means`` is ``card-id``, ``saved-card``, ``helper``,
    ``page`` or ``operation`` (``card`` the card id or number used, if any)."""

    transition: Transition
    means: str
    card: str | None
    capture: bool

    @property
    def name(self) -> str:
        card = f"-{self.card}" if self.card else ""
        return f"{self.transition.name}-{self.means}{card}-capture-{str(self.capture).lower()}"


def ways(lifecycle: Lifecycle, test_mode: TestMode | None) -> list[Way]:
    found: list[Way] = []
    for t in lifecycle.transitions:
        wanted = wanted_capture(t.guard)
        for capture in [wanted] if wanted is not None else [True, False]:
            if t.source is not None and not _reachable(lifecycle, t.source, capture):
                continue
            found += [
                Way(t, means, card, capture) for means, card in _means(lifecycle, t, test_mode)
            ]
    return found


def _reachable(lifecycle: Lifecycle, status: str, capture: bool) -> bool:
    try:
        plan(lifecycle, status, capture)
    except ValueError:
        return False
    return True


def _means(
    lifecycle: Lifecycle, t: Transition, test_mode: TestMode | None
) -> list[tuple[str, str | None]]:
    outcome = wanted_outcome(t.guard)
    if t.source is None:
        if outcome is None:
            return [("operation", None)]
        cards = [c.value for c in test_mode.card_ids if c.outcome == outcome] if test_mode else []
        return [("card-id", c) for c in cards] + (
            [("saved-card", None)] if outcome == SUCCESS else []
        )
    if t.event is None:
        return [("operation", None)]
    numbers = (
        [c.value for c in test_mode.hosted_page_cards if c.outcome == outcome]
        if test_mode and outcome is not None
        else []
    )
    means: list[tuple[str, str | None]] = (
        [("helper", n) for n in numbers] if outcome is not None else [("helper", None)]
    )
    if lifecycle.events[t.event].helper is None:
        means = []
    if t.event.startswith(CUSTOMER_EVENT_PREFIX) and (outcome is None or numbers):
        means.append(("page", numbers[0] if numbers else None))
    return means
