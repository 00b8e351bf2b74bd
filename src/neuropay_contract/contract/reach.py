"""Drive a fresh checkout into any lifecycle status, using only what the spec declares.

Paths are found by a breadth-first search over ``x-lifecycle`` transitions; each transition is
performed by its operation, or by the test helper of its event, with a request that satisfies its
guards (capture flag, succeeding or declining payment means, full or partial refund amount).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..lifecycle import MissingMeans, Transition, plan, remaining_amount, request_for
from ..lifecycle.guards import DECLINE, SUCCESS
from ..spec import ApiSpec
from .checks import ContractViolation, check_response_schema, not_covered, setup_step
from .client import ContractClient, Response

_counter = itertools.count(1)


@dataclass(frozen=True)
class PaymentMeans:
    """Test cards the run pays with; defaults come from the spec's x-test-mode."""

    card_number_success: str | None
    card_number_decline: str | None
    card_id_success: str | None
    card_id_decline: str | None

    @classmethod
    def from_spec(cls, spec: ApiSpec, **overrides: str | None) -> PaymentMeans:
        tm = spec.test_mode
        values = {
            "card_number_success": tm.card_number("success") if tm else None,
            "card_number_decline": tm.card_number("decline") if tm else None,
            "card_id_success": tm.card_id("success") if tm else None,
            "card_id_decline": tm.card_id("decline") if tm else None,
        }
        values.update({k: v for k, v in overrides.items() if v})
        return cls(**values)


def create_body(capture: bool = True, **extra: Any) -> dict[str, Any]:
    """A valid create request (each call a distinct identifier)."""
    n = next(_counter)
    body: dict[str, Any] = {
        "identifier": f"contract-{n}",
        "amount": 3000,
        "currency": "SEK",
        "message": f"Contract check {n}",
        "capture": capture,
        "returnUrl": "https://shop.example.com/thanks",
        "returnUrlCancel": "https://shop.example.com/cart",
        "metaData": {"suite": "neuropay-contract"},
    }
    body.update(extra)
    return body


def customer_body() -> dict[str, Any]:
    n = next(_counter)
    return {"first_name": "Contract", "last_name": f"Check {n}", "email": f"check{n}@example.com"}


class Driver:
    """Performs lifecycle transitions on a target and checks each lands where the spec says."""

    def __init__(self, client: ContractClient, means: PaymentMeans) -> None:
        self.client = client
        self.spec = client.spec
        self.lifecycle = client.spec.require_lifecycle()
        self.means = means
        self._customer: str | None = None
        self._card_ids = {SUCCESS: means.card_id_success, DECLINE: means.card_id_decline}
        self._card_numbers = {
            SUCCESS: means.card_number_success,
            DECLINE: means.card_number_decline,
        }

    def test_customer(self) -> str:
        if self._customer is None:
            with setup_step("creating a customer"):
                self._customer = self._create_customer()
        return self._customer

    def card_for(self, outcome: str) -> str | None:
        """The test card number that pays with ``outcome`` (for requests after creation)."""
        return self._card_numbers.get(outcome)

    def _create_customer(self) -> str:
        resp = self.client.call("createCustomer", customer_body())
        if resp.status != 200:
            raise ContractViolation(
                "customers.create",
                f"createCustomer answered {resp.status} to a valid customer",
                f"createCustomer answered {resp.status}",
                operation="createCustomer",
                expected={"status": 200},
                received={"status": resp.status, "body": resp.body},
            )
        check_response_schema(self.spec, resp)
        return str(resp.json_object()["customer_id"])

    def request_for(
        self,
        t: Transition,
        checkout: Mapping[str, Any] | None,
        capture: bool,
        create_extra: Mapping[str, Any] | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """The operation and body that perform ``t`` (guards satisfied)."""
        op = self.lifecycle.trigger_operation(t)
        if op is None:
            not_covered(f"transition {t.name} has no operation or test helper")
        assert op is not None
        creation = t.source is None
        cards = self._card_ids if creation else self._card_numbers
        remaining = remaining_amount(checkout) if checkout is not None else None
        total = int(checkout["amount"]) if checkout is not None else None
        try:
            fields = request_for(
                t.guard, creation=creation, card=cards.get, remaining=remaining, total=total
            )
        except MissingMeans as exc:
            hint = "; pass --card-id-success/--card-id-decline" if creation else ""
            not_covered(f"{exc} for {t.name}{hint}")
            raise
        if creation:
            if "card_id" in fields:  # a card is charged for a customer
                fields = {"customer_id": self.test_customer(), **fields}
            return op, create_body(capture, **fields, **dict(create_extra or {}))
        assert checkout is not None
        return op, {"checkout_id": checkout["checkout_id"], **fields}

    def perform(
        self,
        t: Transition,
        checkout: Mapping[str, Any] | None,
        capture: bool,
        create_extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Make transition ``t`` and check the answer: 200, documented schema, the target status."""
        op, body = self.request_for(t, checkout, capture, create_extra)
        resp = self.client.call(op, body)
        self._not_covered_if_missing(op, resp)
        if resp.status != 200:
            raise ContractViolation(
                "lifecycle.transition-allowed",
                f"{op} ({t.name}) answered {resp.status}, expected 200",
                f"{op} from '{t.source or 'new'}' ({t.name}) answered {resp.status}, expected 200 → '{t.target}'",
                operation=op,
                expected={"status": 200, "checkout.status": t.target},
                received={"status": resp.status, "body": resp.body},
            )
        check_response_schema(self.spec, resp)
        result = resp.json_object()
        if t.source is None:
            _check_created_as_sent(body, result, op)
        if result.get("status") != t.target:
            raise ContractViolation(
                "lifecycle.transition-target",
                "Wrong status after a transition",
                f"{op} from '{t.source or 'new'}' ({t.name}) left the checkout '{result.get('status')}', "
                f"expected '{t.target}'",
                operation=op,
                expected={"status": t.target},
                received={"status": result.get("status")},
            )
        return result

    def _not_covered_if_missing(self, op: str, resp: Response) -> None:
        code = resp.json_object().get("error", {})
        code = code.get("code") if isinstance(code, dict) else None
        spec_op = self.spec.operation(op)
        if spec_op.test_only and (resp.status in (404, 405, 501) and code in (None, "not_found")):
            not_covered(
                f"the target has no test helper {op} ({spec_op.path} answered {resp.status})"
            )
        if code == "card_not_found" and op == "createCheckout":
            not_covered(
                "the target does not accept the spec's test card ids; pass --card-id-success"
            )

    def reach(
        self, status: str, capture: bool | None = None, **create_extra: Any
    ) -> dict[str, Any]:
        """A fresh checkout in ``status`` (with that capture flag, when given; ``create_extra``
        overrides fields of the create request, such as ``amount``)."""
        try:
            path = plan(self.lifecycle, status, capture)
        except ValueError:
            not_covered(f"no path to status '{status}' in x-lifecycle")
            raise
        checkout: dict[str, Any] | None = None
        with setup_step(f"reaching '{status}'"):
            for t, flag in path:
                checkout = self.perform(t, checkout, flag, create_extra)
        assert checkout is not None
        return checkout

    def save_card(self, customer_id: str) -> str:
        """A card saved for ``customer_id``. The spec declares no API operation that saves a card
        (customers save them on the hosted page), so this pays a checkout of the customer on its
        hosted page with a succeeding test card number and "save card" ticked, using the form
        fields of the reference server's page; not covered when the target's page does not do it.
        """
        number = self.means.card_number_success
        if number is None:
            not_covered("no succeeding test card number to save a card with")
        created = self.client.call(
            "createCheckout", create_body(customer_id=customer_id, allowSaveCard=True)
        )
        check_status_200(created, "createCheckout")
        fields = {"action": "pay", "card_number": number, "expiry": "12/30", "save_card": "on"}
        customer = self._post_page(
            customer_id, created.json_object().get("url"), "hosted page", "save", fields
        )
        cards = customer.get("savedCards") or []
        if not cards or not isinstance(cards[-1], dict) or not cards[-1].get("card_id"):
            not_covered(
                "the target's hosted page saved no card (the spec has no API to save one), so a "
                "card of another customer cannot be tried"
            )
        return str(cards[-1]["card_id"])

    def delete_card(self, customer_id: str, card_id: str) -> dict[str, Any]:
        """The customer after deleting ``card_id`` on its client page. The spec declares no API
        operation that deletes a card (customers do it on ``client_page``), so this posts the
        reference server's client-page form (``action``, ``card_id``, and the page's ``token``);
        not covered when the target's page does not delete the card."""
        customer = self.client.call("retrieveCustomer", {"customer_id": customer_id})
        check_status_200(customer, "retrieveCustomer")
        page = customer.json_object().get("client_page")
        fields = {"action": "delete", "card_id": card_id}
        found = self._post_page(customer_id, page, "client page", "delete", fields)
        cards = found.get("savedCards") or []
        if any(isinstance(c, dict) and c.get("card_id") == card_id for c in cards):
            not_covered(
                "the target's client page deleted no card (the spec has no API to delete one), "
                "so the default after a deletion cannot be tried"
            )
        return found

    def _post_page(
        self, customer_id: str, page: Any, what: str, verb: str, fields: dict[str, str]
    ) -> dict[str, Any]:
        """Post the reference server's form ``fields`` to ``page`` (a page URL an answer gave,
        its query's ``token`` echoed in the form as the page does) and read the customer back;
        not covered when the target does not serve the page."""
        base, where = urlsplit(self.client.base_url), urlsplit(str(page or ""))
        if (where.scheme, where.netloc) != (base.scheme, base.netloc):
            not_covered(f"the {what} {page!r} is not served by the target: no card to {verb}")
        token = dict(parse_qsl(where.query)).get("token")
        self.client.request(
            "POST",
            where.path + (f"?{where.query}" if where.query else ""),
            content=urlencode({**fields, **({"token": token} if token else {})}).encode(),
            content_type="application/x-www-form-urlencoded",
            api_key=None,
        )
        customer = self.client.call("retrieveCustomer", {"customer_id": customer_id})
        check_status_200(customer, "retrieveCustomer")
        return customer.json_object()

    def retrieve(self, checkout_id: str) -> dict[str, Any]:
        resp = self.client.call("retrieveCheckout", {"checkout_id": checkout_id})
        if resp.status != 200:
            raise ContractViolation(
                "checkouts.retrievable",
                f"retrieveCheckout of the merchant's own checkout answered {resp.status}",
                f"retrieveCheckout of {checkout_id} answered {resp.status}",
                operation="retrieveCheckout",
                expected={"status": 200},
                received={"status": resp.status, "body": resp.body},
            )
        check_response_schema(self.spec, resp)
        return resp.json_object()


def _check_created_as_sent(sent: Mapping[str, Any], created: Mapping[str, Any], op: str) -> None:
    """A new checkout holds what the create request said (fields both sides name; metadata keys
    sent with the empty string are not stored)."""
    sent = dict(sent)
    if isinstance(sent.get("metaData"), dict):
        sent["metaData"] = {k: v for k, v in sent["metaData"].items() if v != ""}
    changed = sorted(k for k in sent if k in created and created[k] != sent[k])
    if changed:
        raise ContractViolation(
            "checkouts.created-as-sent",
            "A new checkout differs from its create request",
            f"{op} stored {', '.join(changed)} other than sent",
            operation=op,
            expected={k: sent[k] for k in changed},
            received={k: created[k] for k in changed},
        )


def check_status_200(resp: Response, operation: str) -> None:
    """A request that sets up a check succeeded; if not, the check is blocked (its setup failed)."""
    if resp.status != 200:
        exc = ContractViolation(
            "lifecycle.setup",
            f"{operation} answered {resp.status} to a valid request, expected 200",
            f"{operation} answered {resp.status}, expected 200",
            operation=operation,
            expected={"status": 200},
            received={"status": resp.status, "body": resp.body},
        )
        exc.setup = f"{operation} for the check's setup"
        raise exc


def reach(
    client: ContractClient,
    status: str,
    capture: bool | None = None,
    means: PaymentMeans | None = None,
    **create_extra: Any,
) -> dict[str, Any]:
    """A fresh checkout in ``status`` on the client's target (see :meth:`Driver.reach`); payment
    means default to the spec's test-mode declarations."""
    driver = Driver(client, means or PaymentMeans.from_spec(client.spec))
    return driver.reach(status, capture, **create_extra)
