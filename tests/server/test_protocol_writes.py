"""The sandbox's HTTP protocol under a recording transport: one send per answer, and the app
told when a request's body is already all in memory (so it reads it without a timer)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import uvicorn
from uvicorn.server import ServerState

from neuropay_contract.server import create_app, key_triplet
from neuropay_contract.server.protocol import SandboxProtocol, body_buffered

from ._helpers import run_async


class RecordingTransport:
    """What uvicorn needs of a socket transport, keeping every write."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 40000)}.get(
            name, default
        )

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def set_write_buffer_limits(self, *args: Any, **kwargs: Any) -> None: ...


def _protocol(app: Any) -> tuple[SandboxProtocol, RecordingTransport]:
    config = uvicorn.Config(app, http=SandboxProtocol, lifespan="off", log_level="error")
    config.load()
    protocol = SandboxProtocol(
        config=config, server_state=ServerState(), app_state={}, _loop=asyncio.get_running_loop()
    )
    transport = RecordingTransport()
    protocol.connection_made(transport)  # type: ignore[arg-type]
    return protocol, transport


def _request(key: str, body: bytes, headers: str = "") -> tuple[bytes, bytes]:
    head = (
        "POST /checkout/retrieve HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        f"authorization: Bearer {key}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n{headers}\r\n"
    ).encode()
    return head, body


async def _answered(transport: RecordingTransport, count: int) -> None:
    for _ in range(500):
        if (
            sum(w.count(b"HTTP/1.1 404") + w.count(b"HTTP/1.1 200") for w in transport.writes)
            >= count
        ):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"no answer: {transport.writes!r}")


def test_each_answer_leaves_in_one_write() -> None:
    app = create_app()
    key = key_triplet(app.state.keys)[0]

    async def scenario() -> RecordingTransport:
        protocol, transport = _protocol(app)
        for number in (1, 2):  # keep-alive: the second answer is held and sent whole too
            head, body = _request(key, json.dumps({"checkout_id": "0" * 32}).encode())
            protocol.data_received(head + body)
            await _answered(transport, number)
        return transport

    try:
        transport = run_async(scenario)
    finally:
        app.state.store.close()
    assert len(transport.writes) == 2, transport.writes  # head and body together, each time
    for write in transport.writes:
        head, _, body = write.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 404")
        assert json.loads(body)["error"]["code"] == "checkout_not_found"


def test_an_interim_100_continue_is_sent_at_once() -> None:
    app = create_app()
    key = key_triplet(app.state.keys)[0]

    async def scenario() -> RecordingTransport:
        protocol, transport = _protocol(app)
        head, body = _request(
            key, json.dumps({"checkout_id": "0" * 32}).encode(), "expect: 100-continue\r\n"
        )
        protocol.data_received(head)
        for _ in range(200):
            if transport.writes:
                break
            await asyncio.sleep(0.01)
        assert transport.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
        protocol.data_received(body)
        await _answered(transport, 1)
        return transport

    try:
        transport = run_async(scenario)
    finally:
        app.state.store.close()
    assert len(transport.writes) == 2


@pytest.mark.parametrize("whole", [True, False])
def test_the_app_knows_when_the_body_is_all_there(whole: bool) -> None:
    seen: list[bool] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(body_buffered(scope))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def scenario() -> None:
        protocol, transport = _protocol(app)
        head, body = _request("k", b'{"a": 1}')
        protocol.data_received(head + (body if whole else body[:3]))
        await _answered(transport, 1)

    run_async(scenario)
    assert seen == [whole]
