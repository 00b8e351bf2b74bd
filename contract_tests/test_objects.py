"""What the objects say, where a reader could guess two ways: the deleted customer's answer, what
`updated` means, `card_id` after a hosted-page payment, the refund record of a release, checkouts
of a deleted customer, and what a saved card does."""

from __future__ import annotations

import json
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


@pytest.mark.np_check(category="checkouts", operation="createCheckout")
def test_payment_methods_not_sent_are_null(np_client: ContractClient) -> None:
    """A checkout created without paymentMethods has `paymentMethods: null` (not `[]`), in the
    create answer and when read back."""
    made = np_client.call("createCheckout", create_body())
    check_status(made, 200, "checkouts.created-as-sent", "createCheckout was refused")
    checkout_id = made.json_object().get("checkout_id")
    again = np_client.call("retrieveCheckout", {"checkout_id": checkout_id}).json_object()
    answered = [made.json_object().get("paymentMethods", "absent"), again.get("paymentMethods")]
    if answered != [None, None]:
        _fail(
            "objects.payment-methods",
            "paymentMethods not sent is not null",
            f"create answered {answered[0]!r} and retrieve {answered[1]!r}",
            "createCheckout",
            expected={"paymentMethods": None},
            received={"create": answered[0], "retrieve": answered[1]},
        )


@pytest.mark.np_check(category="checkouts", operation="createCheckout", status="paid")
def test_a_checkout_paid_at_once_has_one_time(np_driver: Driver, np_client: ContractClient) -> None:
    """Created and paid at once by card_id is one change: `updated` equals `created`."""
    card_id = np_driver.means.card_id_success
    if not card_id:
        from neuropay_contract.contract import not_covered

        not_covered("no card id that pays (x-test-mode.card_ids or --card-id-success)")
    customer_id = np_client.call("createCustomer", customer_body()).json_object()["customer_id"]
    made = np_client.call("createCheckout", create_body(customer_id=customer_id, card_id=card_id))
    check_status(made, 200, "customers.automatic-payment", "an automatic payment was refused")
    checkout = made.json_object()
    if checkout.get("updated") != checkout.get("created"):
        _fail(
            "objects.times-paid-at-once",
            "A checkout created and paid at once has two times",
            f"created {checkout.get('created')} but updated {checkout.get('updated')}; creating "
            "and paying at once is one change",
            "createCheckout",
            expected={"updated": checkout.get("created")},
            received={"created": checkout.get("created"), "updated": checkout.get("updated")},
        )


def _instant(stamp: Any) -> tuple[str, int]:
    """An RFC 3339 UTC time as (seconds part, microseconds), comparable in order."""
    text = str(stamp).rstrip("Z")
    whole, _, fraction = text.partition(".")
    return whole, int((fraction or "0").ljust(6, "0")[:6])


@pytest.mark.np_check(category="metadata", operation="updateCheckout")
def test_every_change_moves_updated_forward(np_driver: Driver, np_client: ContractClient) -> None:
    """Three metadata changes in quick succession (within one second, as a fast client makes
    them): each makes `updated` strictly later than the one before."""
    checkout = np_driver.reach("created")
    times = [checkout["updated"]]
    for n in range(3):
        changed = np_client.call(
            "updateCheckout",
            {"checkout_id": checkout["checkout_id"], "metaData": {"step": str(n)}},
        )
        check_status(changed, 200, "objects.updated", "a metadata update was refused")
        times.append(changed.json_object().get("updated"))
    stalled = [
        (times[i], times[i + 1])
        for i in range(len(times) - 1)
        if not _instant(times[i + 1]) > _instant(times[i])
    ]
    if stalled:
        _fail(
            "objects.updated-later",
            "A change did not move `updated` forward",
            f"updated went from {stalled[0][0]} to {stalled[0][1]}; every change makes it "
            "strictly later, also within one second",
            "updateCheckout",
            expected={"updated": "strictly increasing"},
            received={"updated": times},
        )


@pytest.mark.np_check(category="money", operation="createCheckout")
def test_integral_amounts_are_answered_as_integers(np_client: ContractClient) -> None:
    """An amount sent as 3000.0 is the integer 3000 and is answered as the JSON integer 3000
    (not 3000.0)."""
    body = create_body(amount=3000)
    text = json.dumps(body).replace('"amount": 3000', '"amount": 3000.0').encode()
    made = np_client.call("createCheckout", None, content=text)
    check_status(made, 200, "protocol.integral-float", "an amount of 3000.0 was refused")
    amount = made.json_object().get("amount")
    if not (isinstance(amount, int) and not isinstance(amount, bool) and amount == 3000):
        _fail(
            "objects.integers-answered",
            "An integral amount was not answered as an integer",
            f"amount 3000.0 was answered as {amount!r}; the answer carries the integer 3000",
            "createCheckout",
            expected={"amount": 3000},
            received={"amount": amount},
        )


@pytest.mark.np_check(category="customers", operation="createCustomer")
def test_customers_drop_empty_metadata_values(np_client: ContractClient) -> None:
    """Metadata keys sent with the empty string are not stored on customers either."""
    made = np_client.call(
        "createCustomer", {**customer_body(), "metaData": {"kept": "yes", "dropped": ""}}
    )
    check_status(made, 200, "customers.create", "createCustomer was refused")
    metadata = made.json_object().get("metaData")
    if metadata != {"kept": "yes"}:
        _fail(
            "objects.customer-empty-metadata",
            "A customer stored a metadata key sent with the empty string",
            f"metaData {{'kept': 'yes', 'dropped': ''}} was answered as {metadata!r}",
            "createCustomer",
            expected={"metaData": {"kept": "yes"}},
            received={"metaData": metadata},
        )


@pytest.mark.np_check(category="customers", operation="retrieveCustomer")
def test_saved_cards_order_and_default(np_driver: Driver, np_client: ContractClient) -> None:
    """The same card saved twice is two saved cards with their own ids; `savedCards` lists them
    oldest first; the first card saved becomes the default (`default_card_id` and the only
    `is_default: true`)."""
    customer_id = np_client.call("createCustomer", customer_body()).json_object()["customer_id"]
    saved = [np_driver.save_card(customer_id), np_driver.save_card(customer_id)]
    customer = np_client.call("retrieveCustomer", {"customer_id": customer_id}).json_object()
    cards = [c for c in customer.get("savedCards") or [] if isinstance(c, dict)]
    listed = [c.get("card_id") for c in cards]
    defaults = [c.get("card_id") for c in cards if c.get("is_default") is True]
    problems = []
    if len(set(saved)) != 2 or listed != [saved[0], saved[1]]:
        problems.append(f"savedCards lists {listed}, saved in the order {saved}")
    if customer.get("default_card_id") != saved[0] or defaults != [saved[0]]:
        problems.append(
            f"default_card_id is {customer.get('default_card_id')!r} and is_default marks "
            f"{defaults}, not the first card saved ({saved[0]!r})"
        )
    if problems:
        _fail(
            "objects.saved-cards",
            "Saved cards are not listed and defaulted as the spec decides",
            "; ".join(problems),
            "retrieveCustomer",
            expected={"savedCards": [saved[0], saved[1]], "default_card_id": saved[0]},
            received={"savedCards": listed, "default_card_id": customer.get("default_card_id")},
        )


@pytest.mark.np_check(category="customers", operation="retrieveCustomer")
def test_deleting_the_default_card(np_driver: Driver, np_client: ContractClient) -> None:
    """When the customer deletes the default card on the client page, the oldest remaining card
    becomes the default; with none left `default_card_id` is null."""
    customer_id = np_client.call("createCustomer", customer_body()).json_object()["customer_id"]
    saved = [np_driver.save_card(customer_id) for _ in range(3)]
    seen: list[tuple[list[Any], Any, list[Any]]] = []
    expected: list[tuple[list[str], str | None]] = []
    for deleted in range(3):
        customer = np_driver.delete_card(customer_id, saved[deleted])
        cards = [c for c in customer.get("savedCards") or [] if isinstance(c, dict)]
        marked = [c.get("card_id") for c in cards if c.get("is_default") is True]
        seen.append(([c.get("card_id") for c in cards], customer.get("default_card_id"), marked))
        left = saved[deleted + 1 :]
        expected.append((left, left[0] if left else None))
    wrong = [
        f"after deleting {saved[i]!r}: savedCards {listed}, default_card_id {default!r}, "
        f"is_default on {marked}"
        for i, ((listed, default, marked), (left, want)) in enumerate(
            zip(seen, expected, strict=True)
        )
        if listed != left or default != want or marked != ([want] if want else [])
    ]
    if wrong:
        _fail(
            "objects.default-after-delete",
            "Deleting the default card does not make the oldest remaining card the default",
            "; ".join(wrong),
            "retrieveCustomer",
            expected={
                "after each deletion": [
                    {"savedCards": c, "default_card_id": w} for c, w in expected
                ]
            },
            received={
                "after each deletion": [{"savedCards": c, "default_card_id": d} for c, d, _ in seen]
            },
        )


@pytest.mark.np_check(category="customers", operation="createCheckout", status="failed")
def test_card_id_stays_on_a_declined_payment(np_driver: Driver, np_client: ContractClient) -> None:
    """An automatic payment that declines keeps the card it was created with in `card_id`."""
    card_id = np_driver.means.card_id_decline
    if not card_id:
        from neuropay_contract.contract import not_covered

        not_covered("no card id that declines (x-test-mode.card_ids or --card-id-decline)")
    customer_id = np_client.call("createCustomer", customer_body()).json_object()["customer_id"]
    made = np_client.call("createCheckout", create_body(customer_id=customer_id, card_id=card_id))
    check_status(made, 200, "customers.automatic-payment", "a declined automatic payment")
    checkout = made.json_object()
    again = np_driver.retrieve(str(checkout.get("checkout_id")))
    if [checkout.get("card_id"), again.get("card_id")] != [card_id, card_id]:
        _fail(
            "objects.card-id-declined",
            "A declined automatic payment lost its card_id",
            f"created with card_id {card_id!r} (status {checkout.get('status')!r}), it answered "
            f"{checkout.get('card_id')!r} and reads back {again.get('card_id')!r}",
            "createCheckout",
            expected={"card_id": card_id},
            received={"create": checkout.get("card_id"), "retrieve": again.get("card_id")},
        )


@pytest.mark.parametrize("sent", ["with-reason", "bare"])
@pytest.mark.np_check(category="money", operation="refundCheckout", status="reserved")
def test_the_release_record_holds_what_was_sent(
    np_driver: Driver, np_client: ContractClient, sent: str
) -> None:
    """The refund record of a release carries the `reason` and `refundDetails` of the refund
    request that released it, null when not sent (as any refund's record)."""
    checkout = np_driver.reach("reserved")
    extra = {"reason": "requested_by_customer", "refundDetails": "Order 1042 withdrawn"}
    body = {"checkout_id": checkout["checkout_id"], **(extra if sent == "with-reason" else {})}
    released = np_client.call("refundCheckout", body)
    check_status(
        released, 200, "lifecycle.transition-allowed", "releasing a reservation was refused"
    )
    records = [r for r in released.json_object().get("refunds") or [] if isinstance(r, dict)]
    want = {k: body.get(k) for k in ("reason", "refundDetails")}
    got = [{k: r.get(k) for k in want} for r in records]
    if got != [want]:
        _fail(
            "objects.release-record",
            "The refund record of a release does not hold what was sent",
            f"the release sent {want} and its refund records hold {got}",
            "refundCheckout",
            expected={"refunds": [want]},
            received={"refunds": got},
        )
