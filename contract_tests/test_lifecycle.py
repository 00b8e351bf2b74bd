"""Every allowed transition, every forbidden pair and every guard rejection of x-lifecycle.

Parametrized from the bundled spec at collection time; each check drives a fresh checkout."""

from __future__ import annotations

from typing import Any

import pytest

from _support import SPEC
from neuropay_contract.contract import ContractClient, Driver, not_covered
from neuropay_contract.contract.checks import (
    ContractViolation,
    check_error,
    check_money,
    check_unchanged,
)
from neuropay_contract.lifecycle import (
    MissingMeans,
    Transition,
    remaining_amount,
    request_for,
    wanted_capture,
)

LIFECYCLE = SPEC.require_lifecycle()


def _np(category: str, operation: str | None, status: str | None) -> Any:
    return pytest.mark.np_check(category=category, operation=operation, status=status)


TRANSITIONS = [
    pytest.param(
        t,
        id=t.name,
        marks=_np("lifecycle", LIFECYCLE.trigger_operation(t), t.source),
    )
    for t in LIFECYCLE.transitions
]


@pytest.mark.parametrize("transition", TRANSITIONS)
def test_transition(np_driver: Driver, transition: Transition) -> None:
    """An allowed move answers 200 with the documented status and effects, and re-reads the same."""
    before = (
        np_driver.reach(transition.source, wanted_capture(transition.guard))
        if transition.source
        else None
    )
    after = np_driver.perform(transition, before, wanted_capture(transition.guard) is not False)
    if transition.effect == "refund" and before is not None:
        refunded = int(after["refunded_amount"]) - int(before["refunded_amount"])
        if len(after["refunds"]) != len(before["refunds"]) + 1 or refunded <= 0:
            raise ContractViolation(
                "lifecycle.effect-refund",
                "A refund transition did not record one refund",
                f"{transition.name}: refunds {len(before['refunds'])} → {len(after['refunds'])}, "
                f"refunded_amount {before['refunded_amount']} → {after['refunded_amount']}",
                operation="refundCheckout",
                expected={"refunds": len(before["refunds"]) + 1},
                received={
                    "refunds": len(after["refunds"]),
                    "refunded_amount": after["refunded_amount"],
                },
            )
    elif before is not None and (
        after["refunds"] != before["refunds"]
        or after["refunded_amount"] != before["refunded_amount"]
    ):
        raise ContractViolation(
            "lifecycle.effect-none",
            "A transition without a refund effect changed the refunds",
            f"{transition.name}: refunded_amount {before['refunded_amount']} → "
            f"{after['refunded_amount']}, refunds {len(before['refunds'])} → {len(after['refunds'])}",
            operation=np_driver.lifecycle.trigger_operation(transition),
            expected={"refunded_amount": before["refunded_amount"], "refunds": before["refunds"]},
            received={"refunded_amount": after["refunded_amount"], "refunds": after["refunds"]},
        )
    check_money(
        after,
        amount=before["amount"] if before else None,
        currency=before["currency"] if before else None,
    )
    reread = np_driver.retrieve(after["checkout_id"])
    check_unchanged(after, reread, "retrieveCheckout", rule="lifecycle.reread-matches")


def _request_for(driver: Driver, operation: str, checkout: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"checkout_id": checkout["checkout_id"]}
    properties = driver.spec.deref(driver.spec.operation(operation).request_schema or {})
    if "card_number" in properties.get("properties", {}):
        body["card_number"] = driver.means.card_number_success
    return body


FORBIDDEN = [
    pytest.param(f, id=f"{f.status}-{f.operation}", marks=_np("lifecycle", f.operation, f.status))
    for f in LIFECYCLE.forbidden
]


@pytest.mark.parametrize("forbidden", FORBIDDEN)
def test_forbidden(np_driver: Driver, np_client: ContractClient, forbidden: Any) -> None:
    """A move the lifecycle forbids gets its exact answer and changes nothing."""
    checkout = np_driver.reach(forbidden.status)
    resp = np_client.call(
        forbidden.operation, _request_for(np_driver, forbidden.operation, checkout)
    )
    op = np_driver.spec.operation(forbidden.operation)
    if (
        op.test_only
        and resp.status in (404, 405)
        and resp.json_object().get("error", {}).get("code") in (None, "not_found")
    ):
        not_covered(f"the target has no test helper {forbidden.operation}")
    check_error(
        np_driver.spec,
        resp,
        forbidden.answer.http,
        forbidden.answer.code,
        "lifecycle.forbidden-answer",
        f"{forbidden.operation} in '{forbidden.status}' was not refused as the spec says",
    )
    check_unchanged(checkout, np_driver.retrieve(checkout["checkout_id"]), forbidden.operation)


REJECTIONS = [
    pytest.param(
        r, id=f"{r.source}-{r.operation}-{r.guard}", marks=_np("lifecycle", r.operation, r.source)
    )
    for r in LIFECYCLE.rejections
]


@pytest.mark.parametrize("rejection", REJECTIONS)
def test_rejection(np_driver: Driver, np_client: ContractClient, rejection: Any) -> None:
    """An allowed operation whose guard fails (a partial release, a refund above what is left)."""
    checkout = np_driver.reach(rejection.source)
    remaining = remaining_amount(checkout)
    try:
        fields = request_for(
            [rejection.guard],
            creation=False,
            card=np_driver.card_for,
            remaining=remaining,
            partial=remaining // 2,
        )
    except MissingMeans as exc:
        not_covered(str(exc))
        raise
    body: dict[str, Any] = {"checkout_id": checkout["checkout_id"], **fields}
    resp = np_client.call(rejection.operation, body)
    check_error(
        np_driver.spec,
        resp,
        rejection.answer.http,
        rejection.answer.code,
        "lifecycle.rejection-answer",
        f"{rejection.operation} in '{rejection.source}' with {rejection.guard} was not refused as the spec says",
    )
    check_unchanged(checkout, np_driver.retrieve(checkout["checkout_id"]), rejection.operation)
