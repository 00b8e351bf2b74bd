"""Long sequences (issue 20 B.3): refunds until nothing is left, many updates in a row, and an
idempotent retry after many other writes; the object checked after every step, in the answer
and read back. Expectations come from x-lifecycle (``Lifecycle.decide``), never from a list."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from _support import SPEC
from neuropay_contract.contract import ContractClient, ContractViolation, Driver
from neuropay_contract.contract.checks import check_error, check_response_schema, check_unchanged
from neuropay_contract.lifecycle import Answer, request_facts

AMOUNT = 1000
PARTIALS = 4  # partial refunds before the last, full one
OTHER_WRITES = 30  # writes between a request and its retry


def _fail(rule: str, title: str, message: str, op: str, expected: Any, received: Any) -> None:
    raise ContractViolation(
        rule, title, message, operation=op, expected=expected, received=received
    )


@pytest.mark.np_check(category="sequences", operation="refundCheckout", status="paid")
def test_refunds_until_nothing_is_left(np_driver: Driver, np_client: ContractClient) -> None:
    lifecycle = SPEC.require_lifecycle()
    checkout = np_driver.reach("paid", capture=True, amount=AMOUNT)
    refunded: list[int] = []
    # partial refunds, then the rest (no amount), then one more with nothing left
    steps: list[int | None] = [AMOUNT // 10 + i for i in range(PARTIALS)]
    steps += [None, 1]
    for step, amount in enumerate(steps, 1):
        body: dict[str, Any] = {"checkout_id": checkout["checkout_id"]}
        if amount is not None:
            body["amount"] = amount
        facts = request_facts(lifecycle, SPEC.test_mode, checkout, "refundCheckout", body)
        decision = lifecycle.decide(checkout["status"], "refundCheckout", facts)
        resp = np_client.call("refundCheckout", body)
        if isinstance(decision, Answer):  # the last one: nothing is left
            check_error(
                SPEC,
                resp,
                decision.http,
                decision.code,
                "sequences.refunds-exhausted",
                f"refund {step} with nothing left was accepted",
            )
            check_unchanged(
                checkout,
                np_driver.retrieve(checkout["checkout_id"]),
                "refundCheckout",
                rule="sequences.refunds-exhausted",
            )
            break
        if resp.status != 200:
            _fail(
                "sequences.refunds-exhausted",
                f"refund {step} of a sequence was refused",
                f"refund {step} ({amount}) with {AMOUNT - sum(refunded)} left answered "
                f"{resp.status}",
                "refundCheckout",
                {"status": 200},
                resp.body,
            )
        check_response_schema(SPEC, resp)
        refunded.append(amount if amount is not None else AMOUNT - sum(refunded))
        after = resp.json_object()
        expected = {
            "status": decision.target,
            "refunded_amount": sum(refunded),
            "refunds": len(refunded),
        }
        for where, seen in (
            ("answer", after),
            ("retrieve", np_driver.retrieve(after["checkout_id"])),
        ):
            got = {
                "status": seen.get("status"),
                "refunded_amount": seen.get("refunded_amount"),
                "refunds": len(seen.get("refunds") or []),
            }
            amounts = [r.get("amount") for r in seen.get("refunds") or [] if isinstance(r, dict)]
            if got != expected or amounts != refunded:
                _fail(
                    "sequences.refunds-exhausted",
                    f"after refund {step} of {len(steps) - 1} the checkout is wrong",
                    f"the {where} after refunds {refunded} shows {got}, refund amounts {amounts}",
                    "refundCheckout",
                    {**expected, "amounts": refunded},
                    {**got, "amounts": amounts},
                )
        checkout = after


@pytest.mark.np_check(category="sequences", operation="updateCheckout")
def test_many_updates_merge_in_order(np_driver: Driver, np_client: ContractClient) -> None:
    """Each update merges into what the previous ones left (a key sent empty is deleted)."""
    checkout = np_driver.reach("created")
    model = dict(checkout.get("metaData") or {})
    for step in range(12):
        change = {f"k{step}": f"v{step}", f"k{step - 2}": ""} if step >= 2 else {f"k{step}": "x"}
        if step % 3 == 0:
            change[f"k{step - 1}"] = f"again{step}"
        resp = np_client.call(
            "updateCheckout", {"checkout_id": checkout["checkout_id"], "metaData": change}
        )
        model = {k: v for k, v in {**model, **change}.items() if v != ""}
        for where, seen in (
            ("answer", resp.json_object()),
            ("retrieve", np_driver.retrieve(checkout["checkout_id"])),
        ):
            if resp.status != 200 or seen.get("metaData") != model:
                _fail(
                    "sequences.repeated-updates",
                    f"update {step + 1} of a row left the wrong metadata",
                    f"the {where} after update {step + 1} ({change}) shows {seen.get('metaData')}",
                    "updateCheckout",
                    {"metaData": model},
                    {"status": resp.status, "metaData": seen.get("metaData")},
                )


@pytest.mark.np_check(category="sequences", operation="refundCheckout", status="paid")
def test_retry_after_many_writes_replays(np_driver: Driver, np_client: ContractClient) -> None:
    """A retry comes back with the first answer however many other keyed writes came between."""
    header = SPEC.idempotency.header
    checkout = np_driver.reach("paid", capture=True, amount=AMOUNT)
    key = f"retry-{secrets.token_hex(8)}"
    body = {"checkout_id": checkout["checkout_id"], "amount": 1}
    first = np_client.call("refundCheckout", body, headers={header: key})
    if first.status != 200:
        _fail(
            "sequences.retry-after-writes",
            "The first keyed refund was refused",
            f"refundCheckout answered {first.status}",
            "refundCheckout",
            {"status": 200},
            first.body,
        )
    other = np_driver.reach("created")
    for n in range(OTHER_WRITES):
        np_client.call(
            "updateCheckout",
            {"checkout_id": other["checkout_id"], "metaData": {"n": str(n)}},
            headers={header: f"other-{secrets.token_hex(8)}"},
        )
    again = np_client.call("refundCheckout", body, headers={header: key})
    after = np_driver.retrieve(checkout["checkout_id"])
    if (again.status, again.body) != (first.status, first.body) or after.get(
        "refunded_amount"
    ) != 1:
        _fail(
            "sequences.retry-after-writes",
            f"A retry after {OTHER_WRITES} other writes was not replayed",
            f"the retry answered {again.status} and the checkout has refunded "
            f"{after.get('refunded_amount')} (expected the first answer and 1)",
            "refundCheckout",
            {"status": first.status, "body": first.body, "refunded_amount": 1},
            {
                "status": again.status,
                "body": again.body,
                "refunded_amount": after.get("refunded_amount"),
            },
        )
