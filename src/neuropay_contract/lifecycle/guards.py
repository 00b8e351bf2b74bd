"""Guards in both directions: the facts a request makes true (the server deciding, the suite
predicting) and the request that makes wanted facts true (the suite and Postman driving a checkout).

The guard names are a closed set: ``x-lifecycle`` may combine them freely, and a new operation that
uses existing guards needs only the spec; a new guard needs code here, on both sides at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

from .model import Answer

if TYPE_CHECKING:  # the spec module reads the lifecycle, so only its types are needed here
    from ..spec import TestMode
    from .model import Lifecycle

Guard = Literal[
    "no_card",
    "payment_succeeds",
    "payment_declines",
    "capture_true",
    "capture_false",
    "amount_full",
    "amount_partial",
    "amount_exceeds",
]
GUARDS: tuple[Guard, ...] = get_args(Guard)

# The test-mode outcome that pays; any other outcome of a test card declines.
SUCCESS = "success"
DECLINE = "decline"


def is_guard(name: str) -> bool:
    return name in GUARDS


def capture_guard(capture: bool) -> Guard:
    """The capture flag as a guard."""
    return "capture_true" if capture else "capture_false"


def payment_guard(outcome: str) -> Guard:
    """A test card's outcome (``x-test-mode``) as a guard."""
    return "payment_succeeds" if outcome == SUCCESS else "payment_declines"


def refund_guard(remaining: int, requested: int | None) -> Guard:
    """The amount guard a refund request satisfies: full, partial or exceeds."""
    if requested is None or requested == remaining:
        return "amount_full"
    return "amount_partial" if requested < remaining else "amount_exceeds"


def creation_facts(body: Mapping[str, Any], card_outcome: str | None) -> set[Guard]:
    """The guards a create request holds. ``card_outcome`` is what paying with its saved or test
    card id does (None when no card can be charged: the caller looks the card up)."""
    facts: set[Guard] = {capture_guard(bool(body.get("capture", True)))}
    if card_outcome is not None:
        facts.add(payment_guard(card_outcome))
    if body.get("card_id") is None:
        facts.add("no_card")
    return facts


def request_facts(
    lifecycle: Lifecycle,
    test_mode: TestMode | None,
    checkout: Mapping[str, Any],
    operation: str,
    body: Mapping[str, Any],
) -> set[Guard]:
    """The guards that hold for ``operation`` with ``body`` on the stored ``checkout``."""
    facts: set[Guard] = {capture_guard(bool(checkout.get("capture")))}
    if operation in lifecycle.refund_operations:
        amount = body.get("amount")
        if isinstance(amount, float) and amount.is_integer():
            # JSON Schema 2020-12: 1481.0 is the integer 1481, and schemathesis sends both
            # spellings (reading it as "no amount", a full refund, was a false alarm).
            amount = int(amount)
        given = amount if isinstance(amount, int) and not isinstance(amount, bool) else None
        facts.add(refund_guard(remaining_amount(checkout), given))
    number = body.get("card_number")
    if test_mode is None:
        outcome = SUCCESS
    else:
        if number is None:
            number = test_mode.card_number(SUCCESS) or ""
        outcome = test_mode.outcome_of_number(str(number))
    facts.add(payment_guard(outcome))
    return facts


def remaining_amount(checkout: Mapping[str, Any]) -> int:
    """What is left to refund on a checkout."""
    return int(checkout.get("amount", 0)) - int(checkout.get("refunded_amount", 0))


@dataclass(frozen=True)
class RefusalText:
    """What a lifecycle refusal tells the client: its message and the field at fault."""

    message: str
    param: str | None = None


def refusal_text(
    lifecycle: Lifecycle,
    status: str,
    operation: str,
    answer: Answer,
    checkout: Mapping[str, Any],
    body: Mapping[str, Any],
) -> RefusalText:
    """The message of ``answer`` refusing ``operation`` on ``checkout``: the amount guards say
    what is left to refund; a status refusal says which statuses the operation needs."""
    guard = lifecycle.rejected_guard(status, operation, answer)
    remaining = remaining_amount(checkout)
    if guard == "amount_exceeds":
        return RefusalText(
            f"Refund of {body.get('amount')} exceeds the {remaining} left to refund.", "/amount"
        )
    if guard == "amount_partial":
        return RefusalText(
            f"A reservation is released whole; omit amount or send {remaining}.", "/amount"
        )
    allowed = sorted(
        {
            t.source
            for t in lifecycle.transitions
            if t.source and lifecycle.trigger_operation(t) == operation
        }
    )
    return RefusalText(
        f"Cannot {operation} a checkout in status '{checkout.get('status')}'; "
        f"it needs status {', '.join(repr(s) for s in allowed) or 'none'}.",
        "/amount" if guard is not None and guard.startswith("amount_") else None,
    )


class MissingMeans(Exception):
    """No test card or amount can make the wanted guards hold (the run reports it not covered)."""


def wanted_outcome(guards: Iterable[str]) -> str | None:
    """The test card outcome the guards ask for, if they ask for a payment."""
    held = set(guards)
    if "payment_succeeds" in held:
        return SUCCESS
    if "payment_declines" in held:
        return DECLINE
    return None


def request_for(
    guards: Iterable[str],
    *,
    creation: bool,
    card: Callable[[str], str | None],
    remaining: int | None = None,
    total: int | None = None,
    partial: int | None = None,
) -> dict[str, Any]:
    """Body fields that make ``guards`` hold, beyond the ids the caller adds.

    ``card(outcome)`` gives the card to pay with: a card id on creation, a card number after.
    ``remaining`` and ``total`` are the checkout's amounts when known (an unknown remaining
    leaves a full refund without an amount, which means "all that is left"); ``partial`` is the
    amount of a partial refund (default a third of what remains). Raises :class:`MissingMeans`.
    """
    held = set(guards)
    fields: dict[str, Any] = {}
    outcome = wanted_outcome(held)
    if outcome is not None:
        value = card(outcome)
        if value is None:
            kind = "card id" if creation else "card number"
            raise MissingMeans(f"no test {kind} that ends in '{outcome}'")
        fields["card_id" if creation else "card_number"] = value
    if "amount_partial" in held:
        if (remaining is None and partial is None) or (remaining is not None and remaining < 2):
            raise MissingMeans(f"checkout has {remaining} left: no partial refund possible")
        if partial is None:
            assert remaining is not None
            partial = max(1, remaining // 3)
        fields["amount"] = partial
    elif "amount_exceeds" in held:
        if remaining is None:
            raise MissingMeans("the amount left to refund is unknown")
        fields["amount"] = remaining + 1
    elif "amount_full" in held and remaining is not None and remaining != total:
        fields["amount"] = remaining
    return fields


def wanted_capture(guards: Iterable[str]) -> bool | None:
    """The capture flag the guards ask for, if they ask for one."""
    held = set(guards)
    if "capture_false" in held:
        return False
    return True if "capture_true" in held else None


def capture_allows(guards: Iterable[str], capture: bool) -> bool:
    """Whether a transition with ``guards`` can happen to a checkout with that capture flag."""
    held = set(guards)
    return capture_guard(not capture) not in held
