"""Hosted pages as a hostile site would try them: posts from another site are refused, iframe
checkouts may be framed only by the merchant's origins, a live checkout refuses test cards, and
the URLs the API hands out never come from the client's Host header."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from neuropay_contract.server import RunningServer, start_server

from ._helpers import api, create

EVIL = "https://evil.example"


@pytest.fixture(scope="module")
def shared() -> Iterator[RunningServer]:
    with start_server(frame_ancestors=["https://cms.shop.example"]) as running:
        yield running


def status_of(server: RunningServer, checkout_id: str) -> str:
    with api(server.url, server.test_key) as client:
        resp = client.post("/checkout/retrieve", json={"checkout_id": checkout_id})
        return str(resp.json()["status"])


def pay(page_url: str, number: str = "4242424242424242", **headers: str) -> httpx.Response:
    return httpx.post(
        page_url, data={"action": "pay", "card_number": number, "expiry": "12/30"}, headers=headers
    )


@pytest.mark.parametrize(
    "headers",
    [{"Origin": EVIL}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}],
    ids=["foreign-origin", "cross-site", "opaque-origin"],
)
def test_a_post_from_another_site_cannot_pay_or_cancel(
    shared: RunningServer, headers: dict[str, str]
) -> None:
    with api(shared.url, shared.test_key) as client:
        checkout = create(client)
    paid = pay(checkout["url"], **headers)
    assert paid.status_code == 403
    cancel = httpx.post(checkout["url"], data={"action": "cancel"}, headers=headers)
    assert cancel.status_code == 403
    assert status_of(shared, checkout["checkout_id"]) == "created"
    own = pay(checkout["url"], Origin=shared.url, **{"Sec-Fetch-Site": "same-origin"})
    assert own.status_code == 303
    assert status_of(shared, checkout["checkout_id"]) == "paid"


def test_a_post_from_another_site_cannot_delete_a_saved_card(shared: RunningServer) -> None:
    with api(shared.url, shared.test_key) as client:
        customer = client.post(
            "/checkout/create-customer",
            json={"first_name": "A", "last_name": "B", "email": "a@b.example"},
        ).json()
        checkout = create(client, customer_id=customer["customer_id"])
    assert pay(checkout["url"]).status_code == 303
    form = {"action": "pay", "card_number": "4242424242424242", "save_card": "on"}
    with api(shared.url, shared.test_key) as client:
        again = create(client, customer_id=customer["customer_id"])
    assert httpx.post(again["url"], data=form).status_code == 303

    def cards() -> list[Any]:
        with api(shared.url, shared.test_key) as client:
            found = client.post(
                "/checkout/retrieve-customer", json={"customer_id": customer["customer_id"]}
            ).json()
        return list(found["savedCards"])

    card_id = cards()[0]["card_id"]
    token = customer["client_page"].split("token=")[1]
    delete = {"token": token, "card_id": card_id, "action": "delete"}
    page = customer["client_page"].split("?")[0]
    assert httpx.post(page, data=delete, headers={"Origin": EVIL}).status_code == 403
    assert [c["card_id"] for c in cards()] == [card_id]
    assert httpx.post(page, data=delete, headers={"Origin": shared.url}).status_code == 303
    assert cards() == []


def test_iframe_checkouts_are_framed_only_by_the_merchants_origins(shared: RunningServer) -> None:
    with api(shared.url, shared.test_key) as client:
        framed = create(client, template="iframe", returnUrl="https://shop.example:8443/thanks")
        hosted = create(client)
    csp = httpx.get(framed["url"]).headers["content-security-policy"]
    assert "frame-ancestors https://shop.example:8443 https://cms.shop.example" in csp
    assert "*" not in csp.split("frame-ancestors")[1]
    page = httpx.get(hosted["url"])
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


def test_a_live_checkout_refuses_test_cards(shared: RunningServer) -> None:
    with api(shared.url, shared.live_key) as client:
        live = create(client)
    refused = pay(live["url"])
    assert refused.status_code == 422
    assert "Test card numbers work only in test mode" in refused.text
    assert "4242424242424242" not in refused.text.split("</form>")[-1]  # no test card table
    with api(shared.url, shared.live_key) as client:
        resp = client.post("/checkout/retrieve", json={"checkout_id": live["checkout_id"]})
    assert resp.json()["status"] == "created"


def test_urls_never_come_from_the_host_header(shared: RunningServer) -> None:
    with api(shared.url, shared.test_key) as client:
        for host in ("evil.example", "%00", "a b"):
            made = client.post("/checkout/create", json=_body(), headers={"Host": host}).json()
            assert made["url"] == f"{shared.url}/pay/{made['checkout_id']}"
    with start_server(public_url="https://sandbox.example/np/") as behind_proxy:
        with api(behind_proxy.url, behind_proxy.test_key) as client:
            made = client.post("/checkout/create", json=_body(), headers={"Host": "evil"}).json()
            customer = client.post(
                "/checkout/create-customer",
                json={"first_name": "A", "last_name": "B", "email": "a@b.example"},
            ).json()
            docs = client.get("/docs").text
        assert made["url"] == f"https://sandbox.example/np/pay/{made['checkout_id']}"
        assert customer["client_page"].startswith("https://sandbox.example/np/customer/")
        assert "curl -sS -X POST https://sandbox.example/np/checkout/create" in docs
        # a browser on the public URL posts with that origin: accepted
        paid = pay(
            f"{behind_proxy.url}/pay/{made['checkout_id']}", Origin="https://sandbox.example"
        )
        assert paid.status_code == 303


def _body() -> dict[str, Any]:
    from neuropay_contract.contract import create_body

    return create_body()


@pytest.mark.parametrize("page", ["/pay/", "/customer/"])
@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("multipart/form-data; boundary=b", b"--b\r\n" + b"x" * (4 << 20), 415),
        ("application/octet-stream", b"x" * 100, 415),
        ("application/x-www-form-urlencoded", b"card_number=" + b"4" * 100_000, 413),
        ("application/x-www-form-urlencoded", b"&".join([b"a=1"] * 200), 400),
        ("application/x-www-form-urlencoded", b"card_number=\xff\xfe", 400),
    ],
)
def test_page_forms_are_bounded_before_reading(
    shared: RunningServer, page: str, content_type: str, body: bytes, status: int
) -> None:
    """The pages answer anyone with an id, without a key: a form of another encoding (file
    parts), too large or with too many fields is refused before it is read or stored."""
    target = shared.url + page + "anything"
    answer = httpx.post(target, content=body, headers={"content-type": content_type}, timeout=30)
    assert answer.status_code == status, answer.text[:200]
    chunked = httpx.post(  # no Content-Length: the stream is cut at the bound
        target,
        content=iter([body[i : i + 65536] for i in range(0, len(body), 65536)]),
        headers={"content-type": content_type},
        timeout=30,
    )
    assert chunked.status_code == status
