"""Idempotency-Key: a retry answers the first answer and changes nothing; another body is refused."""

from __future__ import annotations

import secrets

import pytest

from _support import SPEC
from neuropay_contract.contract import ContractClient, ContractViolation, Driver, create_body
from neuropay_contract.contract.checks import check_error, check_status

HEADER = str(SPEC.idempotency.get("header", "Idempotency-Key"))
REPLAYED = str(SPEC.idempotency.get("replay_header", "Idempotent-Replayed"))
CONFLICT = SPEC.idempotency.get("conflict") or {"http": 409, "code": "idempotency_key_reused"}


@pytest.mark.np_check(category="idempotency", operation="refundCheckout", status="paid")
def test_refund_retry_refunds_once(np_driver: Driver, np_client: ContractClient) -> None:
    checkout = np_driver.reach("paid", capture=True)
    key = {HEADER: f"contract-{secrets.token_hex(8)}"}
    body = {"checkout_id": checkout["checkout_id"], "amount": 500}
    first = np_client.call("refundCheckout", body, headers=key)
    check_status(first, 200, "idempotency.first-request", "the first refund was refused")
    second = np_client.call("refundCheckout", body, headers=key)
    check_status(
        second, 200, "idempotency.replay", "the retry was not answered like the first request"
    )
    if second.body != first.body:
        raise ContractViolation(
            "idempotency.replay",
            "A retry did not return the first answer",
            "the second answer differs from the first",
            operation="refundCheckout",
            expected=first.body,
            received=second.body,
        )
    if second.headers.get(REPLAYED, "").lower() != "true":
        raise ContractViolation(
            "idempotency.replay-header",
            f"A replay lacks {REPLAYED}: true",
            f"{REPLAYED} was {second.headers.get(REPLAYED)!r}",
            operation="refundCheckout",
            expected={REPLAYED: "true"},
            received={REPLAYED: second.headers.get(REPLAYED)},
        )
    after = np_driver.retrieve(checkout["checkout_id"])
    if after["refunded_amount"] != 500 or len(after["refunds"]) != 1:
        raise ContractViolation(
            "idempotency.no-double-effect",
            "A retried refund refunded twice",
            f"after one refund of 500 and its retry: refunded_amount {after['refunded_amount']}, {len(after['refunds'])} refunds",
            operation="refundCheckout",
            expected={"refunded_amount": 500, "refunds": 1},
            received={
                "refunded_amount": after["refunded_amount"],
                "refunds": len(after["refunds"]),
            },
        )
    other = np_client.call("refundCheckout", {**body, "amount": 700}, headers=key)
    check_error(
        SPEC,
        other,
        int(CONFLICT["http"]),
        str(CONFLICT["code"]),
        "idempotency.key-reuse",
        "the same key with another body was accepted",
    )
    check_status(
        np_client.call("retrieveCheckout", {"checkout_id": checkout["checkout_id"]}),
        200,
        "checkouts.retrievable",
        "retrieve failed",
    )


@pytest.mark.np_check(category="idempotency", operation="createCheckout")
def test_create_retry_creates_once(np_client: ContractClient) -> None:
    key = {HEADER: f"contract-{secrets.token_hex(8)}"}
    body = create_body()
    first = np_client.call("createCheckout", body, headers=key)
    check_status(first, 200, "idempotency.first-request", "the first create was refused")
    second = np_client.call("createCheckout", body, headers=key)
    check_status(second, 200, "idempotency.replay", "the retried create was refused")
    a, b = first.json_object().get("checkout_id"), second.json_object().get("checkout_id")
    if a != b:
        raise ContractViolation(
            "idempotency.no-double-effect",
            "A retried create made a second checkout",
            f"first {a}, retry {b}",
            operation="createCheckout",
            expected={"checkout_id": a},
            received={"checkout_id": b},
        )
