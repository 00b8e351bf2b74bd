"""The validating reverse proxy: forwards every request and answer unchanged (streamed, holding at
most a bounded prefix of each body for the checks) and checks each exchange once it is complete."""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import AsyncIterator, Callable
from typing import IO

import httpx
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HEADER_RE, HEADER_VALUE_RE, STATUS_LINE

from ..envelope import ErrorAnswer, error_answer
from ..untrusted import visible
from ..wellformed import utc_timestamp
from .checker import TrafficChecker
from .exchange import (
    Exchange,
    KeyLabels,
    clean_headers,
    object_of,
    redact_text,
    repeated_headers,
)
from .findings import Finding

# Per-hop headers (RFC 9110 7.6.1) are the proxy's own; every other header passes unchanged.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
    }
)
# How much of each body is kept for the checks: the spec's limit plus room to see it was passed
# (requests), or enough for any answer of this API (responses). The rest streams through unseen.
HOP_BY_HOP_BYTES = frozenset(name.encode("ascii") for name in HOP_BY_HOP)
RESPONSE_KEEP = 1 << 20
POOLS = 4
POOL_SIZE = 16


class _Kept:
    """A body prefix kept while the whole body streams through."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[bytes] = []
        self.size = 0
        self.truncated = False

    def add(self, chunk: bytes) -> None:
        room = self.limit - self.size
        if room > 0:
            self.parts.append(chunk[:room])
        if len(chunk) > room:
            self.truncated = True
        self.size += len(chunk)

    def bytes(self) -> bytes:
        return b"".join(self.parts)


class ValidatingProxy:
    """An ASGI app forwarding to ``target`` and feeding each exchange to ``checker``."""

    def __init__(
        self,
        checker: TrafficChecker,
        target: str,
        mode: str = "report",
        record: IO[str] | None = None,
        log: Callable[[str], None] | None = None,
        timeout: float = 30.0,
        sink: Callable[[Exchange], None] | None = None,
    ) -> None:
        self.checker = checker
        self.target = target.rstrip("/")
        self.enforce = mode == "enforce"
        self.record = record
        self.log = log
        # Where finished exchanges go when they are checked elsewhere (the checking process).
        self.sink = sink
        spec = checker.spec
        self.labels = KeyLabels(spec.test_mode.key_prefixes if spec.test_mode else None)
        self.request_keep = spec.max_body_bytes + 1
        self.completed = 0
        self.forwarded = 0
        # Exchanges in flight per object id, to mark those that overlap. An exchange leaves
        # only when it is handed to the checker, so the checker never sees two exchanges out of
        # the server's order without both being marked.
        self.in_flight: dict[str, list[Exchange]] = {}
        self._targets: dict[int, str] = {}
        # Several small pools, not one large: httpcore looks at every pooled connection (a
        # poll() each) to place each request, so its cost grows with the pool's size.
        self.clients = [
            httpx.AsyncClient(
                timeout=httpx.Timeout(timeout),
                limits=httpx.Limits(max_connections=POOL_SIZE, max_keepalive_connections=POOL_SIZE),
                follow_redirects=False,
            )
            for _ in range(POOLS)
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        """Close the connection pool to the target inside the serving loop, before it ends."""
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for client in self.clients:
                    await client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        stamp = utc_timestamp(timespec="milliseconds")
        kept = _Kept(self.request_keep)
        stream = request.stream()
        # Read up to the kept prefix first (enforce mode judges the request before forwarding);
        # the chunks read so far go out whole, then the rest streams.
        read: list[bytes] = []
        async for chunk in stream:
            kept.add(chunk)
            read.append(chunk)
            if kept.truncated:
                break
        pairs = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.scope["headers"]]
        auth, label, mode = self.labels.classify(
            [v for k, v in pairs if k.lower() == "authorization"]
        )
        query = request.url.query
        path = request.url.path + (f"?{query}" if query else "")
        exchange = Exchange(
            index=0,
            method=request.method,
            url=self.target + path,
            request_headers=clean_headers(pairs, label),
            repeated_headers=repeated_headers(pairs, label),
            request_body=kept.bytes(),
            request_truncated=kept.truncated,
            started=stamp,
            auth=auth,
            key_label=label,
            key_mode=mode,
        )
        target = object_of(exchange.request_body)
        if target is not None:
            self._targets[id(exchange)] = target
            flying = self.in_flight.setdefault(target, [])
            flying.append(exchange)
            if len(flying) > 1:
                for other in flying:
                    other.overlapped = True
        try:
            return await self._forward(request, exchange, kept, read, stream, path, started, pairs)
        except BaseException:
            self._leave(exchange)
            raise

    def _leave(self, exchange: Exchange) -> None:
        """The exchange is no longer in flight (idempotent)."""
        target = self._targets.pop(id(exchange), None)
        if target is None:
            return
        flying = self.in_flight[target]
        flying.remove(exchange)
        if not flying:
            del self.in_flight[target]

    async def _forward(
        self,
        request: Request,
        exchange: Exchange,
        kept: _Kept,
        read: list[bytes],
        stream: AsyncIterator[bytes],
        path: str,
        started: float,
        pairs: list[tuple[str, str]],
    ) -> Response:
        """Answer ``exchange`` itself (enforce mode) or forward it and relay the answer."""
        if self.enforce:
            refusal = self._refusal(exchange)
            if refusal is not None:
                exchange.status = refusal.status
                exchange.response_headers = dict(refusal.headers)
                exchange.response_body = refusal.body
                exchange.elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
                exchange.answered_by_proxy = True
                self._complete(exchange)
                return _answer(refusal)

        async def rest() -> AsyncIterator[bytes]:
            for chunk in read:
                yield chunk
            async for chunk in stream:
                yield chunk

        headers = [(k, v) for k, v in pairs if k.lower() not in HOP_BY_HOP]
        self.forwarded += 1
        client = self.clients[self.forwarded % POOLS]
        upstream_request = client.build_request(
            request.method,
            self.target + path,
            headers=headers,
            content=exchange.request_body if not kept.truncated else rest(),
        )
        try:
            upstream = await client.send(upstream_request, stream=True)
        except httpx.HTTPError as exc:
            exchange.error = f"{type(exc).__name__}: {exc}"[:300]
            exchange.elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
            self._complete(exchange)
            message = f"neuropay proxy: the target did not answer ({exchange.error})"
            return _answer(error_answer(502, "internal_error", message))
        problem = unrelayable(upstream.status_code, upstream.headers.raw)
        if problem is not None:
            # Relaying it would end the client's connection without an answer (uvicorn refuses
            # to write it): the client gets a 502 envelope, the report a finding on the server.
            await upstream.aclose()
            exchange.error = f"its answer is not valid HTTP: {problem}"
            exchange.elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
            self._complete(exchange)
            message = f"neuropay proxy: the target's answer is not valid HTTP ({problem})"
            return _answer(error_answer(502, "internal_error", message))
        # The raw bytes, relayed as they came: a header value outside latin-1 is the target's
        # business (and a finding), not a reason to fail the exchange.
        out_headers = [(k, v) for k, v in upstream.headers.raw if k.lower() not in HOP_BY_HOP_BYTES]
        received = _received_headers(upstream.headers.raw)
        length = upstream.headers.get("content-length", "")
        if length.isdigit() and int(length) <= RESPONSE_KEEP:
            # An answer of known, bounded size (every answer of this API): read it whole, send
            # it, and check the exchange after it is sent (no streaming machinery per answer).
            try:
                raw = b"".join([chunk async for chunk in upstream.aiter_raw()])
            except httpx.HTTPError as exc:
                raw, exchange.error = b"", f"answer cut off: {type(exc).__name__}"
            finally:
                await upstream.aclose()
            exchange.status = upstream.status_code
            exchange.response_headers = received
            exchange.response_body, exchange.response_truncated = _decoded(
                raw, upstream.headers.get("content-encoding")
            )
            exchange.elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
            whole = _Whole(raw, upstream.status_code, done=lambda: self._complete(exchange))
            whole.raw_headers = out_headers
            return whole
        answer = _Kept(RESPONSE_KEEP)

        async def relay() -> AsyncIterator[bytes]:
            try:
                async for chunk in upstream.aiter_raw():
                    answer.add(chunk)
                    yield chunk
            except httpx.HTTPError as exc:
                exchange.error = f"answer cut off: {type(exc).__name__}"
            finally:
                await upstream.aclose()
                exchange.status = upstream.status_code
                exchange.response_headers = received
                exchange.response_body, cut = _decoded(
                    answer.bytes(), upstream.headers.get("content-encoding")
                )
                exchange.response_truncated = answer.truncated or cut
                exchange.elapsed_ms = round((time.perf_counter() - started) * 1000, 2)
                self._complete(exchange)

        response = StreamingResponse(relay(), status_code=upstream.status_code)
        response.raw_headers = out_headers
        return response

    def _refusal(self, exchange: Exchange) -> ErrorAnswer | None:
        """The spec's answer to a request it refuses (enforce mode), or None to forward it."""
        if exchange.declared_expectation() is not None:
            return None  # a negative test: the server's own refusal is what it tests
        checked = self.checker.validator.check_request(exchange)
        if not checked.expectations:
            return None
        order = {step.name: i for i, step in enumerate(self.checker.spec.precedence)}
        first = min(checked.expectations, key=lambda e: order.get(e.step, len(order)))
        finding = next((f for f in checked.findings if f.side == "client"), None)
        message = finding.message if finding is not None else "the spec refuses this request"
        allowed = self.checker.validator.allowed_methods(exchange) if first.step == "method" else ()
        return error_answer(
            first.http,
            first.code or "invalid_request",
            f"neuropay proxy (enforce): {redact_text(message)}",
            allow=", ".join(allowed) or None,
        )

    def _complete(self, exchange: Exchange) -> list[Finding]:
        self._leave(exchange)
        self.completed += 1
        exchange.index = self.completed
        if self.sink is not None:
            self.sink(exchange)
            return []
        findings = self.checker.check(exchange)
        if self.record is not None:
            self.record.write(json.dumps(exchange.to_record(), ensure_ascii=False) + "\n")
            self.record.flush()
        if self.log is not None:
            for finding in findings:
                self.log(redact_text(finding.line()))
        return findings


class _Whole(Response):
    """A whole answer whose exchange is checked after it is sent, or after the client went
    away (a background task would be skipped then, and the exchange stay in flight)."""

    def __init__(self, content: bytes, status_code: int, done: Callable[[], object]) -> None:
        super().__init__(content, status_code=status_code)
        self.done = done

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.done()


def _answer(refusal: ErrorAnswer) -> Response:
    """The proxy's own answer, built like the reference server's (one envelope builder)."""
    return Response(refusal.body, status_code=refusal.status, headers=refusal.headers)


def unrelayable(status: int, headers: list[tuple[bytes, bytes]]) -> str | None:
    """Why the answer cannot be relayed as it is, by the rules of the protocol the proxy serves
    with (uvicorn's httptools writer): a status outside 100-599, a header name that is not a
    token, a header value with a control character. None when it can."""
    if status not in STATUS_LINE:
        return f"status {status} is outside 100-599"
    for name, value in headers:
        if not name or HEADER_RE.search(name):
            return f"the header name {visible(name.decode('latin-1'))!r} is not a token"
        if HEADER_VALUE_RE.search(value):
            return f"the header {visible(name.decode('latin-1'))} holds a control character"
    return None


def _received_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """The answer's headers as the checks and reports see them: bytes read as latin-1 (one
    character per byte, nothing lost), credentials redacted."""
    return clean_headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw)


_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def _decoded(raw: bytes, encoding: str | None, limit: int = RESPONSE_KEEP) -> tuple[bytes, bool]:
    """The body as the checks need it, and whether it was cut: gzip and deflate undone up to
    ``limit`` bytes (300 KB of gzip may hold gigabytes), other encodings left (then the answer
    is reported as not JSON rather than guessed at)."""
    wbits = _WBITS.get((encoding or "").strip().lower())
    if wbits is None:
        return raw, False
    inflater = zlib.decompressobj(wbits)
    try:
        body = inflater.decompress(raw, limit)
    except zlib.error:
        return raw, False
    return body, bool(inflater.unconsumed_tail)
