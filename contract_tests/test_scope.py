"""Whose objects are they: the merchant's (and mode's), not the key's. Two keys of one merchant
tell the two readings apart (a key rotation must not lose a merchant its checkouts); the
idempotency keys, by contrast, are the API key's own (x-idempotency.scope)."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from _support import SPEC
from neuropay_contract.contract import (
    ContractClient,
    ContractViolation,
    Driver,
    create_body,
    customer_body,
)
from neuropay_contract.contract.checks import check_status

HEADER = SPEC.idempotency.header
REPLAYED = SPEC.idempotency.replay_header


def _fail(rule: str, title: str, message: str, operation: str, **data: Any) -> None:
    raise ContractViolation(rule, title, message, operation=operation, **data)


def _seen_by_other_key(
    other: ContractClient, operation: str, body: dict[str, Any], expected: dict[str, Any]
) -> dict[str, Any]:
    """``operation`` with the other key of the merchant answers 200 with the object made by the
    first key (same id); its answer."""
    resp = other.call(operation, body)
    id_name = "checkout_id" if "checkout_id" in expected else "customer_id"
    got = resp.json_object() if resp.status == 200 else {}
    if resp.status != 200 or got.get(id_name) != expected[id_name]:
        _fail(
            "auth.same-merchant-objects",
            f"Another key of the same merchant does not reach its objects ({operation})",
            f"{operation} of an object made with the run's key, sent with another test key of "
            f"the same merchant, answered {resp.status}; objects belong to the merchant and "
            "mode, so every key of them (a rotated key too) acts on them",
            operation,
            expected={"status": 200, id_name: expected[id_name]},
            received={"status": resp.status, "body": resp.body},
        )
    return got


@pytest.mark.np_check(category="auth", operation="updateCheckout")
def test_objects_belong_to_the_merchant_not_the_key(
    np_driver: Driver, np_client: ContractClient, np_same_merchant_client: ContractClient
) -> None:
    """A checkout and a customer made with one key are read and changed with another key of the
    same merchant and mode, and the first key sees the change; a checkout made with the other
    key may name the first key's customer."""
    checkout = np_driver.reach("created")
    checkout_id = {"checkout_id": checkout["checkout_id"]}
    _seen_by_other_key(np_same_merchant_client, "retrieveCheckout", checkout_id, checkout)
    update = {**checkout_id, "metaData": {"rotated_key": "yes"}}
    _seen_by_other_key(np_same_merchant_client, "updateCheckout", update, checkout)
    after = np_client.call("retrieveCheckout", checkout_id).json_object()
    if (after.get("metaData") or {}).get("rotated_key") != "yes":
        _fail(
            "auth.same-merchant-objects",
            "A change made with another key of the merchant is not seen by the first",
            "updateCheckout with the other key answered 200, but retrieveCheckout with the run's "
            "key does not show the metadata it set",
            "updateCheckout",
            expected={"metaData.rotated_key": "yes"},
            received={"metaData": after.get("metaData")},
        )
    made = np_client.call("createCustomer", customer_body())
    check_status(made, 200, "customers.create", "createCustomer was refused")
    customer = made.json_object()
    customer_id = {"customer_id": customer["customer_id"]}
    _seen_by_other_key(np_same_merchant_client, "retrieveCustomer", customer_id, customer)
    paid_for = np_same_merchant_client.call("createCheckout", create_body(**customer_id))
    if paid_for.status != 200:
        _fail(
            "auth.same-merchant-objects",
            "Another key of the same merchant cannot use its customer",
            f"createCheckout naming a customer made with the run's key, sent with another key "
            f"of the same merchant, answered {paid_for.status}",
            "createCheckout",
            expected={"status": 200},
            received={"status": paid_for.status, "body": paid_for.body},
        )


@pytest.mark.np_check(category="idempotency", operation="createCheckout")
def test_idempotency_keys_belong_to_the_api_key(
    np_client: ContractClient, np_same_merchant_client: ContractClient
) -> None:
    """The same Idempotency-Key and body sent with another key of the same merchant is another
    request: it runs (a new checkout), neither replayed nor refused as a reuse."""
    key = {HEADER: f"contract-{secrets.token_hex(8)}"}
    body = create_body()
    first = np_client.call("createCheckout", body, headers=key)
    check_status(first, 200, "idempotency.first-request", "the first create was refused")
    other = np_same_merchant_client.call("createCheckout", body, headers=key)
    replayed = other.headers.get(REPLAYED, "").lower() == "true"
    same_id = other.status == 200 and other.json_object().get("checkout_id") == (
        first.json_object().get("checkout_id")
    )
    if other.status != 200 or replayed or same_id:
        _fail(
            "idempotency.same-merchant-key-scope",
            "An Idempotency-Key was shared by two API keys of one merchant",
            f"the same key and body with another API key of the merchant answered "
            f"{other.status}{' as a replay' if replayed or same_id else ''}; keys are scoped to "
            "the API key, so it is a new request",
            "createCheckout",
            expected={"status": 200, REPLAYED: None, "a new checkout_id": True},
            received={"status": other.status, "body": other.body},
        )
