"""The spec's x-limits as the reference server applies them: nesting depth (iteratively checked,
so no body can exhaust the stack and turn into a 500); and the docs page the sandbox serves."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from neuropay_contract.server import RunningServer
from neuropay_contract.spec import load_spec

from ._helpers import api


def nested(depth: int) -> bytes:
    return b'{"checkout_id": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


def test_depth_limit_comes_from_the_spec(server: RunningServer) -> None:
    limit = load_spec().max_json_depth
    assert limit == 32
    headers = {"Content-Type": "application/json"}
    with api(server.url, server.test_key) as client:
        at_limit = client.post("/checkout/retrieve", content=nested(limit), headers=headers)
        assert at_limit.status_code == 400
        assert at_limit.json()["error"]["code"] == "invalid_request"  # parsed, then validated
        for depth in (limit + 1, 900, 50_000 // 2):
            over = client.post("/checkout/retrieve", content=nested(depth), headers=headers)
            assert over.status_code == 400, depth
            assert over.json()["error"] == {
                "code": "invalid_json",
                "message": f"The body nests deeper than {limit} levels.",
                "param": None,
            }


def test_the_sandbox_serves_its_docs_with_samples_aimed_at_itself(server: RunningServer) -> None:
    with api(server.url, server.test_key) as client:
        page = client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    html = page.text
    assert f"curl -sS -X POST {server.url}/checkout/create" in html
    assert f"code samples call <code>{server.url}</code>" in html
    assert all(key.key not in html for key in server.keys)
    assert "https://" not in html.split("<body")[0]  # nothing loaded from elsewhere
    with httpx.Client(base_url=server.url) as anonymous:
        opened = anonymous.get("/", headers={"Accept": "text/html,application/xhtml+xml"})
        assert (opened.status_code, opened.headers["location"]) == (303, "/docs")
        api_root = anonymous.get("/", headers={"Accept": "application/json"})
        assert api_root.status_code == 404 and api_root.json()["error"]["code"] == "not_found"


@pytest.mark.browser
def test_served_docs_work_under_their_content_security_policy(
    server: RunningServer, page: Any
) -> None:
    browser = page.page
    browser.goto(f"{server.url}/docs")
    browser.fill("#search", "refund_exceeds")
    assert "refund_exceeds_remaining" in browser.locator("#results a").first.text_content()
    assert page.console_errors == [] and page.outside_requests == []  # no CSP violation
