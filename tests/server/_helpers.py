"""Helpers for the server tests."""

from __future__ import annotations

from typing import Any

import httpx

from neuropay_contract.contract import create_body


def api(url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=10)


def create(client: httpx.Client, **extra: Any) -> dict[str, Any]:
    resp = client.post("/checkout/create", json=create_body(**extra))
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]
