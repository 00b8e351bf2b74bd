"""Run the validating proxy in-process in front of an ASGI app, and a well-behaved client's
traffic with deliberate negative tests that reveal a broken server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from neuropay_contract.server import serve_app
from neuropay_contract.spec import load_spec
from neuropay_contract.traffic.checker import TrafficChecker
from neuropay_contract.traffic.proxy import ValidatingProxy

from ._traffic import RecordingClient

CREATE = {
    "amount": 3000,
    "currency": "SEK",
    "message": "Traffic test",
    "returnUrl": "https://shop.example.com/thanks",
    "returnUrlCancel": "https://shop.example.com/cart",
    "metaData": {"order": "1"},
}


@contextmanager
def proxied(
    app: Any, mode: str = "report", record: IO[str] | None = None
) -> Iterator[tuple[str, TrafficChecker]]:
    """(proxy URL, its checker) in front of ``app`` served on loopback."""
    checker = TrafficChecker(load_spec())
    with serve_app(app) as url:
        proxy = ValidatingProxy(checker, url, mode, record)
        with serve_app(proxy, lifespan="on") as proxy_url:
            yield proxy_url, checker


def declared(answer: str) -> dict[str, str]:
    return {"X-Neuropay-Expect": answer}


def careful_client_traffic(client: RecordingClient, second_key: str, live_key: str) -> None:
    """What a careful integration and its negative tests send: no finding against a conformant
    server; each catalog fault a sequence can reveal shows in the answers."""
    post = client.post
    first = post("/checkout/create", {**CREATE, "amount": 6000}).json()
    paid = post("/checkout/create", CREATE).json()["checkout_id"]
    post("/checkout/test/pay", {"checkout_id": paid})
    post("/checkout/capture", {"checkout_id": paid}, headers=declared("409 invalid_status"))
    post("/checkout/retrieve", {"checkout_id": paid})
    post(
        "/checkout/refund",
        {"checkout_id": paid, "amount": 5000},
        headers=declared("409 refund_exceeds_remaining"),
    )
    post("/checkout/retrieve", {"checkout_id": paid})
    refund = {"checkout_id": paid, "amount": 1000}
    post("/checkout/refund", refund, headers={"Idempotency-Key": "refund-paid-1"})
    post("/checkout/refund", refund, headers={"Idempotency-Key": "refund-paid-1"})  # a retry
    post("/checkout/update", {"checkout_id": paid, "metaData": {"order": "", "shipped": "yes"}})
    post("/checkout/refund", {"checkout_id": paid})
    post("/checkout/retrieve", {"checkout_id": paid})
    reserved = post("/checkout/create", {**CREATE, "capture": False}).json()["checkout_id"]
    post("/checkout/test/pay", {"checkout_id": reserved})
    post(
        "/checkout/refund",
        {"checkout_id": reserved, "amount": 100},
        headers=declared("409 partial_release_not_allowed"),
    )
    post("/checkout/retrieve", {"checkout_id": reserved})
    # Isolation and auth, as a careful client's own negative tests would probe them.
    post(
        "/checkout/retrieve",
        {"checkout_id": paid},
        key=second_key,
        headers=declared("404 checkout_not_found"),
    )
    post("/checkout/retrieve", {"checkout_id": paid}, key=None, headers=declared("401"))
    post("/checkout/retrieve", method="GET", headers=declared("405 method_not_allowed"))
    live = post("/checkout/create", CREATE, key=live_key).json()
    post(
        "/checkout/test/pay",
        {"checkout_id": live.get("checkout_id", first.get("checkout_id", ""))},
        key=live_key,
        headers=declared("403 test_mode_only"),
    )
    # The precedence of the generic rules and the bearer syntax, probed on purpose.
    key = client.key or ""
    post("/checkout/retrieve", method="GET", key=None, headers=declared("405"))
    post(
        "/checkout/update",
        raw=b"x" * 70_000,
        headers={"Content-Type": "text/plain", **declared("413 payload_too_large")},
    )
    post("/checkout/retrieve", {"checkout_id": paid, "x": 1}, key=None, headers=declared("401"))
    post(
        "/checkout/test/pay",
        {"checkout_id": live.get("checkout_id", ""), "x": 1},
        key=live_key,
        headers=declared("403 test_mode_only"),
    )
    for credential, answer in (
        ("Basic dXNlcjpwYXNz", "401 invalid_api_key"),
        ("Bearer", "401 missing_api_key"),
        (key, "401 invalid_api_key"),
    ):
        post(
            "/checkout/retrieve",
            {"checkout_id": paid},
            key=None,
            headers={"Authorization": credential, **declared(answer)},
        )
    for credential in (f"bearer {key}", f"Bearer  {key}"):  # valid forms of the same key
        post(
            "/checkout/retrieve",
            {"checkout_id": paid},
            key=None,
            headers={"Authorization": credential},
        )
    customer = post(
        "/checkout/create-customer",
        {"first_name": "Astrid", "last_name": "Lindgren", "email": "astrid@example.com"},
    ).json()["customer_id"]
    post("/checkout/delete-customer", {"customer_id": customer})
    post(
        "/checkout/retrieve-customer",
        {"customer_id": customer},
        headers=declared("404 customer_not_found"),
    )
