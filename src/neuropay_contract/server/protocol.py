"""The sandbox's HTTP/1.1 protocol: uvicorn's httptools protocol with the limits a server on a
network needs, and its own refusals in the API's error envelope.

uvicorn answers malformed HTTP with ``text/plain``, keeps reading a header of any size (a 128 MB
header grew the server by 150 MB) and waits forever for headers that never finish. Here:
malformed requests get ``400 invalid_request`` as JSON, request heads over
:data:`MAX_HEAD_BYTES` get the same, and a connection whose request head has not arrived
within :data:`HEAD_TIMEOUT_S` is closed.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any
from urllib.parse import unquote

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEAD_BYTES = 64 * 1024
HEAD_TIMEOUT_S = 10.0


# The scope extension through which the app learns that a request's body is all in memory.
BODY_BUFFERED = "neuropay.body_buffered"


def body_buffered(scope: Any) -> bool:
    """Whether the whole request body has already arrived, so reading it cannot wait (only our
    protocol knows; under another server the app times its reads as usual)."""
    probe = (scope.get("extensions") or {}).get(BODY_BUFFERED)
    return probe is not None and bool(probe())


def envelope_bytes(
    status: int, reason: str, code: str, message: str, allow: str | None = None
) -> bytes:
    """A complete HTTP/1.1 answer with the error envelope, closing the connection."""
    body = json.dumps({"error": {"code": code, "message": message, "param": None}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        + (f"allow: {allow}\r\n" if allow else "")
        + "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
MAX_LINE_BYTES = 8192  # the longest request line read again to tell an unknown method
# RFC 9110: method = token; origin-form target; HTTP/1.x
_REQUEST_LINE = re.compile(
    rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+) (/[^ ?#\x00-\x20]*)(?:\?[^ ]*)? HTTP/1\.[01]\r?\n"
)


def _extension_method(start: bytes) -> tuple[str | None, str | None]:
    """(method, path) when ``start`` begins with a valid request line, else (None, None)."""
    match = _REQUEST_LINE.match(start)
    if match is None or not _unknown_to_parser(match.group(0)):
        return None, None
    return match.group(1).decode("ascii"), unquote(match.group(2).decode("latin-1"))


def _unknown_to_parser(line: bytes) -> bool:
    """Whether httptools refuses this request line for its method alone (the refusal being
    about something else: a bad header, a bad Content-Length)."""

    class _Ignore:
        pass

    try:
        httptools.HttpRequestParser(_Ignore()).feed_data(line + b"Host: h\r\n\r\n")
    except httptools.HttpParserInvalidMethodError:
        return True
    except httptools.HttpParserError:
        return False
    return False


def _api_paths(app: Any) -> frozenset[str]:
    """The API's operation paths of the served app, through the middleware wrapping it."""
    for _ in range(8):
        paths = getattr(app, "api_paths", None)
        if isinstance(paths, frozenset):
            return paths
        app = getattr(app, "app", None)
        if app is None:
            break
    return frozenset()


class _CorkedTransport:
    """The transport as one response sees it: the head is held until the first body write, so
    the two leave in one send (uvicorn writes them separately: two syscalls and two TCP
    segments per answer, for us and for the client)."""

    __slots__ = ("_head", "_transport")

    def __init__(self, transport: Any) -> None:
        self._transport = transport
        self._head: bytes | None = None

    def write(self, data: bytes) -> None:
        if self._head is None:
            if data != _CONTINUE:  # the interim answer is not the head
                self._head = data
                return
        elif self._head:
            data, self._head = self._head + data, b""
        self._transport.write(data)

    def flush(self) -> None:
        """Send a held head now: an answer without a body (to HEAD) writes none to carry it."""
        if self._head:
            self._transport.write(self._head)
            self._head = b""

    def close(self) -> None:
        if self._head:
            self._transport.write(self._head)
            self._head = b""
        self._transport.close()

    def is_closing(self) -> bool:
        return bool(self._transport.is_closing())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class SandboxProtocol(HttpToolsProtocol):
    """httptools with a bounded, timed request head and enveloped protocol errors."""

    max_head_bytes = MAX_HEAD_BYTES
    head_timeout_s = HEAD_TIMEOUT_S

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._in_head = True
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_since: float | None = None  # when the wait for the current head began
        self._line = b""  # the start of the current message (its request line)
        self._reading_line = True  # until the head is complete

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        in_head = self._in_head
        if self._reading_line and len(self._line) < MAX_LINE_BYTES:  # for send_400_response
            self._line += data[: MAX_LINE_BYTES - len(self._line)]
        super().data_received(data)
        # Count what went into a head that is still unfinished (a chunk that also completes the
        # head carries body bytes, which the body limit counts).
        if in_head and self._in_head and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > self.max_head_bytes:
                self._refuse(f"The request line and headers exceed {self.max_head_bytes} bytes.")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head, self._head_bytes = True, 0

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._line, self._reading_line = b"", True  # the next message starts its own line

    def on_headers_complete(self) -> None:
        self._in_head = self._reading_line = False
        self._cancel_head_timer()
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is not None:
            cycle.transport = _CorkedTransport(cycle.transport)  # type: ignore[assignment]
            # uvicorn buffers the body in the cycle and clears more_body at the message's end.
            extensions: dict[str, Any] = self.scope.setdefault("extensions", {})
            extensions[BODY_BUFFERED] = lambda: not cycle.more_body and not cycle.disconnected

    def on_response_complete(self) -> None:
        cycle = self.cycle
        if cycle is not None and isinstance(cycle.transport, _CorkedTransport):
            cycle.transport.flush()
        super().on_response_complete()
        if not self.transport.is_closing():  # a keep-alive connection: the next head is timed
            self._arm_head_timer()

    def send_400_response(self, msg: str) -> None:
        method, path = _extension_method(self._line)
        if method is not None and path is not None:
            # A well-formed request with a method the parser does not know (llhttp knows a
            # fixed list): still HTTP, so answered like any other method, path first.
            if path in _api_paths(self.app):
                message = f"{path} only takes POST."
                self._refuse(message, 405, "Method Not Allowed", "method_not_allowed", "POST")
            else:
                self._refuse(f"No such path {path}.", 404, "Not Found", "not_found")
            return
        self._refuse(f"The request is not valid HTTP/1.1 ({msg.rstrip('.')}).")

    def _refuse(
        self,
        message: str,
        status: int = 400,
        reason: str = "Bad Request",
        code: str = "invalid_request",
        allow: str | None = None,
    ) -> None:
        self._cancel_head_timer()
        if not self.transport.is_closing():
            self.transport.write(envelope_bytes(status, reason, code, message, allow))
            self.transport.close()

    # The wait for a head is timed lazily: one timer per connection, which on firing checks
    # how long the current wait has lasted and sleeps again for the rest. Arming and cancelling
    # (twice per request on a keep-alive connection) only note a time.
    def _arm_head_timer(self) -> None:
        self._head_since = self.loop.time()
        if self._head_timer is None:
            self._head_timer = self.loop.call_at(
                self._head_since + self.head_timeout_s, self._head_timed_out
            )

    def _cancel_head_timer(self) -> None:
        self._head_since = None

    def _stop_head_timer(self) -> None:
        self._head_since = None
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        since = self._head_since
        if since is None or self.transport.is_closing():
            return  # no head awaited now; the next wait arms the timer again
        due = since + self.head_timeout_s
        if self.loop.time() < due:  # a later wait: sleep for the rest of it
            self._head_timer = self.loop.call_at(due, self._head_timed_out)
            return
        if self._in_head or self.cycle is None or self.cycle.response_complete:
            self.transport.close()  # a client that never finishes its headers holds nothing
