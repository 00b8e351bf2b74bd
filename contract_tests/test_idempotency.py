"""Idempotency-Key: a retry answers the first answer and changes nothing; another body is refused."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from _support import SPEC, id_field
from neuropay_contract.contract import (
    ContractClient,
    ContractViolation,
    Driver,
    Response,
    create_body,
    customer_body,
)
from neuropay_contract.contract.checks import check_error, check_status, check_unchanged
from neuropay_contract.lifecycle import wanted_capture

HEADER = SPEC.idempotency.header
REPLAYED = SPEC.idempotency.replay_header
CONFLICT = SPEC.idempotency.conflict


@pytest.mark.np_check(category="idempotency", operation="refundCheckout", status="paid")
def test_refund_retry_refunds_once(np_driver: Driver, np_client: ContractClient) -> None:
    checkout = np_driver.reach("paid", capture=True)
    key = {HEADER: f"contract-{secrets.token_hex(8)}"}
    body = {"checkout_id": checkout["checkout_id"], "amount": 500}
    first = np_client.call("refundCheckout", body, headers=key)
    check_status(first, 200, "idempotency.first-request", "the first refund was refused")
    _not_replayed(first)
    before = np_driver.retrieve(checkout["checkout_id"])
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
    check_unchanged(before, after, "refundCheckout", rule="idempotency.no-double-effect")
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
        CONFLICT.http,
        CONFLICT.code,
        "idempotency.key-reuse",
        "the same key with another body was accepted",
    )
    check_unchanged(
        after,
        np_driver.retrieve(checkout["checkout_id"]),
        "refundCheckout",
        rule="idempotency.key-reuse",
    )


@pytest.mark.np_check(category="idempotency", operation="refundCheckout", status="paid")
def test_simultaneous_retries_refund_once(np_driver: Driver, np_client: ContractClient) -> None:
    """Five copies of one refund with one key, sent at the same moment (a client that retries on
    a timeout while the first is still running): one refund, and every copy answers alike."""
    checkout = np_driver.reach("paid", capture=True)
    key = {HEADER: f"contract-{secrets.token_hex(8)}"}
    body = {"checkout_id": checkout["checkout_id"], "amount": 500}
    start = threading.Barrier(5)

    def send(_: int) -> Response:
        start.wait(timeout=30)
        return np_client.call("refundCheckout", body, headers=key)

    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(send, range(5)))
    after = np_driver.retrieve(checkout["checkout_id"])
    received = {
        "statuses": sorted(a.status for a in answers),
        "refunded_amount": after.get("refunded_amount"),
        "refunds": len(after.get("refunds") or []),
    }
    if (after.get("refunded_amount"), received["refunds"]) != (500, 1):
        raise ContractViolation(
            "idempotency.no-double-effect",
            "Simultaneous retries refunded more than once",
            f"5 simultaneous copies of a refund of 500 with one key: refunded_amount "
            f"{after.get('refunded_amount')}, {received['refunds']} refunds",
            operation="refundCheckout",
            expected={"refunded_amount": 500, "refunds": 1},
            received=received,
        )
    if any(a.status != 200 or a.body != answers[0].body for a in answers):
        raise ContractViolation(
            "idempotency.replay",
            "Simultaneous retries were not all answered with the first answer",
            f"statuses {received['statuses']}",
            operation="refundCheckout",
            expected={"statuses": [200] * 5, "bodies": "identical"},
            received=received,
        )


@pytest.mark.np_check(category="idempotency", operation="createCheckout")
def test_create_retry_creates_once(np_client: ContractClient) -> None:
    key = {HEADER: f"contract-{secrets.token_hex(8)}"}
    body = create_body()
    first = np_client.call("createCheckout", body, headers=key)
    check_status(first, 200, "idempotency.first-request", "the first create was refused")
    second = np_client.call("createCheckout", body, headers=key)
    check_status(second, 200, "idempotency.replay", "the retried create was refused")
    _not_replayed(first)
    _replayed(first, second, "createCheckout")
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


def _not_replayed(first: Response) -> None:
    """A first request is not a replay: no ``Idempotent-Replayed: true`` on it."""
    if first.headers.get(REPLAYED, "").lower() == "true":
        raise ContractViolation(
            "idempotency.replay-header",
            f"A first request answered {REPLAYED}: true",
            f"{first.operation} was sent once and claims to be a replay",
            operation=first.operation,
            expected={REPLAYED: None},
            received={REPLAYED: first.headers.get(REPLAYED)},
        )


def _replayed(first: Response, second: Response, operation: str) -> None:
    """The retry answers the first answer: same status, same body, ``Idempotent-Replayed``."""
    if (second.status, second.body) != (first.status, first.body):
        raise ContractViolation(
            "idempotency.replay",
            "A retry did not return the first answer",
            f"{operation}: the first answer was {first.status}, the retry {second.status}"
            + (" with another body" if second.status == first.status else ""),
            operation=operation,
            expected={"status": first.status, "body": first.body},
            received={"status": second.status, "body": second.body},
        )
    if second.headers.get(REPLAYED, "").lower() != "true":
        raise ContractViolation(
            "idempotency.replay-header",
            f"A replay lacks {REPLAYED}: true",
            f"{operation}: {REPLAYED} was {second.headers.get(REPLAYED)!r}",
            operation=operation,
            expected={REPLAYED: "true"},
            received={REPLAYED: second.headers.get(REPLAYED)},
        )


Reread = Callable[[], Any]


def _setup(
    driver: Driver, client: ContractClient, operation: str
) -> tuple[dict[str, Any], dict[str, Any], Callable[[Response], Reread]]:
    """A valid body for ``operation`` in a status where it is allowed, another valid body (for
    the key-reuse check), and how to re-read what the first request touched."""
    lifecycle = driver.lifecycle

    def checkout_reader(checkout_id: str) -> Reread:
        return lambda: driver.retrieve(checkout_id)

    def customer_reader(customer_id: str) -> Reread:
        return lambda: client.call("retrieveCustomer", {"customer_id": customer_id}).body

    if operation == "createCheckout":
        return (
            create_body(),
            create_body(amount=4100),
            lambda first: checkout_reader(str(first.json_object().get("checkout_id"))),
        )
    if operation == "createCustomer":
        return (
            customer_body(),
            customer_body(),
            lambda first: customer_reader(str(first.json_object().get("customer_id"))),
        )
    field = id_field(operation)
    if field == "customer_id":
        one, two = (
            str(client.call("createCustomer", customer_body()).json_object().get("customer_id"))
            for _ in range(2)
        )
        return {"customer_id": one}, {"customer_id": two}, lambda _: customer_reader(one)
    if operation in lifecycle.unrestricted:
        one, two = (driver.reach("created")["checkout_id"] for _ in range(2))
        meta = {"metaData": {"replayed": "no"}}
        return (
            {"checkout_id": one, **meta},
            {"checkout_id": two, **meta},
            lambda _: checkout_reader(one),
        )
    transition = next(
        t
        for t in lifecycle.transitions
        if t.source is not None
        and lifecycle.trigger_operation(t) == operation
        and "amount_partial" not in t.guard
        and "payment_declines" not in t.guard
    )
    flag = wanted_capture(transition.guard)
    assert transition.source is not None
    first, other = (driver.reach(transition.source, flag) for _ in range(2))
    _, body = driver.request_for(transition, first, flag is not False)
    _, other_body = driver.request_for(transition, other, flag is not False)
    return body, other_body, lambda _: checkout_reader(str(first["checkout_id"]))


REPLAYABLE = [
    pytest.param(
        op,
        id=op,
        marks=pytest.mark.np_check(category="idempotency", operation=op),
    )
    for op in SPEC.idempotency.operations
    if op in SPEC.operations
]


@pytest.mark.parametrize("operation", REPLAYABLE)
def test_replay_answers_the_first_answer(
    np_driver: Driver, np_client: ContractClient, operation: str
) -> None:
    """For every operation x-idempotency lists: a retry with the same key and body answers the
    first answer with the replay header and changes nothing (re-read); the same key with another
    body is refused and changes nothing either."""
    body, other_body, reader = _setup(np_driver, np_client, operation)
    key = {HEADER: f"contract-{secrets.token_hex(8)}"}
    first = np_client.call(operation, body, headers=key)
    check_status(first, 200, "idempotency.first-request", f"the first {operation} was refused")
    _not_replayed(first)
    reread = reader(first)
    before = reread()
    second = np_client.call(operation, body, headers=key)
    _replayed(first, second, operation)
    after = reread()
    if isinstance(before, dict) and isinstance(after, dict):
        check_unchanged(before, after, operation, rule="idempotency.no-double-effect")
    reused = np_client.call(operation, other_body, headers=key)
    check_error(
        SPEC,
        reused,
        CONFLICT.http,
        CONFLICT.code,
        "idempotency.key-reuse",
        f"the same key with another body was accepted by {operation}",
    )
    final = reread()
    if isinstance(after, dict) and isinstance(final, dict):
        check_unchanged(after, final, operation, rule="idempotency.key-reuse")


@pytest.mark.np_check(category="idempotency", operation="refundCheckout", status="paid")
def test_keys_are_scoped_to_the_api_key(
    np_driver: Driver, np_client: ContractClient, np_second_client: ContractClient
) -> None:
    """Another merchant sending the same key and body gets its own answer, not a replay of the
    first merchant's (the spec scopes keys to the API key)."""
    checkout = np_driver.reach("paid", capture=True)
    key = {HEADER: f"contract-{secrets.token_hex(8)}"}
    body = {"checkout_id": checkout["checkout_id"], "amount": 300}
    first = np_client.call("refundCheckout", body, headers=key)
    check_status(first, 200, "idempotency.first-request", "the first refund was refused")
    other = np_second_client.call("refundCheckout", body, headers=key)
    check_error(
        SPEC,
        other,
        404,
        "checkout_not_found",
        "idempotency.key-scope",
        "another merchant's request with the same key was answered from the first merchant's",
    )
