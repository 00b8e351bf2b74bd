"""One table of hostile request bodies, fed to the reference server over HTTP and to the traffic
checker: for each, the checker predicts exactly the refusal the server gives (or none when the
server accepts), and blames the server for nothing. The rules live once, in
:mod:`neuropay_contract.wellformed`; before, the checker read ``1e999`` as infinity and blamed a
correct server with ``response.wrong-refusal``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from neuropay_contract.server import RunningServer, start_server
from neuropay_contract.spec import load_spec
from neuropay_contract.traffic.audit import audit_file
from neuropay_contract.traffic.validate import ExchangeValidator
from neuropay_contract.wellformed import (
    NotIJson,
    NotJson,
    json_pointer,
    parse_json,
    read_authorization,
    request_media_ok,
)

from ._traffic import RecordingClient

CREATE = (
    b'{"amount": %s, "currency": "SEK", "message": %s, "returnUrl": "https://shop.example.com/t",'
    b' "returnUrlCancel": "https://shop.example.com/c", "metaData": {}}'
)
JSON = "application/json"


def create(amount: bytes = b"3000", message: bytes = b'"hi"') -> bytes:
    return CREATE % (amount, message)


# (id, body, Content-Type or None for no header, the server's answer: status and code or None)
HOSTILE: list[tuple[str, bytes, str | None, tuple[int, str | None]]] = [
    ("control", create(), JSON, (200, None)),
    ("integral-float", create(b"3000.0"), JSON, (200, None)),
    ("exponent", create(b"3e3"), JSON, (200, None)),
    ("upper-case-media", create(), "APPLICATION/JSON; charset=UTF-8", (200, None)),
    ("beyond-double", create(b"1e999"), JSON, (400, "invalid_json")),
    ("beyond-double-negative", create(b"-1e999"), JSON, (400, "invalid_json")),
    ("nan", create(b"NaN"), JSON, (400, "invalid_json")),
    ("infinity", create(b"Infinity"), JSON, (400, "invalid_json")),
    ("duplicate-name", create()[:-1] + b', "amount": 1}', JSON, (400, "invalid_json")),
    ("lone-surrogate", create(message=b'"\\ud800"'), JSON, (400, "invalid_json")),
    ("lone-surrogate-key", b'{"\\udfff": 1}', JSON, (400, "invalid_json")),
    ("paired-surrogate", create(message=b'"\\ud83d\\ude00"'), JSON, (200, None)),
    ("not-utf8", create(message=b'"\xff"'), JSON, (400, "invalid_json")),
    ("bom", b"\xef\xbb\xbf" + create(), JSON, (400, "invalid_json")),
    ("truncated", create()[:-5], JSON, (400, "invalid_json")),
    ("trailing-garbage", create() + b" x", JSON, (400, "invalid_json")),
    ("empty", b"", JSON, (400, "invalid_json")),
    (
        "too-deep",
        create()[:-14] + b'"metaData": {"a": ' + b"[" * 40 + b"]" * 40 + b"}}",
        JSON,
        (400, "invalid_json"),
    ),
    ("far-too-deep", b"[" * 100_000 + b"]" * 100_000, JSON, (413, "payload_too_large")),
    ("deep-enough-for-recursion", b"[" * 30_000 + b"]" * 30_000, JSON, (400, "invalid_json")),
    ("array", b"[]", JSON, (400, "invalid_request")),
    ("latin1", create(), "application/json; charset=latin-1", (415, "unsupported_media_type")),
    ("plus-json", create(), "application/merchant+json", (415, "unsupported_media_type")),
    ("text", create(), "text/plain", (415, "unsupported_media_type")),
    ("no-content-type", create(), None, (415, "unsupported_media_type")),
    ("media-before-json", b"\xff", "text/plain", (415, "unsupported_media_type")),
]


@pytest.fixture(scope="module")
def reference() -> Iterator[RunningServer]:
    with start_server() as server:
        yield server


@pytest.mark.parametrize(
    ("body", "content_type", "answer"), [r[1:] for r in HOSTILE], ids=[r[0] for r in HOSTILE]
)
def test_server_and_checker_agree(
    reference: RunningServer, body: bytes, content_type: str | None, answer: tuple[int, str | None]
) -> None:
    client = RecordingClient(reference.url, reference.test_key)
    try:
        headers = {"Content-Type": content_type} if content_type else {}
        response = client.post("/checkout/create", raw=body, headers=headers)
    finally:
        client.close()
    code = response.json()["error"]["code"] if response.status_code >= 400 else None
    assert (response.status_code, code) == answer  # the table says what the server does

    checked = ExchangeValidator(load_spec()).check(client.exchanges[0])
    assert [f.rule for f in checked.findings if f.side == "server"] == []
    predicted = [(e.http, e.code) for e in checked.expectations]
    if code is None:
        assert predicted == []
        assert checked.request_ok
    else:
        assert predicted[:1] == [answer]


# Header-borne refusals (bodies are never decompressed): the same agreement.
CODINGS = [("gzip", 415), ("GZIP", 415), ("deflate", 415), ("br", 415), ("identity", 200)]


@pytest.mark.parametrize(("coding", "status"), CODINGS, ids=[c for c, _ in CODINGS])
def test_server_and_checker_agree_on_content_encoding(
    reference: RunningServer, coding: str, status: int
) -> None:
    client = RecordingClient(reference.url, reference.test_key)
    try:
        headers = {"Content-Type": JSON, "Content-Encoding": coding}
        response = client.post("/checkout/create", raw=create(), headers=headers)
    finally:
        client.close()
    assert response.status_code == status
    checked = ExchangeValidator(load_spec()).check(client.exchanges[0])
    assert [f.rule for f in checked.findings if f.side == "server"] == []
    predicted = [(e.http, e.code) for e in checked.expectations]
    assert predicted[:1] == ([] if status == 200 else [(415, "unsupported_media_type")])


def test_the_parse_is_the_servers() -> None:
    """The reasons worth telling travel as :class:`NotIJson`; depth is reported, not raised."""
    with pytest.raises(NotIJson, match="beyond the range of a double"):
        parse_json(b"[1e999]", 32)
    with pytest.raises(NotIJson, match="duplicate name 'a'"):
        parse_json(b'{"a": 1, "a": 1}', 32)
    with pytest.raises(NotIJson) as surrogate:
        parse_json(b'{"a/b": ["x", "\\ud800"]}', 32)
    assert surrogate.value.pointer == "/a~1b/1"
    with pytest.raises(NotJson):
        parse_json(b"NaN", 32)
    assert parse_json(b"[[1.0]]", 1).too_deep
    assert parse_json(b"[[1.0]]", 2).value == [[1]]
    assert json_pointer(["~x", 0]) == "/~0x/0"


@pytest.mark.parametrize(
    ("header", "state", "key"),
    [
        (None, "missing", None),
        ("  ", "missing", None),
        ("Bearer", "missing", None),
        ("bearer   sk_test_1 ", "bearer", "sk_test_1"),
        ("Basic abc", "malformed", None),
        ("sk_test_1", "malformed", None),
    ],
)
def test_bearer_reading(header: str | None, state: str, key: str | None) -> None:
    credential = read_authorization(header)
    assert (credential.state, credential.key) == (state, key)


def test_request_media_type() -> None:
    assert request_media_ok('Application/JSON;charset="utf-8"')
    assert not request_media_ok("application/json; charset=utf-16")
    assert not request_media_ok(None)


def test_audit_of_a_refund_beyond_a_double_blames_nobody(
    reference: RunningServer, tmp_path: Path
) -> None:
    """The issue's case: a refund of ``1e999`` answered ``400 invalid_json`` by the reference
    server, declared as a deliberate negative test, gives 0 findings; undeclared, only the
    client is blamed."""
    client = RecordingClient(reference.url, reference.test_key)
    try:
        checkout = client.post("/checkout/create", json.loads(create())).json()["checkout_id"]
        client.post("/checkout/test/pay", {"checkout_id": checkout})
        refund = b'{"checkout_id": "%s", "amount": 1e999}' % checkout.encode()
        json_type = {"Content-Type": JSON}
        declared = {**json_type, "X-Neuropay-Expect": "400 invalid_json"}
        first = client.post("/checkout/refund", raw=refund, headers=declared)
        assert (first.status_code, first.json()["error"]["code"]) == (400, "invalid_json")
        declared_only = client.write(tmp_path / "declared.jsonl")
        client.post("/checkout/refund", raw=refund, headers=json_type)
        both = client.write(tmp_path / "both.jsonl")
    finally:
        client.close()

    assert [(f.rule, f.side) for f in audit_file(declared_only, None).findings] == []
    findings = [(f.rule, f.side) for f in audit_file(both, None).findings]
    assert findings == [("request.json", "client")]


def test_timestamps_are_written_one_way() -> None:
    from neuropay_contract.wellformed import utc_timestamp

    assert utc_timestamp(0) == "1970-01-01T00:00:00Z"
    assert utc_timestamp(1.5, "milliseconds") == "1970-01-01T00:00:01.500Z"
    assert utc_timestamp().endswith("Z")
