"""Run the validating proxy in-process in front of an ASGI app, and a well-behaved client's
traffic with deliberate negative tests that reveal a broken server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import IO, Any

import httpx

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
    post("/checkout/update", {"checkout_id": reserved, "metaData": {}})  # changes nothing
    post("/checkout/refund", {"checkout_id": reserved})  # the whole reservation released
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
    body_rules(client, paid)
    idempotency_rules(client)
    simultaneous(client)
    customer = post(
        "/checkout/create-customer",
        {
            "first_name": "Astrid",
            "last_name": "Lindgren",
            "email": "astrid@example.com",
            "metaData": {"crm": "C-77"},
        },
    ).json()["customer_id"]
    post(
        "/checkout/retrieve-customer",
        {"customer_id": customer},
        key=live_key,
        headers=declared("404 customer_not_found"),
    )
    post("/checkout/delete-customer", {"customer_id": customer})
    post(
        "/checkout/retrieve-customer",
        {"customer_id": customer},
        headers=declared("404 customer_not_found"),
    )
    post(
        "/checkout/create",
        {**CREATE, "customer_id": customer},
        headers=declared("404 customer_not_found"),
    )
    # Idempotency keys belong to one API key: another merchant may use the same one.
    post(
        "/checkout/create-customer",
        {"first_name": "B", "last_name": "C", "email": "b@example.com"},
        key=second_key,
        headers={"Idempotency-Key": "idem-shared"},
    )
    post(
        "/checkout/update",
        raw=b"[1]",
        headers={"Content-Type": "application/json", **declared("400 invalid_request")},
    )


def _nested(levels: int) -> Any:
    value: Any = "x"
    for _ in range(levels):
        value = [value]
    return value


def body_rules(client: RecordingClient, checkout: str) -> None:
    """The body rules where the spec draws the line: size, media type, depth, I-JSON, formats."""
    post = client.post
    as_json = {"Content-Type": "application/json"}
    update = json.dumps({"checkout_id": checkout, "metaData": {"k": "v"}})
    at_limit = (update + " " * (65536 - len(update))).encode()
    post("/checkout/update", raw=at_limit, headers=as_json)  # exactly the limit: valid
    over = (update + " " * (70000 - len(update))).encode()
    post("/checkout/update", raw=over, chunked=True, headers={**as_json, **declared("413")})
    post(
        "/checkout/update",
        raw=update.encode(),
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    post(
        "/checkout/update",
        raw=update.encode(),
        headers={"Content-Type": "application/merchant+json", **declared("415")},
    )
    post("/checkout/update", raw=update.encode(), headers=declared("415"))  # no Content-Type
    # 32 levels (the limit, counted from the top as 1) parse and break the schema; 33 do not parse.
    deep = {"checkout_id": checkout, "metaData": {"k": _nested(30)}}
    post("/checkout/update", deep, headers=declared("400 invalid_request"))
    deeper = {"checkout_id": checkout, "metaData": {"k": _nested(31)}}
    post("/checkout/update", deeper, headers=declared("400 invalid_json"))
    for raw in (
        f'{{"checkout_id": "{checkout}", "checkout_id": "{checkout}", "metaData": {{}}}}'.encode(),
        f'{{"checkout_id": "{checkout}", "metaData": {{"a": NaN}}}}'.encode(),
        f'{{"checkout_id": "{checkout}", "metaData": {{"a": "'.encode() + b"\xff" + b'"}}',
        f'{{"checkout_id": "{checkout}", "metaData": {{"a": "\\ud800"}}}}'.encode(),
    ):
        post("/checkout/update", raw=raw, headers={**as_json, **declared("400 invalid_json")})
    person = {"first_name": "A", "last_name": "B", "email": "not-an-email"}
    post("/checkout/create-customer", person, headers=declared("400 invalid_request"))
    post("/checkout/create", {**CREATE, "currency": "SEK\n"}, headers=declared("400"))


def idempotency_rules(client: RecordingClient) -> None:
    """Idempotency-Key where the spec draws the line: what is stored, what counts as the same."""
    post = client.post
    person = {"first_name": "A", "last_name": "B", "email": "a@example.com"}
    post(
        "/checkout/create-customer",
        person,
        headers={"Idempotency-Key": "bad key", **declared("400")},
    )
    post("/checkout/create-customer", person, headers={"Idempotency-Key": "idem-shared"})
    post("/checkout/create", CREATE, headers={"Idempotency-Key": "idem-shared", **declared("409")})
    post(
        "/checkout/create-customer",
        {**person, "x": 1},
        headers={"Idempotency-Key": "idem-fix", **declared("400 invalid_request")},
    )
    post("/checkout/create-customer", person, headers={"Idempotency-Key": "idem-fix"})
    paid = post("/checkout/create", CREATE).json()["checkout_id"]
    post("/checkout/test/pay", {"checkout_id": paid})
    refund = {"checkout_id": paid, "amount": 100}
    post("/checkout/refund", refund, headers={"Idempotency-Key": "idem-bytes"})
    same = b'{ "amount": 100,\n  "checkout_id": "' + paid.encode() + b'" }'
    post(
        "/checkout/refund",
        raw=same,
        headers={"Content-Type": "application/json", "Idempotency-Key": "idem-bytes"},
    )
    early = post("/checkout/create", {**CREATE, "capture": False}).json()["checkout_id"]
    capture = {"checkout_id": early}
    post("/checkout/capture", capture, headers={"Idempotency-Key": "idem-early", **declared("409")})
    post("/checkout/test/pay", capture)
    post("/checkout/capture", capture, headers={"Idempotency-Key": "idem-early", **declared("409")})
    reader = post("/checkout/create-customer", person).json()["customer_id"]
    read = {"customer_id": reader}
    post("/checkout/retrieve-customer", read, headers={"Idempotency-Key": "idem-read"})
    post("/checkout/delete-customer", read)
    post(
        "/checkout/retrieve-customer",
        read,
        headers={"Idempotency-Key": "idem-read", **declared("404 customer_not_found")},
    )


def simultaneous(client: RecordingClient) -> None:
    """Eight refunds of one checkout at once, and four retries of one refund at once (sent
    outside the recording client, which numbers its exchanges in order)."""
    base = str(client.client.base_url)
    auth = {"Authorization": f"Bearer {client.key}"}
    checkouts = []
    for _ in range(2):
        made = client.post("/checkout/create", CREATE).json()["checkout_id"]
        client.post("/checkout/test/pay", {"checkout_id": made})
        checkouts.append(made)

    def refund(body: dict[str, Any], headers: dict[str, str]) -> None:
        httpx.post(f"{base}/checkout/refund", json=body, headers={**auth, **headers}, timeout=10)

    with ThreadPoolExecutor(8) as pool:
        # More than was paid, on purpose: the client expects some refusals.
        over = {"checkout_id": checkouts[0], "amount": 1000}
        list(pool.map(lambda _: refund(over, declared("409")), range(8)))
        retry = {"checkout_id": checkouts[1], "amount": 500}
        list(pool.map(lambda _: refund(retry, {"Idempotency-Key": "idem-race"}), range(4)))
    client.post("/checkout/retrieve", {"checkout_id": checkouts[0]})
    client.post("/checkout/retrieve", {"checkout_id": checkouts[1]})
