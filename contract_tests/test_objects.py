"""What the objects say, where a reader could guess two ways: the deleted customer's answer, what
`updated` means, `card_id` after a hosted-page payment, the refund record of a release, checkouts
of a deleted customer, and what a saved card does."""

from __future__ import annotations

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
from neuropay_contract.contract.checks import check_error, check_status


def _fail(rule: str, title: str, message: str, operation: str, **data: Any) -> None:
    raise ContractViolation(rule, title, message, operation=operation, **data)


def _transition(driver: Driver, source: str, target: str) -> Any:
    return next(
        t for t in driver.lifecycle.transitions if t.source == source and t.target == target
    )


@pytest.mark.np_check(category="customers", operation="deleteCustomer")
def test_delete_answers_the_customer_as_it_was(np_client: ContractClient) -> None:
    """The answer of deleteCustomer is the customer just before, metadata included, with
    deleted: true."""
    made = np_client.call("createCustomer", {**customer_body(), "metaData": {"crm_id": "C-1"}})
    check_status(made, 200, "objects.delete-answer", "createCustomer was refused")
    customer_id = made.json_object()["customer_id"]
    before = np_client.call("retrieveCustomer", {"customer_id": customer_id}).json_object()
    deleted = np_client.call("deleteCustomer", {"customer_id": customer_id})
    check_status(deleted, 200, "objects.delete-answer", "deleteCustomer was refused")
    expected = {**before, "deleted": True}
    if deleted.json_object() != expected:
        differ = sorted(k for k in expected if deleted.json_object().get(k) != expected[k])
        _fail(
            "objects.delete-answer",
            "deleteCustomer did not answer the customer as it was",
            f"the answer differs from the customer before deletion in {', '.join(differ)}",
            "deleteCustomer",
            expected=expected,
            received=deleted.body,
        )


@pytest.mark.np_check(category="customers", operation="deleteCustomer")
def test_delete_answer_shows_the_saved_cards(np_driver: Driver, np_client: ContractClient) -> None:
    """The customer as it was includes its saved cards: the answer lists them as retrieve did."""
    made = np_client.call("createCustomer", customer_body())
    check_status(made, 200, "objects.delete-answer", "createCustomer was refused")
    customer_id = made.json_object()["customer_id"]
    np_driver.save_card(customer_id)
    before = np_client.call("retrieveCustomer", {"customer_id": customer_id}).json_object()
    deleted = np_client.call("deleteCustomer", {"customer_id": customer_id})
    check_status(deleted, 200, "objects.delete-answer", "deleteCustomer was refused")
    shown = deleted.json_object().get("savedCards")
    if shown != before.get("savedCards"):
        _fail(
            "objects.delete-answer",
            "deleteCustomer did not answer the saved cards the customer had",
            f"retrieve listed {before.get('savedCards')!r}, the delete answer {shown!r}",
            "deleteCustomer",
            expected={"savedCards": before.get("savedCards")},
            received={"savedCards": shown},
        )


@pytest.mark.np_check(category="metadata", operation="updateCheckout")
def test_updated_moves_only_when_something_changes(
    np_driver: Driver, np_client: ContractClient
) -> None:
    """An update that changes nothing leaves `updated`; one that changes metadata moves it."""
    checkout = np_driver.reach("created")
    body = {"checkout_id": checkout["checkout_id"]}
    same = np_client.call("updateCheckout", {**body, "metaData": {}})
    check_status(same, 200, "objects.updated", "an empty update was refused")
    if same.json_object().get("updated") != checkout["updated"]:
        _fail(
            "objects.updated",
            "An update that changed nothing moved `updated`",
            f"updated went from {checkout['updated']} to {same.json_object().get('updated')}",
            "updateCheckout",
            expected={"updated": checkout["updated"]},
            received={"updated": same.json_object().get("updated")},
        )
    changed = np_client.call("updateCheckout", {**body, "metaData": {"changed": "yes"}})
    check_status(changed, 200, "objects.updated", "a metadata update was refused")
    if changed.json_object().get("updated") == checkout["updated"]:
        _fail(
            "objects.updated",
            "A metadata change did not move `updated`",
            f"updated stayed {checkout['updated']} after metaData changed",
            "updateCheckout",
            expected={"updated": f"later than {checkout['updated']}"},
            received={"updated": changed.json_object().get("updated")},
        )


@pytest.mark.np_check(category="lifecycle", operation="testPayCheckout", status="created")
def test_card_id_stays_null_after_a_page_payment(np_driver: Driver) -> None:
    """A checkout created without card_id and paid by the customer keeps card_id null."""
    checkout = np_driver.reach("created", capture=True)
    paid = np_driver.perform(_transition(np_driver, "created", "paid"), checkout, True)
    if paid.get("card_id") is not None:
        _fail(
            "objects.card-id",
            "card_id was set by a hosted-page payment",
            f"card_id became {paid.get('card_id')!r}; it names only the card a checkout was "
            "created with",
            "testPayCheckout",
            expected={"card_id": None},
            received={"card_id": paid.get("card_id")},
        )


@pytest.mark.np_check(category="money", operation="refundCheckout", status="reserved")
def test_a_release_writes_a_refund_of_the_whole_amount(np_driver: Driver) -> None:
    checkout = np_driver.reach("reserved")
    released = np_driver.perform(
        _transition(np_driver, "reserved", "reserve released"), checkout, False
    )
    amounts = [r.get("amount") for r in released.get("refunds") or [] if isinstance(r, dict)]
    want = checkout["amount"]
    if amounts != [want] or released.get("refunded_amount") != want:
        _fail(
            "objects.release-refund",
            "A release did not write one refund of the whole amount",
            f"refunds {amounts}, refunded_amount {released.get('refunded_amount')}; expected "
            f"[{want}] and {want}",
            "refundCheckout",
            expected={"refunds.amount": [want], "refunded_amount": want},
            received={
                "refunds.amount": amounts,
                "refunded_amount": released.get("refunded_amount"),
            },
        )


@pytest.mark.np_check(category="customers", operation="createCheckout")
def test_checkouts_of_a_deleted_customer(np_driver: Driver, np_client: ContractClient) -> None:
    """Existing checkouts of a deleted customer stay; a new one naming it is 404."""
    customer_id = np_client.call("createCustomer", customer_body()).json_object()["customer_id"]
    made = np_client.call("createCheckout", create_body(customer_id=customer_id))
    check_status(made, 200, "objects.deleted-customer", "createCheckout for a customer")
    np_client.call("deleteCustomer", {"customer_id": customer_id})
    kept = np_driver.retrieve(made.json_object()["checkout_id"])
    if kept.get("customer_id") != customer_id:
        _fail(
            "objects.deleted-customer",
            "A checkout lost its customer when the customer was deleted",
            f"customer_id became {kept.get('customer_id')!r}",
            "retrieveCheckout",
            expected={"customer_id": customer_id},
            received={"customer_id": kept.get("customer_id")},
        )
    again = np_client.call("createCheckout", create_body(customer_id=customer_id))
    check_error(
        SPEC,
        again,
        404,
        "customer_not_found",
        "objects.deleted-customer",
        "a checkout was created for a deleted customer",
    )


@pytest.mark.np_check(category="customers", operation="createCheckout")
def test_a_saved_card_pays(np_driver: Driver, np_client: ContractClient) -> None:
    """A card saved on the hosted page pays a new checkout at once (capture true: paid)."""
    customer_id = np_client.call("createCustomer", customer_body()).json_object()["customer_id"]
    card_id = np_driver.save_card(customer_id)
    resp = np_client.call("createCheckout", create_body(customer_id=customer_id, card_id=card_id))
    status = resp.json_object().get("status")
    if resp.status != 200 or status != "paid":
        _fail(
            "objects.saved-card-pays",
            "A saved card did not pay",
            f"createCheckout with saved card {card_id} answered {resp.status}, status {status!r}",
            "createCheckout",
            expected={"status": 200, "checkout.status": "paid"},
            received={"status": resp.status, "body": resp.body},
        )
