"""The hosted checkout page and the client page, over HTTP and in a real browser."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from neuropay_contract.server import RunningServer

from ._helpers import api, create


@pytest.fixture
def shop() -> Iterator[str]:
    """The merchant's shop on loopback: returnUrl and returnUrlCancel land here."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = f"<!doctype html><link rel=icon href='data:,'><h1 id=landed>{self.path}</h1>".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_page_escapes_the_message_and_sets_frame_headers(server: RunningServer) -> None:
    with api(server.url, server.test_key) as client:
        hostile = create(client, message="<script>alert(1)</script>")
        framed = create(client, template="iframe")
    page = httpx.get(hostile["url"])
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert not re.search(r"(src|href)=\"https?://", page.text)  # nothing loaded from outside
    iframe = httpx.get(framed["url"])
    assert "x-frame-options" not in iframe.headers
    # an iframe checkout may be framed by its returnUrl's origin only (test_hosted_safety)
    assert "frame-ancestors https://shop.example.com" in iframe.headers["content-security-policy"]
    assert httpx.get(f"{server.url}/pay/{'0' * 32}").status_code == 404


def test_pay_cancel_and_decline_over_http(server: RunningServer) -> None:
    with api(server.url, server.test_key) as client:
        paid, canceled, declined = create(client), create(client), create(client)
        pay = httpx.post(paid["url"], data={"action": "pay", "card_number": "4242 4242 4242 4242"})
        assert pay.status_code == 303
        assert pay.headers["location"] == paid["returnUrl"]
        cancel = httpx.post(canceled["url"], data={"action": "cancel"})
        assert cancel.status_code == 303
        assert cancel.headers["location"] == canceled["returnUrlCancel"]
        decline = httpx.post(
            declined["url"], data={"action": "pay", "card_number": "4000000000000002"}
        )
        assert decline.status_code == 200
        assert "declined" in decline.text
        statuses = [
            client.post("/checkout/retrieve", json={"checkout_id": c["checkout_id"]}).json()[
                "status"
            ]
            for c in (paid, canceled, declined)
        ]
    assert statuses == ["paid", "canceled", "failed"]
    again = httpx.post(paid["url"], data={"action": "pay", "card_number": "4242424242424242"})
    assert again.status_code == 409
    assert "paid" in again.text


def test_live_pages_list_no_test_cards(server: RunningServer) -> None:
    with api(server.url, server.live_key) as client:
        live = create(client)
    assert "test-cards" not in httpx.get(live["url"]).text


@pytest.mark.browser
def test_customer_pays_saves_a_card_and_manages_it(
    server: RunningServer, shop: str, page: Any
) -> None:
    with api(server.url, server.test_key) as client:
        customer = client.post(
            "/checkout/create-customer",
            json={"first_name": "Astrid", "last_name": "L", "email": "a@l.se"},
        ).json()
        checkout = create(
            client,
            customer_id=customer["customer_id"],
            returnUrl=f"{shop}/thanks",
            returnUrlCancel=f"{shop}/cart",
        )
        browser = page.page
        browser.goto(checkout["url"])
        assert browser.text_content("#amount").strip() == "30.00 SEK"
        page.screenshot("hosted-page.png")
        browser.fill("#card_number", "4242 4242 4242 4242")
        browser.fill("#expiry", "11/31")
        browser.check("#save_card")
        browser.click("#pay")
        browser.wait_for_url(f"{shop}/thanks")
        assert (
            client.post("/checkout/retrieve", json={"checkout_id": checkout["checkout_id"]}).json()[
                "status"
            ]
            == "paid"
        )
        saved = client.post(
            "/checkout/retrieve-customer", json={"customer_id": customer["customer_id"]}
        ).json()
        assert [
            (c["brand"], c["last4"], c["exp_month"], c["exp_year"], c["is_default"])
            for c in saved["savedCards"]
        ] == [("visa", "4242", 11, 2031, True)]
        card_id = saved["savedCards"][0]["card_id"]
        auto = client.post(
            "/checkout/create",
            json={**_body(shop), "customer_id": customer["customer_id"], "card_id": card_id},
        ).json()
        assert auto["status"] == "paid"

        second = create(
            client,
            customer_id=customer["customer_id"],
            returnUrl=f"{shop}/thanks",
            returnUrlCancel=f"{shop}/cart",
        )
        browser.goto(second["url"])
        browser.fill("#card_number", "5555555555554444")
        browser.check("#save_card")
        browser.click("#pay")
        browser.wait_for_url(f"{shop}/thanks")

        browser.goto(saved["client_page"])
        assert browser.locator("#cards tr[data-card-id]").count() == 2
        # every row's cells end on one line (the actions cell stays a table cell)
        ragged = browser.evaluate(
            """() => [...document.querySelectorAll('#cards tr[data-card-id]')].filter(row => {
                const bottoms = [...row.cells].map(c => Math.round(c.getBoundingClientRect().bottom));
                return new Set(bottoms).size !== 1;
            }).length"""
        )
        assert ragged == 0
        overflow = browser.evaluate(
            """() => document.querySelector('#cards').getBoundingClientRect().right
                     - document.querySelector('#cards').parentElement.getBoundingClientRect().right"""
        )
        assert overflow <= 0  # the table fits its card
        page.screenshot("client-page.png")
        mastercard = browser.locator("tr[data-card-id]", has_text="mastercard")
        with browser.expect_navigation():
            mastercard.locator("button.make-default").click()
        after = client.post(
            "/checkout/retrieve-customer", json={"customer_id": customer["customer_id"]}
        ).json()
        assert after["default_card_id"] != card_id
        with browser.expect_navigation():
            browser.locator(f"tr[data-card-id='{card_id}'] button.delete").click()
        final = client.post(
            "/checkout/retrieve-customer", json={"customer_id": customer["customer_id"]}
        ).json()
        assert [c["brand"] for c in final["savedCards"]] == ["mastercard"]
        assert final["savedCards"][0]["is_default"]
        gone = client.post(
            "/checkout/create",
            json={**_body(shop), "customer_id": customer["customer_id"], "card_id": card_id},
        )
        assert gone.status_code == 404
        assert gone.json()["error"]["code"] == "card_not_found"

        third = create(client, returnUrl=f"{shop}/thanks", returnUrlCancel=f"{shop}/cart")
        browser.goto(third["url"])
        browser.click("#cancel")
        browser.wait_for_url(f"{shop}/cart")
        assert (
            client.post("/checkout/retrieve", json={"checkout_id": third["checkout_id"]}).json()[
                "status"
            ]
            == "canceled"
        )
    assert page.console_errors == []
    assert page.outside_requests == []
    assert browser.evaluate("typeof window.__xss") == "undefined"


def _body(shop: str) -> dict[str, Any]:
    return {
        "amount": 1200,
        "currency": "SEK",
        "message": "Again",
        "metaData": {},
        "returnUrl": f"{shop}/thanks",
        "returnUrlCancel": f"{shop}/cart",
    }
