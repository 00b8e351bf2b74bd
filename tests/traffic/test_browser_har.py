"""A browser session recorded as HAR by Chromium (the hosted payment page, and API calls made
from a page through the proxy): `neuropay audit` of the HAR finds what the proxy found live."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from neuropay_contract.server import start_server
from neuropay_contract.traffic.audit import audit_file

from ..contract_core._cli import run
from ._proxy import CREATE, proxied

FETCH = """async ([path, body, key]) => {
  const answer = await fetch(path, {
    method: "POST",
    headers: {"Content-Type": "application/json", "Authorization": "Bearer " + key},
    body: JSON.stringify(body),
  });
  return [answer.status, await answer.text()];
}"""


@pytest.mark.browser
def test_audit_of_a_browser_har_equals_the_proxy(browser: Any, tmp_path: Path) -> None:
    har = tmp_path / "session.har"
    with start_server() as server, proxied(server.app) as (url, checker):
        # The pages the API serves have a strict CSP (no fetch): the recording page bypasses it.
        context = browser.new_context(record_har_path=str(har), bypass_csp=True)
        page = context.new_page()
        page.goto(f"{url}/docs")

        def call(path: str, body: dict[str, Any]) -> tuple[int, Any]:
            status, text = page.evaluate(FETCH, [path, body, server.test_key])
            return status, json.loads(text)

        body = {**CREATE, "capture": False, "returnUrl": f"{url}/thanks"}
        _, checkout = call("/checkout/create", body)
        ident = {"checkout_id": checkout["checkout_id"]}
        page.goto(checkout["url"])  # the customer pays on the hosted page: reserved
        page.fill("#card_number", "4242 4242 4242 4242")
        page.click("#pay")
        page.wait_for_url(f"{url}/thanks")
        page.goto(f"{url}/docs")
        assert call("/checkout/retrieve", ident)[1]["status"] == "reserved"
        assert call("/checkout/capture", ident)[0] == 200
        assert call("/checkout/capture", ident)[0] == 409  # a paid checkout captured again
        assert call("/checkout/refund", {**ident, "amount": 9000})[0] == 409  # more than paid
        assert call("/checkout/update", {**ident, "metaData": {}, "note": "x"})[0] == 400
        assert call("/checkout/refund", {**ident, "amount": 1000})[1]["status"] == "partialRefund"
        call("/checkout/retrieve", ident)
        context.close()
    live = sorted(f.key() for f in checker.findings)
    assert live == sorted(
        [
            ("lifecycle.forbidden-operation", "client", "captureCheckout", ident["checkout_id"]),
            ("money.refund-exceeds-remaining", "client", "refundCheckout", ident["checkout_id"]),
            ("request.body-schema", "client", "updateCheckout", ident["checkout_id"]),
        ]
    )
    text = har.read_text()
    assert server.test_key in text  # the HAR holds the key: the audit must not repeat it
    audited = audit_file(har, None)
    assert sorted(f.key() for f in audited.findings) == live
    assert audited.checked == checker.checked == 8
    assert audited.ignored >= 3  # the docs page, the hosted page and its form post
    proc = run("audit", str(har), "--report-dir", str(tmp_path / "r"))
    assert proc.returncode == 1 and "3 finding(s) (3 client, 0 server)" in proc.stdout
    for name in ("results.json", "report.html", "report.md", "junit.xml"):
        assert server.test_key not in (tmp_path / "r" / name).read_text()
    assert server.test_key not in proc.stdout + proc.stderr
