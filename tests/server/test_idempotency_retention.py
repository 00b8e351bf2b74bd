"""The reference server forgets an Idempotency-Key after x-idempotency.retention_hours: a request
with it then runs as new (the suite cannot wait 24 hours, so this is checked here)."""

from __future__ import annotations

import copy
import time
from typing import Any

import httpx

from neuropay_contract.contract import create_body
from neuropay_contract.server import create_app, key_triplet, serve_app
from neuropay_contract.spec import ApiSpec, load_spec


def test_a_key_is_forgotten_after_the_retention() -> None:
    document: dict[str, Any] = copy.deepcopy(dict(load_spec().document))
    document["x-idempotency"]["retention_hours"] = 0.5 / 3600  # half a second
    app = create_app(ApiSpec(document))
    key = key_triplet(app.state.keys)[0]
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "retention-1"}
    try:
        with serve_app(app) as url, httpx.Client(base_url=url, headers=headers) as client:
            first = client.post("/checkout/create", json=create_body())
            assert first.status_code == 200
            reused = client.post("/checkout/create", json=create_body(amount=4100))
            assert reused.status_code == 409
            assert reused.json()["error"]["code"] == "idempotency_key_reused"
            time.sleep(0.6)
            later = client.post("/checkout/create", json=create_body(amount=4100))
            assert later.status_code == 200
            assert "idempotent-replayed" not in later.headers
            assert later.json()["checkout_id"] != first.json()["checkout_id"]
    finally:
        app.state.store.close()


def test_the_retention_counts_from_the_first_use() -> None:
    """A replay does not extend the retention (spec: the Idempotency-Key parameter): a key used
    at 0 s and replayed at 1 s is forgotten at 2.2 s, with a two-second retention."""
    document: dict[str, Any] = copy.deepcopy(dict(load_spec().document))
    document["x-idempotency"]["retention_hours"] = 2.0 / 3600
    app = create_app(ApiSpec(document))
    key = key_triplet(app.state.keys)[0]
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": "retention-2"}
    body = create_body()
    try:
        with serve_app(app) as url, httpx.Client(base_url=url, headers=headers) as client:
            first = client.post("/checkout/create", json=body)
            assert first.status_code == 200
            time.sleep(1.0)
            replay = client.post("/checkout/create", json=body)
            assert replay.headers.get("idempotent-replayed") == "true"
            time.sleep(1.2)
            later = client.post("/checkout/create", json=body)
            assert later.status_code == 200
            assert "idempotent-replayed" not in later.headers
            assert later.json()["checkout_id"] != first.json()["checkout_id"]
    finally:
        app.state.store.close()
