"""What the customer's pages do: pay or cancel on the hosted checkout page, manage saved cards on
the client page. No API key: the checkout's URL and the customer's tokenised link are the
capabilities. Status moves go through :meth:`CheckoutService.apply`, like the API's."""

from __future__ import annotations

import secrets

from ..lifecycle import wanted_outcome
from ..lifecycle.guards import DECLINE, SUCCESS
from .records import CheckoutRecord, CustomerRecord
from .service import CheckoutService, new_id, now_utc
from .storage import Tables


def _brand(number: str) -> str:
    if number.startswith("4"):
        return "visa"
    if number[:2] in {"51", "52", "53", "54", "55"} or number[:2] == "22":
        return "mastercard"
    if number[:2] in {"34", "37"}:
        return "amex"
    return "unknown"


class HostedPages:
    """The hosted checkout page and the client page over the API's :class:`CheckoutService`."""

    def __init__(self, service: CheckoutService) -> None:
        self.service = service
        self.store = service.store
        self.test_mode = service.test_mode
        lifecycle = service.lifecycle
        # What the customer's payment does, from x-lifecycle: the helper that stands for it, the
        # statuses it can start from, and where a successful or a declined one lands.
        self.pay_helper = lifecycle.events["customer.pay"].helper or "testPayCheckout"
        paying = [t for t in lifecycle.transitions if t.event == "customer.pay"]
        self.payable = {t.source for t in paying if t.source is not None}
        self.paid = {t.target for t in paying if wanted_outcome(t.guard) == SUCCESS}
        self.declined = {t.target for t in paying if wanted_outcome(t.guard) == DECLINE}

    def page_checkout(self, checkout_id: str) -> CheckoutRecord | None:
        return self.store.run(lambda store: store.get_checkout(checkout_id, None, None))

    def _page_checkout(self, store: Tables, checkout_id: str) -> tuple[CheckoutRecord, str, str]:
        """A checkout by id alone (its page URL is the capability) with its owner."""
        owner = store.checkout_owner(checkout_id)
        checkout = store.get_checkout(checkout_id, None, None)
        if owner is None or checkout is None:
            raise self.service.error("checkout_not_found", f"No checkout {checkout_id}.")
        return checkout, owner[0], owner[1]

    def page_pay(
        self, checkout_id: str, card_number: str, save_card: bool, exp_month: int, exp_year: int
    ) -> CheckoutRecord:
        """The customer pays on the hosted page: the ``customer.pay`` event, maybe saving the card."""
        helper = self.pay_helper

        def pay(store: Tables) -> CheckoutRecord:
            checkout, merchant, mode = self._page_checkout(store, checkout_id)
            result = self.service.apply(
                store, checkout, helper, {"card_number": card_number}, merchant, mode
            )
            succeeded = result["status"] in self.paid
            if save_card and succeeded and result["customer_id"] and result["allowSaveCard"]:
                self._save_card(store, result["customer_id"], card_number, exp_month, exp_year)
            return result

        return self.store.run(pay)

    def page_cancel(self, checkout_id: str) -> CheckoutRecord:
        helper = self.service.lifecycle.events["customer.cancel"].helper or "testCancelCheckout"

        def cancel(store: Tables) -> CheckoutRecord:
            checkout, merchant, mode = self._page_checkout(store, checkout_id)
            return self.service.apply(store, checkout, helper, {}, merchant, mode)

        return self.store.run(cancel)

    def _save_card(
        self, store: Tables, customer_id: str, number: str, exp_month: int, exp_year: int
    ) -> None:
        found = store.get_customer(customer_id, None, None)
        if found is None:
            return
        customer, token, merchant, mode = found
        card_id = f"card_{new_id()}"
        first = not customer["savedCards"]
        customer["savedCards"].append(
            {
                "card_id": card_id,
                "brand": _brand(number),
                "last4": number[-4:],
                "exp_month": exp_month,
                "exp_year": exp_year,
                "is_default": first,
                "created": now_utc(),
            }
        )
        if first:
            customer["default_card_id"] = card_id
        store.put_customer(customer, merchant, mode, token)

    def client_customer(self, customer_id: str, token: str) -> CustomerRecord | None:
        """The customer behind a client page link, if the token matches."""

        def load(store: Tables) -> CustomerRecord | None:
            found = store.get_customer(customer_id, None, None)
            if found is None or not secrets.compare_digest(found[1], token):
                return None
            return found[0]

        return self.store.run(load)

    def client_update_cards(
        self, customer_id: str, token: str, card_id: str, action: str
    ) -> CustomerRecord | None:
        """Delete a saved card or make it the default, from the client page."""

        def update(store: Tables) -> CustomerRecord | None:
            found = store.get_customer(customer_id, None, None)
            if found is None or not secrets.compare_digest(found[1], token):
                return None
            customer, tok, merchant, mode = found
            cards = customer["savedCards"]
            if not any(c["card_id"] == card_id for c in cards):
                return customer
            if action == "delete":
                cards[:] = [c for c in cards if c["card_id"] != card_id]
                if customer["default_card_id"] == card_id:
                    customer["default_card_id"] = cards[0]["card_id"] if cards else None
            elif action == "default":
                customer["default_card_id"] = card_id
            for card in cards:
                card["is_default"] = card["card_id"] == customer["default_card_id"]
            store.put_customer(customer, merchant, mode, tok)
            return customer

        return self.store.run(update)
