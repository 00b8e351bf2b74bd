"""What each API operation does to the stored objects. Status moves come only from the spec's
``x-lifecycle`` via :meth:`Lifecycle.decide`; the facts (guards) of a request come from :mod:`..lifecycle` too; this module applies effects."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..envelope import error_envelope
from ..errors import SpecError
from ..lifecycle import (
    Answer,
    Guard,
    Lifecycle,
    creation_facts,
    refusal_text,
    request_facts,
)
from ..spec import ApiSpec, TestMode
from ..wellformed import utc_timestamp
from .records import CheckoutRecord, CustomerRecord, ErrorEnvelope
from .storage import IdempotencyRecord, Storage, Tables


class ApiError(Exception):
    """An answer other than 2xx, rendered as the spec's error envelope."""

    def __init__(self, http: int, code: str, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.http = http
        self.code = code
        self.message = message
        self.param = param

    def body(self) -> ErrorEnvelope:
        return error_envelope(self.code, self.message, self.param)


@dataclass(frozen=True)
class Caller:
    """Who is calling: the merchant and mode of the API key (the key itself is never kept)."""

    merchant: str
    mode: str
    key_hash: str
    base_url: str


# An operation's answer body: a stored object (CheckoutRecord, CustomerRecord) or an ErrorEnvelope.
Response = Mapping[str, Any]
Handler = Callable[[Tables, Caller, dict[str, Any]], Response]


def now_utc() -> str:
    return utc_timestamp(timespec="microseconds")


def new_id() -> str:
    return secrets.token_hex(16)


def body_hash(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


class CheckoutService:
    """The API's behaviour over a :class:`Storage`. Methods run inside one store transaction."""

    def __init__(self, spec: ApiSpec, store: Storage) -> None:
        self.spec = spec
        self.store = store
        self.lifecycle: Lifecycle = spec.require_lifecycle()
        test_mode = spec.test_mode
        if test_mode is None:
            raise SpecError(
                f"{spec.path or 'the spec'} has no x-test-mode extension, which the reference"
                " server needs (test cards, helpers, key prefixes); add it as spec/README.md shows"
            )
        self.test_mode: TestMode = test_mode
        self.max_metadata = spec.limits.max_metadata_keys
        self.retention_s = spec.idempotency.retention_s
        self._handlers: dict[str, Handler] = {
            "createCheckout": self._create_checkout,
            "retrieveCheckout": self._retrieve_checkout,
            "updateCheckout": self._update_checkout,
            "createCustomer": self._create_customer,
            "retrieveCustomer": self._retrieve_customer,
            "deleteCustomer": self._delete_customer,
        }
        for op in self.lifecycle.restricted_operations:
            self._handlers.setdefault(op, self._lifecycle_handler(op))
        # Operations that never write (without an Idempotency-Key, whose record is a write).
        self.read_only = frozenset({"retrieveCheckout", "retrieveCustomer"})

    def error(self, code: str, message: str, param: str | None = None) -> ApiError:
        """The answer for error ``code``, with the HTTP status ``x-error-codes`` gives it."""
        info = self.spec.error_codes.get(code)
        if info is None or not info.http:
            raise ValueError(f"the spec's x-error-codes has no HTTP status for {code!r}")
        return ApiError(info.http, code, message, param)

    @property
    def operations(self) -> set[str]:
        return set(self._handlers)

    # -- entry point -------------------------------------------------------------------------
    def run_in(
        self,
        store: Tables,
        operation: str,
        caller: Caller,
        body: dict[str, Any],
        idem_key: str | None,
    ) -> tuple[int, Response, bool]:
        """Run one operation inside the caller's transaction on ``store`` (idempotency included)."""
        now = time.time()
        digest = body_hash(body) if idem_key is not None else ""  # only keyed requests need it
        if idem_key is not None:
            record = store.get_idempotency(caller.key_hash, idem_key, now - self.retention_s)
            if record is not None:
                if record.operation == operation and record.body_hash == digest:
                    return record.status, record.response, True
                conflict = self.spec.idempotency.conflict
                raise ApiError(
                    conflict.http,
                    conflict.code,
                    "This Idempotency-Key was used with another body or operation; "
                    "use a new key for a new request.",
                )
        try:
            status, result = 200, self._handlers[operation](store, caller, body)
        except ApiError as exc:
            if exc.http >= 500:
                raise
            status, result = exc.http, exc.body()
        if idem_key is not None:
            store.put_idempotency(
                caller.key_hash,
                idem_key,
                IdempotencyRecord(operation, digest, status, result),
                now,
                self.retention_s,
            )
        return status, result, False

    # -- checkouts ---------------------------------------------------------------------------
    def _customer(
        self, store: Tables, caller: Caller, customer_id: str
    ) -> tuple[CustomerRecord, str]:
        found = store.get_customer(customer_id, caller.merchant, caller.mode)
        if found is None:
            raise self.error("customer_not_found", f"No customer {customer_id}.", "/customer_id")
        return found[0], found[1]

    def _card_outcome(self, caller: Caller, customer: CustomerRecord, card_id: str) -> str:
        if any(card["card_id"] == card_id for card in customer["savedCards"]):
            return "success"  # only cards that paid successfully are ever saved
        if caller.mode == "test":
            for card in self.test_mode.card_ids:
                if card.value == card_id:
                    return card.outcome
        raise self.error(
            "card_not_found",
            f"Customer {customer['customer_id']} has no card {card_id}.",
            "/card_id",
        )

    def _create_checkout(
        self, store: Tables, caller: Caller, body: dict[str, Any]
    ) -> CheckoutRecord:
        capture = bool(body.get("capture", True))
        customer_id = body.get("customer_id")
        card_id = body.get("card_id")
        outcome = None
        if customer_id is not None:
            customer, _ = self._customer(store, caller, customer_id)
            if card_id is not None:
                outcome = self._card_outcome(caller, customer, card_id)
        facts = creation_facts(body, outcome)
        decision = self.lifecycle.decide(None, "createCheckout", facts)
        if isinstance(decision, Answer):
            raise ApiError(decision.http, decision.code, "The checkout cannot be created.")
        checkout_id = new_id()
        stamp = now_utc()
        checkout: CheckoutRecord = {
            "checkout_id": checkout_id,
            "object": "checkout",
            "livemode": caller.mode == "live",
            "identifier": body.get("identifier") or checkout_id,
            "status": decision.target,
            "amount": body["amount"],
            "refunded_amount": 0,
            "currency": body["currency"],
            "message": body["message"],
            "capture": capture,
            "allowSaveCard": bool(body.get("allowSaveCard", True)),
            "returnUrl": body["returnUrl"],
            "returnUrlCancel": body["returnUrlCancel"],
            "customer_id": customer_id,
            "card_id": card_id,
            "template": body.get("template"),
            "metaData": {k: v for k, v in body["metaData"].items() if v != ""},
            "paymentMethods": body.get("paymentMethods"),
            "url": f"{caller.base_url}/pay/{checkout_id}",
            "refunds": [],
            "created": stamp,
            "updated": stamp,
        }
        store.put_checkout(checkout, caller.merchant, caller.mode)
        return checkout

    def _load_checkout(
        self, store: Tables, caller: Caller, body: Mapping[str, Any]
    ) -> CheckoutRecord:
        checkout_id = body["checkout_id"]
        checkout = store.get_checkout(checkout_id, caller.merchant, caller.mode)
        if checkout is None:
            raise self.error("checkout_not_found", f"No checkout {checkout_id}.", "/checkout_id")
        return checkout

    def _retrieve_checkout(
        self, store: Tables, caller: Caller, body: dict[str, Any]
    ) -> CheckoutRecord:
        return self._load_checkout(store, caller, body)

    def _update_checkout(
        self, store: Tables, caller: Caller, body: dict[str, Any]
    ) -> CheckoutRecord:
        checkout = self._load_checkout(store, caller, body)
        merged = dict(checkout["metaData"])
        for key, value in body["metaData"].items():
            if value == "":
                merged.pop(key, None)
            else:
                merged[key] = value
        if len(merged) > self.max_metadata:
            raise self.error(
                "metadata_limit_exceeded",
                f"A checkout holds at most {self.max_metadata} metadata keys; "
                f"this update would leave {len(merged)}. Delete keys with empty values.",
                "/metaData",
            )
        if merged == checkout["metaData"]:
            return checkout  # nothing changed: `updated` is the time of the last change
        checkout["metaData"] = merged
        checkout["updated"] = now_utc()
        store.put_checkout(checkout, caller.merchant, caller.mode)
        return checkout

    def _lifecycle_handler(self, operation: str) -> Handler:
        def handler(store: Tables, caller: Caller, body: dict[str, Any]) -> CheckoutRecord:
            if operation in self.test_mode.helpers and caller.mode != "test":
                http, code = self.test_mode.live_key_answer
                raise ApiError(http, code, f"{operation} is a test helper: use a test key.")
            checkout = self._load_checkout(store, caller, body)
            return self.apply(store, checkout, operation, body, caller.merchant, caller.mode)

        return handler

    def facts_for(
        self, checkout: Mapping[str, Any], operation: str, body: Mapping[str, Any]
    ) -> set[Guard]:
        """The guards that hold for ``operation`` with ``body`` on ``checkout``."""
        return request_facts(self.lifecycle, self.test_mode, checkout, operation, body)

    def apply(
        self,
        store: Tables,
        checkout: CheckoutRecord,
        operation: str,
        body: Mapping[str, Any],
        merchant: str,
        mode: str,
    ) -> CheckoutRecord:
        """Decide and apply ``operation`` (or the event whose helper it is) to ``checkout``."""
        status = str(checkout["status"])
        decision = self.lifecycle.decide(
            status, operation, self.facts_for(checkout, operation, body)
        )
        if isinstance(decision, Answer):
            text = refusal_text(self.lifecycle, status, operation, decision, checkout, body)
            raise ApiError(decision.http, decision.code, text.message, text.param)
        stamp = now_utc()
        if decision.effect == "refund":
            remaining = int(checkout["amount"]) - int(checkout["refunded_amount"])
            amount = int(body.get("amount", remaining))
            checkout["refunds"].append(
                {
                    "refund_id": new_id(),
                    "amount": amount,
                    "reason": body.get("reason"),
                    "refundDetails": body.get("refundDetails"),
                    "created": stamp,
                }
            )
            checkout["refunded_amount"] = int(checkout["refunded_amount"]) + amount
        checkout["status"] = decision.target
        checkout["updated"] = stamp
        store.put_checkout(checkout, merchant, mode)
        return checkout

    # -- customers ---------------------------------------------------------------------------
    def _create_customer(
        self, store: Tables, caller: Caller, body: dict[str, Any]
    ) -> CustomerRecord:
        customer_id = new_id()
        token = secrets.token_hex(16)
        customer: CustomerRecord = {
            "customer_id": customer_id,
            "object": "customer",
            "livemode": caller.mode == "live",
            "first_name": body["first_name"],
            "last_name": body["last_name"],
            "email": body["email"],
            "metaData": {k: v for k, v in (body.get("metaData") or {}).items() if v != ""},
            "client_page": f"{caller.base_url}/customer/{customer_id}?token={token}",
            "savedCards": [],
            "default_card_id": None,
            "deleted": False,
            "created": now_utc(),
        }
        store.put_customer(customer, caller.merchant, caller.mode, token)
        return customer

    def _retrieve_customer(
        self, store: Tables, caller: Caller, body: dict[str, Any]
    ) -> CustomerRecord:
        return self._customer(store, caller, body["customer_id"])[0]

    def _delete_customer(
        self, store: Tables, caller: Caller, body: dict[str, Any]
    ) -> CustomerRecord:
        customer, token = self._customer(store, caller, body["customer_id"])
        customer["deleted"] = True
        store.put_customer(customer, caller.merchant, caller.mode, token, deleted=True)
        return customer
