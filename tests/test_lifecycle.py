"""The lifecycle's two directions agree: the request built for a transition's guards is the request
whose facts make :meth:`Lifecycle.decide` choose that transition; the matrix covers every pair."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from neuropay_contract.lifecycle import (
    GUARDS,
    Answer,
    MissingMeans,
    Transition,
    capture_allows,
    cells,
    creation_facts,
    distinct_statuses,
    matrix,
    plan,
    request_facts,
    request_for,
    wanted_capture,
)
from neuropay_contract.spec import load_spec

SPEC = load_spec()
LIFECYCLE = SPEC.require_lifecycle()
TEST_MODE = SPEC.test_mode
assert TEST_MODE is not None


def _card_id(outcome: str) -> str | None:
    return TEST_MODE.card_id(outcome) if TEST_MODE else None


def _card_number(outcome: str) -> str | None:
    return TEST_MODE.card_number(outcome) if TEST_MODE else None


@pytest.mark.parametrize("transition", LIFECYCLE.transitions, ids=lambda t: t.name)
def test_the_request_for_a_transition_makes_its_facts_hold(transition: Transition) -> None:
    capture = wanted_capture(transition.guard)
    flag = capture is not False
    operation = LIFECYCLE.trigger_operation(transition)
    assert operation is not None
    if transition.source is None:
        fields = request_for(transition.guard, creation=True, card=_card_id)
        body: dict[str, Any] = {"capture": flag, **fields}
        cards = {c.value: c.outcome for c in TEST_MODE.card_ids} if TEST_MODE else {}
        outcome = cards.get(str(fields.get("card_id")))
        facts = creation_facts(body, outcome)
    else:
        # The checkout as the plan leaves it before this transition.
        checkout: dict[str, Any] = {"amount": 3000, "refunded_amount": 0, "capture": flag}
        path = plan(LIFECYCLE, transition.source, capture)
        refunds = [t for t, _ in path if t.effect == "refund"]
        checkout["refunded_amount"] = 1000 * len(refunds)  # partial refunds of 1000 each
        fields = request_for(
            transition.guard,
            creation=False,
            card=_card_number,
            remaining=3000 - checkout["refunded_amount"],
            total=3000,
            partial=1000,
        )
        facts = request_facts(LIFECYCLE, TEST_MODE, checkout, operation, fields)
    decision = LIFECYCLE.decide(transition.source, operation, facts)
    assert isinstance(decision, Transition)
    assert decision.target == transition.target
    assert set(transition.guard) <= facts


@pytest.mark.parametrize(
    "rejection", LIFECYCLE.rejections, ids=lambda r: f"{r.source}-{r.operation}-{r.guard}"
)
def test_the_request_for_a_rejected_guard_is_rejected(rejection: Any) -> None:
    checkout = {"amount": 3000, "refunded_amount": 1000, "capture": True}
    fields = request_for(
        [rejection.guard], creation=False, card=_card_number, remaining=2000, partial=500
    )
    facts = request_facts(LIFECYCLE, TEST_MODE, checkout, rejection.operation, fields)
    assert rejection.guard in facts
    assert LIFECYCLE.decide(rejection.source, rejection.operation, facts) == rejection.answer


def test_facts_only_use_known_guards_and_refunds_get_an_amount_guard() -> None:
    checkout = {"amount": 3000, "refunded_amount": 0, "capture": False}
    assert request_facts(LIFECYCLE, TEST_MODE, checkout, "refundCheckout", {"amount": 5000}) == {
        "capture_false",
        "amount_exceeds",
        "payment_succeeds",
    }
    captured = request_facts(LIFECYCLE, TEST_MODE, checkout, "captureCheckout", {"amount": 1})
    assert not any(g.startswith("amount_") for g in captured)
    assert set(captured) <= set(GUARDS)


def test_a_refund_amount_spelled_as_a_whole_float_is_that_integer() -> None:
    """schemathesis sends ``1481.0`` for an integer field; the model must read the refund the
    server does (a partial one here), not a full refund as when the amount is left out."""
    checkout = {"amount": 4900, "refunded_amount": 1000, "capture": True}
    for amount, guard in (
        (1481.0, "amount_partial"),
        (3900.0, "amount_full"),
        (5000.0, "amount_exceeds"),
    ):
        facts = request_facts(LIFECYCLE, TEST_MODE, checkout, "refundCheckout", {"amount": amount})
        assert guard in facts, (amount, facts)


def test_missing_means_are_reported_not_guessed() -> None:
    with pytest.raises(MissingMeans, match="card id"):
        request_for(["payment_succeeds"], creation=True, card=lambda _: None)
    with pytest.raises(MissingMeans, match="partial refund"):
        request_for(["amount_partial"], creation=False, card=_card_number, remaining=1)
    # A full refund of an untouched checkout sends no amount; of the rest, the rest.
    assert request_for(["amount_full"], creation=False, card=_card_number) == {}
    assert request_for(
        ["amount_full"], creation=False, card=_card_number, remaining=2000, total=3000
    ) == {"amount": 2000}


def test_capture_flags() -> None:
    assert capture_allows(["capture_true"], True) and not capture_allows(["capture_true"], False)
    assert capture_allows([], False)
    assert wanted_capture(["capture_false", "payment_succeeds"]) is False


def test_the_matrix_has_one_cell_per_status_and_restricted_operation() -> None:
    rows = matrix(LIFECYCLE)
    assert [status for status, _ in rows] == list(LIFECYCLE.states)
    every = cells(LIFECYCLE)
    assert len(every) == len(LIFECYCLE.states) * len(LIFECYCLE.restricted_operations)
    for cell in every:
        assert (cell.forbidden is None) == bool(cell.moves)  # the spec is complete (NP007)
        if cell.forbidden is not None:
            assert isinstance(cell.forbidden, Answer)
            assert cell.expected == f"{cell.forbidden.http} {cell.forbidden.code}"
        else:
            assert cell.expected.startswith("→ ")


def test_distinct_statuses_keep_one_reachable_status_per_matrix_row() -> None:
    # The final statuses answer every restricted operation alike: one stands for them all, the
    # first reached without a payment; the others each answer differently.
    assert distinct_statuses(LIFECYCLE) == [
        "created",
        "reserved",
        "paid",
        "partialRefund",
        "canceled",
    ]
    # Without its moves, canceled is unreachable: the next final reached without payment stands in.
    no_cancel = tuple(t for t in LIFECYCLE.transitions if t.target != "canceled")
    without = dataclasses.replace(LIFECYCLE, transitions=no_cancel)
    assert distinct_statuses(without)[-1] == "revoked"
    assert "canceled" not in distinct_statuses(without)


def test_refusal_texts_live_in_the_lifecycle() -> None:
    """The guard-specific messages are the lifecycle's: the server names no guard."""
    from pathlib import Path

    from neuropay_contract.lifecycle import GUARDS, refusal_text
    from neuropay_contract.server import service

    checkout = {"status": "captured", "amount": 3000, "refunded_amount": 1000}
    exceeds = next(r for r in LIFECYCLE.rejections if r.guard == "amount_exceeds")
    text = refusal_text(
        LIFECYCLE, exceeds.source, exceeds.operation, exceeds.answer, checkout, {"amount": 5000}
    )
    assert text.param == "/amount" and "5000 exceeds the 2000 left" in text.message
    forbidden = LIFECYCLE.forbidden[0]
    text = refusal_text(
        LIFECYCLE, forbidden.status, forbidden.operation, forbidden.answer, checkout, {}
    )
    assert text.param is None and text.message.startswith(f"Cannot {forbidden.operation}")
    source = Path(service.__file__).read_text()
    assert [g for g in GUARDS if f'"{g}"' in source] == []
