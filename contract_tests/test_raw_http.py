"""Refusals of the HTTP layer carry the error envelope too: malformed messages no HTTP client
sends, written to a raw socket (every non-2xx answer is the envelope, whatever refuses it)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from _support import OPERATIONS
from neuropay_contract.contract import ContractClient, ContractViolation, not_covered
from neuropay_contract.contract.rawhttp import exchange
from neuropay_contract.contract.rules import RAW_HTTP_KINDS

PATH = OPERATIONS[0].path  # any operation's path: the HTTP layer refuses before routing
# Each message is well-formed but for the one fault its kind names (no key is sent: a server
# that reads past the fault answers 401, which is not the 400 asked for either).
MESSAGES = {
    "request-line": f"POST {PATH} now HTTP/1.1\r\nHost: {{host}}\r\n"
    "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}",
    "content-length": f"POST {PATH} HTTP/1.1\r\nHost: {{host}}\r\n"
    "Content-Type: application/json\r\nContent-Length: abc\r\n\r\n{{}}",
    "header-without-colon": f"POST {PATH} HTTP/1.1\r\nHost: {{host}}\r\nX-No-Colon value\r\n"
    "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}",
}
assert set(MESSAGES) == set(RAW_HTTP_KINDS)


@pytest.mark.parametrize("kind", sorted(MESSAGES))
@pytest.mark.np_check(category="protocol", operation=OPERATIONS[0].operation_id)
def test_malformed_http_gets_the_envelope(np_client: ContractClient, kind: str) -> None:
    if urlsplit(np_client.base_url).scheme != "http":
        not_covered("raw HTTP/1.1 messages are sent over plain TCP only (the target is https)")
    host = urlsplit(np_client.base_url).netloc
    raw = MESSAGES[kind].format(host=host).encode("latin-1")
    answer = exchange(np_client.base_url, raw, 5.0, np_client.recorder)
    body = answer.json()
    media = answer.headers.get("content-type", "").split(";")[0].strip().lower()
    enveloped = body is not None and not np_client.spec.validation_errors("Error", body)
    if answer.status != 400 or media != "application/json" or not enveloped:
        raise ContractViolation(
            f"protocol.http-refusal-{kind}",
            f"{RAW_HTTP_KINDS[kind]}: not refused with 400 and the error envelope",
            f"the target answered {answer.status} ({media or 'no Content-Type'}) to a request "
            f"with {RAW_HTTP_KINDS[kind]}; every refusal is 400 with the error envelope as JSON",
            operation=OPERATIONS[0].operation_id,
            expected={"status": 400, "Content-Type": "application/json", "body": "Error"},
            received={
                "status": answer.status,
                "Content-Type": answer.headers.get("content-type"),
                "body": body if body is not None else answer.body.decode("utf-8", "replace")[:500],
            },
        )
