"""Live keys and test card ids: the reference server refuses them (the suite cannot check this
on a target, since it would need a live customer, a live write)."""

from __future__ import annotations

import httpx

from neuropay_contract.contract import create_body, customer_body
from neuropay_contract.server import create_app, key_triplet, serve_app


def test_a_live_key_cannot_pay_with_a_test_card_id() -> None:
    app = create_app()
    live = key_triplet(app.state.keys)[2]
    try:
        with (
            serve_app(app) as url,
            httpx.Client(base_url=url, headers={"Authorization": f"Bearer {live}"}) as client,
        ):
            customer = client.post("/checkout/create-customer", json=customer_body()).json()
            assert customer["livemode"] is True
            body = create_body(customer_id=customer["customer_id"], card_id="card_test_success")
            resp = client.post("/checkout/create", json=body)
            assert resp.status_code == 404
            assert resp.json()["error"]["code"] == "card_not_found"
            assert resp.json()["error"]["param"] == "/card_id"
    finally:
        app.state.store.close()
