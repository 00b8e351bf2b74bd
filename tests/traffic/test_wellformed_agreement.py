"""One table of hostile request bodies, fed to the reference server over HTTP and to the traffic
checker: for each, the checker predicts exactly the refusal the server gives (or none when the
server accepts), and blames the server for nothing. The rules live once, in
:mod:`neuropay_contract.wellformed`; before, the checker read ``1e999`` as infinity and blamed a
correct server with ``response.wrong-refusal``."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from neuropay_contract.server import (
    RunningServer,
    create_app,
    key_triplet,
    serve_app,
    start_server,
)
from neuropay_contract.spec import load_spec
from neuropay_contract.traffic.audit import audit_file
from neuropay_contract.traffic.validate import ExchangeValidator
from neuropay_contract.wellformed import (
    Credential,
    NotIJson,
    NotJson,
    RepeatedHeader,
    json_pointer,
    parse_json,
    read_authorization,
    read_credential,
    request_media_ok,
    single_header,
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


# Headers that take one value, sent on several lines: none is picked (wellformed.single_header,
# read_credential). "{key}" is the run's test key, "{ik}" a fresh Idempotency-Key.
BEARER = ("Authorization", "Bearer {key}")
REPEATED: list[tuple[str, list[tuple[str, str]], tuple[int, str | None]]] = [
    ("one-authorization", [BEARER], (200, None)),
    ("two-authorizations", [BEARER, BEARER], (401, "invalid_api_key")),
    ("two-authorizations-one-bad", [("Authorization", "Basic eA=="), BEARER],
     (401, "invalid_api_key")),
    ("two-blank-authorizations", [("Authorization", ""), ("Authorization", "")],
     (401, "invalid_api_key")),
    ("one-idempotency-key", [BEARER, ("Idempotency-Key", "{ik}-1")], (200, None)),
    ("two-idempotency-keys", [BEARER, ("Idempotency-Key", "{ik}-1"), ("Idempotency-Key", "{ik}-2")],
     (400, "invalid_request")),
    ("the-same-idempotency-key-twice",
     [BEARER, ("Idempotency-Key", "{ik}-1"), ("Idempotency-Key", "{ik}-1")],
     (400, "invalid_request")),
]  # fmt: skip


def _send_lines(url: str, key: str, lines: list[tuple[str, str]]) -> RecordingClient:
    client = RecordingClient(url, None)
    fresh = uuid.uuid4().hex
    sent = [(name, value.format(key=key, ik=fresh)) for name, value in lines]
    try:
        client.post(
            "/checkout/create", raw=create(), key=None, headers=[*sent, ("Content-Type", JSON)]
        )
    finally:
        client.close()
    return client


@pytest.mark.parametrize(
    ("lines", "answer"), [r[1:] for r in REPEATED], ids=[r[0] for r in REPEATED]
)
def test_server_and_checker_agree_on_repeated_headers(
    reference: RunningServer, lines: list[tuple[str, str]], answer: tuple[int, str | None]
) -> None:
    exchange = _send_lines(reference.url, reference.test_key, lines).exchanges[0]
    assert exchange.request_body and exchange.status is not None
    code = json.loads(exchange.response_body)["error"]["code"] if exchange.status >= 400 else None
    assert (exchange.status, code) == answer  # the table says what the server does
    checked = ExchangeValidator(load_spec()).check(exchange)
    assert [f.line() for f in checked.findings if f.side == "server"] == []
    predicted = [(e.http, e.code) for e in checked.expectations]
    assert predicted[:1] == ([] if code is None else [answer])


@pytest.mark.parametrize(
    ("fault", "lines", "rule"),
    [
        ("first-authorization-wins", [BEARER, BEARER], "auth.repeated-header"),
        (
            "first-idempotency-key-wins",
            [BEARER, ("Idempotency-Key", "{ik}-1"), ("Idempotency-Key", "{ik}-2")],
            "idempotency.repeated-header",
        ),
    ],
)
def test_a_server_that_picks_one_of_repeated_headers_is_flagged(
    fault: str, lines: list[tuple[str, str]], rule: str
) -> None:
    from tests.catalog.faults import FAULTS

    app = create_app()
    try:
        key = key_triplet(app.state.keys)[0]
        broken = next(f for f in FAULTS if f.name == fault).apply(app)
        with serve_app(broken) as url:
            exchange = _send_lines(url, key, lines).exchanges[0]
    finally:
        app.state.store.close()
    assert exchange.status == 200  # the broken server took it
    checked = ExchangeValidator(load_spec()).check(exchange)
    assert [(f.rule, f.side) for f in checked.findings] == [
        ("request.auth" if rule.startswith("auth") else "request.header", "client"),
        (rule, "server"),
    ]


def test_repeated_lines_survive_a_recording(reference: RunningServer, tmp_path: Path) -> None:
    """The proxy's JSON-lines recording keeps each line of a repeated header, so an audit of it
    judges the request as the live check did (the joined value alone could not tell)."""
    client = _send_lines(reference.url, reference.test_key, REPEATED[5][1])
    recorded = client.write(tmp_path / "repeated.jsonl")
    assert [(f.rule, f.side) for f in audit_file(recorded, None).findings] == [
        ("request.header", "client")
    ]


def test_single_header() -> None:
    assert single_header([]) is None
    assert single_header(["a"]) == "a"
    with pytest.raises(RepeatedHeader, match="2 headers"):
        single_header(["a", "a"])
    assert read_credential(["Bearer k", "Bearer k"]) == Credential("malformed", repeated=True)
    assert read_credential(["Bearer k"]) == Credential("bearer", "k")
    assert read_credential([]).state == "missing"
