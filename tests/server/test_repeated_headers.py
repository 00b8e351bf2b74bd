"""Headers sent twice: the reference server picks none of them (spec: bearerAuth and the
Idempotency-Key parameter), and nothing runs."""

from __future__ import annotations

import httpx

from neuropay_contract.contract import create_body
from neuropay_contract.server import create_app, key_triplet, same_merchant_key, serve_app


def test_two_authorization_or_idempotency_headers_are_refused() -> None:
    app = create_app()
    key = key_triplet(app.state.keys)[0]
    bearer = ("Authorization", f"Bearer {key}")
    try:
        with serve_app(app) as url, httpx.Client(base_url=url) as client:
            twice = client.post("/checkout/create", json=create_body(), headers=[bearer, bearer])
            assert twice.status_code == 401
            assert twice.json()["error"]["code"] == "invalid_api_key"
            keys = [("Idempotency-Key", "k-1"), ("Idempotency-Key", "k-2")]
            resp = client.post("/checkout/create", json=create_body(), headers=[bearer, *keys])
            assert resp.status_code == 400
            assert resp.json()["error"] == {
                "code": "invalid_request",
                "message": resp.json()["error"]["message"],
                "param": "Idempotency-Key",
            }
            # neither key was stored: each alone now runs as a first request
            for name, value in keys:
                alone = client.post(
                    "/checkout/create", json=create_body(), headers=[bearer, (name, value)]
                )
                assert alone.status_code == 200
                assert "idempotent-replayed" not in alone.headers
    finally:
        app.state.store.close()


def test_the_default_keys_include_a_second_key_of_the_first_merchant() -> None:
    """`neuropay mock` and the embedded server make a rotated key: it sees the first key's
    checkouts (objects belong to the merchant)."""
    app = create_app()
    first, same = key_triplet(app.state.keys)[0], same_merchant_key(app.state.keys)
    assert same is not None and same != first
    try:
        with serve_app(app) as url, httpx.Client(base_url=url) as client:
            made = client.post(
                "/checkout/create",
                json=create_body(),
                headers={"Authorization": f"Bearer {first}"},
            ).json()
            seen = client.post(
                "/checkout/retrieve",
                json={"checkout_id": made["checkout_id"]},
                headers={"Authorization": f"Bearer {same}"},
            )
            assert seen.status_code == 200 and seen.json() == made
    finally:
        app.state.store.close()
