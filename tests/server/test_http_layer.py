"""The HTTP layer under hostile clients: unusual methods and malformed HTTP answered with the
error envelope, a bounded request head, bodies and heads that stall time out, and hundreds of
stalled connections do not lock out a normal client."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from neuropay_contract.server import RunningServer, start_server
from neuropay_contract.server.protocol import SandboxProtocol

from ._helpers import api, create


@pytest.fixture(scope="module")
def shared() -> Iterator[RunningServer]:
    with start_server() as running:
        running.app.state.handler.body_timeout_s = 0.5
        yield running


def raw(server: RunningServer, data: bytes, wait: float = 5.0) -> bytes:
    """Send ``data`` on a new connection; what came back before the server closed it."""
    parts = urlsplit(server.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=wait) as sock:
        sock.sendall(data)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except (TimeoutError, ConnectionResetError):
            pass
        return received


def envelope(answer: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head.lower(), answer[:300]
    return int(head.split()[1]), json.loads(body)["error"]


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND", "PATCH", "PUT"])
def test_any_method_gets_the_envelope(shared: RunningServer, method: str) -> None:
    with httpx.Client(base_url=shared.url) as client:
        api_path = client.request(method, "/checkout/create")
        assert api_path.status_code == 405 and api_path.headers["allow"] == "POST"
        assert api_path.json()["error"]["code"] == "method_not_allowed"
        page = client.request(method, "/docs")
        assert page.status_code == 405 and page.json()["error"]["code"] == "method_not_allowed"
        unknown = client.request(method, "/nowhere")
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"


def test_head_and_unknown_methods_are_answered(shared: RunningServer) -> None:
    """HEAD gets its 405 head (the body-less answer is not held back), and a method the HTTP
    parser does not know is answered like any other: 405 on an operation's path, 404 elsewhere."""
    head = raw(shared, b"HEAD /checkout/create HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 405") and b"\r\nallow: POST\r\n" in head
    answer = raw(shared, b"NEUROPAY-PROBE /checkout/create HTTP/1.1\r\nHost: x\r\n\r\n")
    status, error = envelope(answer)
    assert (status, error["code"]) == (405, "method_not_allowed") and b"allow: POST" in answer
    status, error = envelope(raw(shared, b"NEUROPAY-PROBE /nowhere HTTP/1.1\r\nHost: x\r\n\r\n"))
    assert (status, error["code"]) == (404, "not_found")
    docs = raw(shared, b"NEUROPAY-PROBE /docs HTTP/1.1\r\nHost: x\r\n\r\n")  # the app routes it
    assert envelope(docs)[0] == 405 and b"allow: GET" in docs


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"POST /checkout/create HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"POST /checkout/create HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"GET /docs HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
        b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /docs HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 200_000 + b"\r\n\r\n",
        b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
    ],
    ids=[
        "bad-content-length",
        "length-and-chunked",
        "header-without-colon",
        "70kb-path",
        "200kb-header",
        "connect",
    ],
)
def test_malformed_or_oversized_http_gets_the_envelope(
    shared: RunningServer, request_bytes: bytes
) -> None:
    status, error = envelope(raw(shared, request_bytes))
    assert status == 400 and error["code"] == "invalid_request"


def test_a_stalled_body_times_out_and_frees_the_connection(shared: RunningServer) -> None:
    head = (
        "POST /checkout/create HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {shared.test_key}\r\nContent-Length: 100\r\n\r\n"
    )
    started = time.monotonic()
    status, error = envelope(raw(shared, head.encode() + b'{"amount"'))
    assert time.monotonic() - started < 4
    assert status == 400 and "stopped arriving" in str(error["message"])


def test_a_head_that_never_ends_is_closed(
    shared: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SandboxProtocol, "head_timeout_s", 0.5)
    started = time.monotonic()
    assert raw(shared, b"GET /docs HTTP/1.1\r\nHost: x\r\n") == b""
    assert time.monotonic() - started < 4


def test_a_second_head_that_never_ends_is_timed_from_its_own_start(
    shared: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a keep-alive connection the wait for each head is timed from when it began: a
    request answered just before the timer fires does not let the next stalled head stay."""
    monkeypatch.setattr(SandboxProtocol, "head_timeout_s", 0.6)
    parts = urlsplit(shared.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        time.sleep(0.4)  # most of the first wait used up
        sock.sendall(b"GET /openapi.json HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /docs HTTP/1.1\r\nHost: x\r\n")  # a head that never ends
        opened = time.monotonic()
        try:
            while sock.recv(65536):
                pass
        except (TimeoutError, ConnectionResetError):
            pass
        waited = time.monotonic() - opened
    assert 0.4 < waited < 3, waited  # closed, and not at the first wait's deadline


def test_three_hundred_stalled_connections_do_not_lock_out_a_client(
    shared: RunningServer,
) -> None:
    parts = urlsplit(shared.url)
    stalled = []
    try:
        for index in range(300):
            sock = socket.create_connection((parts.hostname, parts.port), timeout=5)
            if index % 2:  # half stop inside the head, half inside a body
                sock.sendall(b"GET /docs HTTP/1.1\r\nHost: x\r\n")
            else:
                sock.sendall(
                    b"POST /checkout/create HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n"
                    b"Content-Type: application/json\r\n\r\n{"
                )
            stalled.append(sock)
        started = time.monotonic()
        with api(shared.url, shared.test_key) as client:
            assert create(client)["status"] == "created"
        assert time.monotonic() - started < 3
    finally:
        for sock in stalled:
            sock.close()


def test_a_websocket_upgrade_is_an_ordinary_request(shared: RunningServer) -> None:
    answer = raw(
        shared,
        b"POST /nowhere HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\n"
        b"Content-Length: 0\r\n\r\n",
    )
    status, error = envelope(answer)
    assert status == 404 and error["code"] == "not_found"


@pytest.mark.parametrize("method", ["FOO", "X-CUSTOM", "BREW", "patch2", "A.B~C"])
def test_extension_methods_on_an_operation_path_answer_405_with_allow(
    shared: RunningServer, method: str
) -> None:
    """Any token is a method to HTTP (RFC 9110 9.1), not a malformed request: one the parser
    does not know answers like PATCH does: 405 with Allow."""
    headers = {"Authorization": f"Bearer {shared.test_key}"}
    for path in ("/checkout/create", "/checkout/refund"):
        answer = httpx.request(method, shared.url + path, headers=headers, json={}, timeout=10)
        assert answer.status_code == 405, answer.text
        assert answer.headers["allow"] == "POST"
        assert answer.json()["error"]["code"] == "method_not_allowed"
    garbage = raw(shared, b"F(O)O /checkout/create HTTP/1.1\r\nHost: x\r\n\r\n")
    assert garbage.startswith(b"HTTP/1.1 400 ")  # not a token: still malformed
