"""A small round-robin HTTP proxy (the tests' own): each request goes to the next backend, with
the client's Host header kept, so the links a server puts in its answers point at the proxy."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import Response

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "upgrade"}


class RoundRobin:
    """An ASGI app forwarding request ``n`` to ``backends[n % len(backends)]``."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self.sent = [0] * len(backends)
        self._next = itertools.cycle(range(len(backends)))
        # No kept-alive connections: none is left open in the server thread's loop at the end.
        self._client = httpx.AsyncClient(
            timeout=60, limits=httpx.Limits(max_keepalive_connections=0)
        )

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        index = next(self._next)
        self.sent[index] += 1
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
        upstream = await self._client.request(
            request.method,
            self.backends[index] + request.url.path,
            params=request.url.query or None,
            headers=headers,
            content=await request.body(),
        )
        response = Response(
            upstream.content,
            status_code=upstream.status_code,
            headers={k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP},
        )
        await response(scope, receive, send)
