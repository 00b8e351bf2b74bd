"""Money as properties: random refund sequences never break the invariants."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neuropay_contract.contract import ContractClient, ContractViolation, Driver
from neuropay_contract.contract.checks import check_error, check_money, check_response_schema
from neuropay_contract.contract.plugin import np_settings
from neuropay_contract.lifecycle import Answer, request_facts

REFUND = st.one_of(st.none(), st.integers(min_value=1, max_value=4000))


@pytest.mark.np_check(category="money", operation="refundCheckout", status="paid")
@np_settings()
@given(
    amount=st.integers(min_value=1, max_value=3000),
    refunds=st.lists(REFUND, min_size=1, max_size=5),
)
def test_refund_sequences_keep_the_money_right(
    np_driver: Driver, np_client: ContractClient, amount: int, refunds: list[int | None]
) -> None:
    """Never more refunded than paid; refunded_amount is the sum of refunds; the status follows the
    totals; amount and currency never change; a refused refund changes nothing."""
    np_client.recorder.restart_sequence()  # a failure reproduces its own (shrunk) example
    lifecycle = np_client.spec.require_lifecycle()
    checkout = np_driver.reach("paid", capture=True, amount=amount)
    currency = checkout["currency"]
    for requested in refunds:
        remaining = int(checkout["amount"]) - int(checkout["refunded_amount"])
        body: dict[str, Any] = {"checkout_id": checkout["checkout_id"]}
        if requested is not None:
            body["amount"] = requested
        facts = request_facts(lifecycle, np_client.spec.test_mode, checkout, "refundCheckout", body)
        decision = lifecycle.decide(checkout["status"], "refundCheckout", facts)
        resp = np_client.call("refundCheckout", body)
        if isinstance(decision, Answer):
            check_error(
                np_client.spec,
                resp,
                decision.http,
                decision.code,
                "money.refund-refused",
                f"a refund of {requested} with {remaining} left was not refused",
            )
            after = np_driver.retrieve(checkout["checkout_id"])
        else:
            if resp.status != 200:
                raise ContractViolation(
                    "money.refund-accepted",
                    "A valid refund was refused",
                    f"refund of {requested} with {remaining} left answered {resp.status}",
                    operation="refundCheckout",
                    expected={"status": 200, "checkout.status": decision.target},
                    received={"status": resp.status, "body": resp.body},
                )
            check_response_schema(np_client.spec, resp)
            after = resp.json_object()
            refunded = requested if requested is not None else remaining
            if after.get("refunded_amount") != int(checkout["refunded_amount"]) + refunded:
                raise ContractViolation(
                    "money.refund-amount",
                    "The refund moved the wrong amount",
                    f"refunded_amount {checkout['refunded_amount']} + {refunded} → {after.get('refunded_amount')}",
                    operation="refundCheckout",
                    expected={"refunded_amount": int(checkout["refunded_amount"]) + refunded},
                    received={"refunded_amount": after.get("refunded_amount")},
                )
            if after.get("status") != decision.target:
                raise ContractViolation(
                    "money.status-follows-totals",
                    "The status does not follow the refunded total",
                    f"refunded {after.get('refunded_amount')} of {after.get('amount')}: status '{after.get('status')}', expected '{decision.target}'",
                    operation="refundCheckout",
                    expected={"status": decision.target},
                    received={"status": after.get("status")},
                )
        check_money(after, amount=int(checkout["amount"]), currency=currency)
        checkout = after
    check_money(
        np_driver.retrieve(checkout["checkout_id"]),
        amount=int(checkout["amount"]),
        currency=currency,
    )


CONCURRENT = 8  # refunds sent at once, each of a quarter of the amount


def _code(resp: Any) -> str:
    error = resp.body.get("error") if isinstance(resp.body, dict) else None
    return str(error.get("code")) if isinstance(error, dict) else "(no envelope)"


@pytest.mark.np_check(category="money", operation="refundCheckout", status="paid")
def test_concurrent_refunds_never_refund_more_than_paid(
    np_driver: Driver, np_client: ContractClient
) -> None:
    """Eight refunds of a quarter of the amount, sent at the same moment: exactly four are
    accepted, the others refused as the lifecycle says, and refunded_amount is their sum. A
    server that checks the remaining amount outside the transaction that writes it refunds more
    than was paid."""
    amount = 4000
    share = amount // 4
    lifecycle = np_client.spec.require_lifecycle()
    checkout = np_driver.reach("paid", capture=True, amount=amount)
    body = {"checkout_id": checkout["checkout_id"], "amount": share}
    start = threading.Barrier(CONCURRENT)

    def refund(_: int) -> Any:
        start.wait(timeout=30)
        return np_client.call("refundCheckout", body)

    with ThreadPoolExecutor(CONCURRENT) as pool:
        answers = list(pool.map(refund, range(CONCURRENT)))
    accepted = [a for a in answers if a.status == 200]
    after = np_driver.retrieve(checkout["checkout_id"])
    # Once the whole amount is back, a refund is refused as from 'refunded'; before that, as
    # one that exceeds what is left.
    refusals = {
        (answer.http, answer.code)
        for status, guard in (("partialRefund", "amount_exceeds"), ("refunded", "amount_partial"))
        if isinstance(answer := lifecycle.decide(status, "refundCheckout", {guard}), Answer)
    }
    received = {
        "accepted": len(accepted),
        "refunded_amount": after.get("refunded_amount"),
        "status": after.get("status"),
        "refusals": sorted({(a.status, _code(a)) for a in answers if a.status != 200}),
    }
    expected = {"accepted": 4, "refunded_amount": amount, "status": "refunded"}
    if (len(accepted), after.get("refunded_amount"), after.get("status")) != (
        4,
        amount,
        "refunded",
    ):
        raise ContractViolation(
            "money.concurrent-refunds",
            "Concurrent refunds did not add up",
            f"{CONCURRENT} simultaneous refunds of {share} on {amount}: {len(accepted)} accepted, "
            f"refunded_amount {after.get('refunded_amount')}",
            operation="refundCheckout",
            expected=expected,
            received=received,
        )
    wrong = [a for a in answers if a.status != 200 and (a.status, _code(a)) not in refusals]
    if wrong:
        raise ContractViolation(
            "money.concurrent-refunds",
            "A concurrent refund was refused with an undocumented answer",
            f"answered {wrong[0].status} {_code(wrong[0])}",
            operation="refundCheckout",
            expected={"refusals": sorted(refusals)},
            received=received,
        )
