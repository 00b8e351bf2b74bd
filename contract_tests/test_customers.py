"""Customers: create, retrieve, delete, retrieve after delete; automatic payment with card_id."""

from __future__ import annotations

import pytest

from _support import SPEC
from neuropay_contract.contract import (
    ContractClient,
    ContractViolation,
    Driver,
    create_body,
    customer_body,
    not_covered,
)
from neuropay_contract.contract.checks import check_error, check_response_schema, check_status


def _np(operation: str) -> pytest.MarkDecorator:
    return pytest.mark.np_check(category="customers", operation=operation)


@_np("createCustomer")
def test_customer_lifecycle(np_client: ContractClient) -> None:
    sent = customer_body() | {"metaData": {"crm": "42", "gone": ""}}
    created = np_client.call("createCustomer", sent)
    check_status(created, 200, "customers.create", "createCustomer refused a valid customer")
    check_response_schema(SPEC, created)
    customer = created.json_object()
    for field in ("first_name", "last_name", "email"):
        if customer.get(field) != sent[field]:
            raise ContractViolation(
                "customers.fields",
                "A customer field was not stored as sent",
                f"{field} came back as {customer.get(field)!r}",
                operation="createCustomer",
                expected={field: sent[field]},
                received={field: customer.get(field)},
            )
    cid = customer["customer_id"]
    again = np_client.call("retrieveCustomer", {"customer_id": cid})
    check_status(again, 200, "customers.retrieve", "a new customer cannot be retrieved")
    check_response_schema(SPEC, again)
    deleted = np_client.call("deleteCustomer", {"customer_id": cid})
    check_status(deleted, 200, "customers.delete", "deleteCustomer refused")
    check_response_schema(SPEC, deleted)
    if deleted.json_object().get("deleted") is not True:
        raise ContractViolation(
            "customers.delete",
            "A deleted customer is not marked deleted",
            "deleteCustomer answered deleted != true",
            operation="deleteCustomer",
            expected={"deleted": True},
            received={"deleted": deleted.json_object().get("deleted")},
        )
    after = np_client.call("retrieveCustomer", {"customer_id": cid})
    check_error(
        SPEC,
        after,
        404,
        "customer_not_found",
        "customers.retrieve-after-delete",
        "a deleted customer is still retrievable",
    )
    second = np_client.call("deleteCustomer", {"customer_id": cid})
    check_error(
        SPEC,
        second,
        404,
        "customer_not_found",
        "customers.delete-twice",
        "a deleted customer was deleted again",
    )
    checkout = np_client.call("createCheckout", create_body(customer_id=cid))
    check_error(
        SPEC,
        checkout,
        404,
        "customer_not_found",
        "customers.deleted-not-usable",
        "a checkout was created for a deleted customer",
    )


@_np("createCheckout")
def test_automatic_payment_with_cards(
    np_driver: Driver, np_client: ContractClient, np_second_client: ContractClient
) -> None:
    means = np_driver.means
    if not means.card_id_success or not means.card_id_decline:
        not_covered("no test card ids for automatic payment")
    customer = np_driver.test_customer()
    for card, capture, status in (
        (means.card_id_success, True, "paid"),
        (means.card_id_success, False, "reserved"),
        (means.card_id_decline, True, "failed"),
    ):
        resp = np_client.call(
            "createCheckout", create_body(capture, customer_id=customer, card_id=card)
        )
        if (
            resp.status == 404
            and resp.json_object().get("error", {}).get("code") == "card_not_found"
        ):
            not_covered("the target does not accept the spec's test card ids")
        check_status(resp, 200, "customers.automatic-payment", "automatic payment was refused")
        check_response_schema(SPEC, resp)
        if resp.json_object().get("status") != status:
            raise ContractViolation(
                "customers.automatic-payment",
                "Wrong status after automatic payment",
                f"create with {card} (capture {capture}) answered status {resp.json_object().get('status')!r}",
                operation="createCheckout",
                expected={"status": status},
                received={"status": resp.json_object().get("status")},
            )
    unknown = np_client.call(
        "createCheckout", create_body(customer_id=customer, card_id="card_" + "0" * 32)
    )
    check_error(
        SPEC,
        unknown,
        404,
        "card_not_found",
        "customers.card-not-owned",
        "an unknown card paid automatically",
    )
    other = (
        np_second_client.call("createCustomer", customer_body()).json_object().get("customer_id")
    )
    foreign = np_client.call(
        "createCheckout", create_body(customer_id=str(other), card_id=means.card_id_success)
    )
    check_error(
        SPEC,
        foreign,
        404,
        "customer_not_found",
        "customers.card-not-owned",
        "another merchant's customer paid automatically",
    )
    missing_customer = np_client.call(
        "createCheckout", {**create_body(), "card_id": means.card_id_success}
    )
    check_error(
        SPEC,
        missing_customer,
        400,
        "invalid_request",
        "customers.card-needs-customer",
        "card_id without customer_id was accepted",
    )


@_np("createCheckout")
def test_card_of_another_customer_is_not_found(
    np_driver: Driver, np_client: ContractClient
) -> None:
    """A saved card pays only for its own customer: another customer of the same merchant using
    its card_id gets 404 card_not_found, while the owner can pay with it."""
    owner = str(np_client.call("createCustomer", customer_body()).json_object().get("customer_id"))
    stranger = str(
        np_client.call("createCustomer", customer_body()).json_object().get("customer_id")
    )
    card = np_driver.save_card(owner)
    foreign = np_client.call("createCheckout", create_body(customer_id=stranger, card_id=card))
    check_error(
        SPEC,
        foreign,
        404,
        "card_not_found",
        "customers.card-not-owned",
        "a customer paid with another customer's saved card",
    )
    own = np_client.call("createCheckout", create_body(customer_id=owner, card_id=card))
    check_status(own, 200, "customers.automatic-payment", "the owner's saved card was refused")
    check_response_schema(SPEC, own)
    if own.json_object().get("status") != "paid":
        raise ContractViolation(
            "customers.automatic-payment",
            "A saved card did not pay automatically",
            f"create with the owner's saved card answered status {own.json_object().get('status')!r}",
            operation="createCheckout",
            expected={"status": "paid"},
            received={"status": own.json_object().get("status")},
        )
