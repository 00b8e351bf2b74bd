"""Saved cards as the spec decides them (Customer.savedCards): every save is a card of its own,
oldest first, the first is the default, and deleting the default on the client page makes the
oldest remaining card the default (the suite does not play the client page: tested here)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx

from neuropay_contract.contract import create_body, customer_body
from neuropay_contract.server import create_app, key_triplet, serve_app

FORM = {"content-type": "application/x-www-form-urlencoded"}


def _save(client: httpx.Client, customer_id: str, number: str) -> None:
    made = client.post("/checkout/create", json=create_body(customer_id=customer_id)).json()
    page = urlsplit(made["url"]).path
    form = {"action": "pay", "card_number": number, "expiry": "12/30", "save_card": "on"}
    assert client.post(page, data=form, headers=FORM).status_code == 303


def test_deleting_the_default_card_makes_the_oldest_remaining_the_default() -> None:
    app = create_app()
    key = key_triplet(app.state.keys)[0]
    try:
        with (
            serve_app(app) as url,
            httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as client,
        ):
            customer = client.post("/checkout/create-customer", json=customer_body()).json()
            customer_id = customer["customer_id"]
            for number in ("4242424242424242", "4242424242424242", "5555555555554444"):
                _save(client, customer_id, number)

            def read() -> dict[str, object]:
                return client.post(  # type: ignore[no-any-return]
                    "/checkout/retrieve-customer", json={"customer_id": customer_id}
                ).json()

            cards = read()["savedCards"]
            assert isinstance(cards, list) and len(cards) == 3  # the same number twice: two cards
            ids = [c["card_id"] for c in cards]
            assert len(set(ids)) == 3
            assert [c["is_default"] for c in cards] == [True, False, False]
            token = parse_qs(urlsplit(customer["client_page"]).query)["token"][0]
            page = urlsplit(customer["client_page"]).path
            form = {"token": token, "card_id": ids[0], "action": "delete"}
            assert client.post(page, data=form, headers=FORM).status_code == 303
            after = read()
            assert after["default_card_id"] == ids[1]
            assert [c["card_id"] for c in after["savedCards"]] == ids[1:]  # type: ignore[union-attr]
            assert [c["is_default"] for c in after["savedCards"]] == [True, False]  # type: ignore[union-attr]
    finally:
        app.state.store.close()
