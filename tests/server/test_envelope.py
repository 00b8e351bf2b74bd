"""Every error answer neuropay writes comes from one builder (``envelope.error_answer``): the
API's refusals, the operation's own 404, the 404 and 405 of other paths and methods, the 401
with its challenge, the HTTP-layer refusals written on the raw socket, and the proxy's own
answers. Each is read from a raw socket here and must be byte for byte what the builder makes
of its status, code, message and param: same key order, separators, escaping and headers."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from neuropay_contract.envelope import BEARER_CHALLENGE, error_answer
from neuropay_contract.server import RunningServer, serve_app, start_server
from neuropay_contract.spec import load_spec
from neuropay_contract.traffic.checker import TrafficChecker
from neuropay_contract.traffic.proxy import ValidatingProxy


@pytest.fixture(scope="module")
def server() -> Iterator[RunningServer]:
    with start_server() as running:
        yield running


def _raw(url: str, data: bytes) -> tuple[int, dict[str, str], bytes]:
    """(status, headers with lower-case names, body) of the answer to ``data`` on a new
    connection (read until the server closes it)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


def _request(method: str, path: str, body: bytes = b"", **headers: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: x", "Connection: close"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _assert_built_by_the_builder(
    status: int, headers: dict[str, str], body: bytes, allow: str | None = None
) -> str:
    """The answer is exactly what ``error_answer`` builds from its own parts; its code."""
    error = json.loads(body)["error"]
    assert list(json.loads(body)) == ["error"] and list(error) == ["code", "message", "param"]
    built = error_answer(status, error["code"], error["message"], error["param"], allow=allow)
    assert body == built.body
    assert headers["content-type"] == "application/json"
    for name, value in built.headers.items():
        assert headers[name] == value, name
    return str(error["code"])


KEYED = {"Authorization": "Bearer {key}", "Content_Type": "application/json"}

# (kind, method, path, body, headers ({key}: the test key), status, code, Allow)
KINDS: list[tuple[str, str, str, bytes, dict[str, str], int, str, str | None]] = [
    ("schema", "POST", "/checkout/create", b"{}", KEYED, 400, "invalid_request", None),
    ("json", "POST", "/checkout/create", b"{", KEYED, 400, "invalid_json", None),
    ("no-key", "POST", "/checkout/create", b"{}", {}, 401, "missing_api_key", None),
    ("bad-key", "POST", "/checkout/create", b"{}", {"Authorization": "Basic x"}, 401,
     "invalid_api_key", None),
    ("size", "POST", "/checkout/create", b"[" * 70_000, KEYED, 413, "payload_too_large", None),
    ("media", "POST", "/checkout/create", b"{}", {**KEYED, "Content_Type": "text/plain"}, 415,
     "unsupported_media_type", None),
    ("operation-404", "POST", "/checkout/retrieve", b'{"checkout_id": "' + b"0" * 32 + b'"}',
     KEYED, 404, "checkout_not_found", None),
    ("unknown-path", "POST", "/nowhere", b"", {}, 404, "not_found", None),
    ("api-method", "GET", "/checkout/create", b"", {}, 405, "method_not_allowed", "POST"),
    ("page-method", "POST", "/docs", b"", {}, 405, "method_not_allowed", "GET, HEAD"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "status", "code", "allow"),
    [k[1:] for k in KINDS],
    ids=[k[0] for k in KINDS],
)
def test_the_servers_refusals_come_from_the_builder(
    server: RunningServer,
    method: str,
    path: str,
    body: bytes,
    headers: dict[str, str],
    status: int,
    code: str,
    allow: str | None,
) -> None:
    sent = {
        name.replace("_", "-"): value.format(key=server.test_key) for name, value in headers.items()
    }
    response = httpx.request(method, server.url + path, content=body, headers=sent, timeout=10)
    got, answer_headers, answer = response.status_code, dict(response.headers), response.content
    assert got == status
    assert _assert_built_by_the_builder(got, answer_headers, answer, allow) == code
    if status == 401:
        assert answer_headers["www-authenticate"] == BEARER_CHALLENGE
    if allow is not None:
        assert answer_headers["allow"] == allow


@pytest.mark.parametrize(
    "data",
    [
        b"POST /checkout/create HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"GET /docs HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n",
        b"NOT HTTP AT ALL\r\n\r\n",
    ],
    ids=["bad-content-length", "header-without-colon", "request-line"],
)
def test_the_http_layer_refusals_come_from_the_builder(server: RunningServer, data: bytes) -> None:
    status, headers, body = _raw(server.url, data)
    assert status == 400
    assert _assert_built_by_the_builder(status, headers, body) == "invalid_request"
    assert headers["connection"] == "close"


def test_the_proxys_own_answers_come_from_the_builder(server: RunningServer) -> None:
    """A target that does not answer (502) and an enforced refusal (415) are the same envelope."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{unused.getsockname()[1]}"  # bound, never listening
        proxy = ValidatingProxy(TrafficChecker(load_spec()), dead, "report", None)
        with serve_app(proxy, lifespan="on") as url:
            status, headers, body = _raw(url, _request("POST", "/checkout/create", b"{}"))
    assert status == 502
    assert _assert_built_by_the_builder(status, headers, body) == "internal_error"

    enforcing = ValidatingProxy(TrafficChecker(load_spec()), server.url, "enforce", None)
    with serve_app(enforcing, lifespan="on") as url:
        keyed = {"Authorization": f"Bearer {server.test_key}", "Content_Type": "text/plain"}
        status, headers, body = _raw(url, _request("POST", "/checkout/create", b"{}", **keyed))
        assert status == 415
        assert _assert_built_by_the_builder(status, headers, body) == "unsupported_media_type"
        status, headers, body = _raw(url, _request("GET", "/checkout/create"))
        assert (status, headers["allow"]) == (405, "POST")
        _assert_built_by_the_builder(status, headers, body, allow="POST")
