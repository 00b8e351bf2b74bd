"""Serve an ASGI app with uvicorn in a background thread on a loopback port (tests, the suite)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import uvicorn

from ..errors import NeuropayError
from ..spec import ApiSpec
from .keys import ApiKey
from .protocol import SandboxProtocol


@contextmanager
def serve_app(
    app: Any,
    host: str = "127.0.0.1",
    port: int = 0,
    lifespan: Literal["on", "off"] = "off",
    http: Any = None,
) -> Iterator[str]:
    """Serve ``app`` until the block ends; yields its base URL (``http://127.0.0.1:PORT``).
    ``lifespan="on"`` for apps that hold resources to release at shutdown (the proxy's pool);
    ``http`` another uvicorn HTTP protocol class than the sandbox's (the catalog's faults)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise NeuropayError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    bound_port = sock.getsockname()[1]
    # "error": fuzzers send malformed HTTP on purpose, and the embedded target's warnings about
    # it would bury the suite's own output.
    config = uvicorn.Config(
        app,
        log_level="error",
        access_log=False,
        lifespan=lifespan,
        timeout_graceful_shutdown=2,
        http=http or SandboxProtocol,
        ws="none",  # no WebSocket: an Upgrade request is an ordinary request here
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise NeuropayError(f"the server on {host}:{bound_port} did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@dataclass
class RunningServer:
    """A reference server serving on loopback, with the keys it accepts."""

    url: str
    keys: list[ApiKey]
    app: Any = field(repr=False)

    def _key(self, merchant_index: int, mode: str) -> str:
        merchants: list[str] = []
        for key in self.keys:
            if key.merchant not in merchants:
                merchants.append(key.merchant)
        merchant = merchants[merchant_index] if merchant_index < len(merchants) else None
        for key in self.keys:
            if key.merchant == merchant and key.mode == mode:
                return key.key
        raise NeuropayError(f"the server has no {mode} key for merchant #{merchant_index + 1}")

    @property
    def test_key(self) -> str:
        return self._key(0, "test")

    @property
    def second_test_key(self) -> str:
        return self._key(1, "test")

    @property
    def live_key(self) -> str:
        return self._key(0, "live")

    @property
    def same_merchant_test_key(self) -> str | None:
        """Another test key of the first merchant, if the server has one."""
        from .keys import same_merchant_key

        return same_merchant_key(self.keys)


@contextmanager
def start_server(
    db_path: str | Path = ":memory:",
    api_keys: Sequence[ApiKey] | None = None,
    spec: ApiSpec | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    public_url: str | None = None,
    frame_ancestors: Sequence[str] = (),
) -> Iterator[RunningServer]:
    """Run the reference server until the block ends (see :func:`create_app` for the keys)."""
    from .app import create_app

    app = create_app(
        spec, db_path, api_keys, public_url=public_url, frame_ancestors=frame_ancestors
    )
    try:
        with serve_app(app, host, port) as url:
            yield RunningServer(url, list(app.state.keys), app)
    finally:
        app.state.store.close()
