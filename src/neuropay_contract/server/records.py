"""The objects the reference server stores, typed: what a checkout, a refund, a customer and a
saved card hold (the spec's response schemas, which the contract suite checks every answer
against, are the authority; these name the fields the server's own code reads and writes)."""

from __future__ import annotations

from typing import Any, TypedDict

# The envelope of every answer other than 2xx has one home, with its builder.
from ..envelope import ErrorDetail as ErrorDetail
from ..envelope import ErrorEnvelope as ErrorEnvelope


class RefundRecord(TypedDict):
    """One refund of a checkout (the ``refund`` effect of ``x-lifecycle``)."""

    refund_id: str
    amount: int
    reason: Any
    refundDetails: Any
    created: str


class CheckoutRecord(TypedDict):
    """A stored checkout, as the API returns it."""

    checkout_id: str
    object: str
    livemode: bool
    identifier: str
    status: str
    amount: int
    refunded_amount: int
    currency: str
    message: str
    capture: bool
    allowSaveCard: bool
    returnUrl: str
    returnUrlCancel: str
    customer_id: str | None
    card_id: str | None
    template: str | None
    metaData: dict[str, Any]
    paymentMethods: Any
    url: str
    refunds: list[RefundRecord]
    created: str
    updated: str


class SavedCardRecord(TypedDict):
    """A card a customer saved on the hosted page."""

    card_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    is_default: bool
    created: str


class CustomerRecord(TypedDict):
    """A stored customer, as the API returns it."""

    customer_id: str
    object: str
    livemode: bool
    first_name: str
    last_name: str
    email: str
    metaData: dict[str, Any]
    client_page: str
    savedCards: list[SavedCardRecord]
    default_card_id: str | None
    deleted: bool
    created: str
