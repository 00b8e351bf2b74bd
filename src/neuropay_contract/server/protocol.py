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
import re
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from ..envelope import error_answer

MAX_HEAD_BYTES = 64 * 1024
HEAD_TIMEOUT_S = 10.0


# The scope extension through which the app learns that a request's body is all in memory.
BODY_BUFFERED = "neuropay.body_buffered"


def body_buffered(scope: Any) -> bool:
    """Whether the whole request body has already arrived, so reading it cannot wait (only our
    protocol knows; under another server the app times its reads as usual)."""
    probe = (scope.get("extensions") or {}).get(BODY_BUFFERED)
    return probe is not None and bool(probe())


_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
# RFC 9110: method = token. llhttp knows a fixed list of methods and refuses the others as
# malformed; such a request is HTTP all the same, so it is parsed with a stand-in method the app
# never takes and handed to the app with its own (405 on an API path, 404 elsewhere).
_METHOD = re.compile(rb"([!#$%&'*+.^_`|~0-9A-Za-z-]+) ")
_STAND_IN = b"PROPFIND"


def _unknown_to_parser(line: bytes) -> bool:
    """Whether httptools refuses this request line for its method alone."""

    class _Ignore:
        pass

    try:
        httptools.HttpRequestParser(_Ignore()).feed_data(line + b"Host: h\r\n\r\n")
    except httptools.HttpParserInvalidMethodError:
        return True
    except Exception:  # any other refusal (or CONNECT's upgrade) is not about the method
        return False
    return False


def stand_in_method(data: bytes) -> tuple[bytes, str | None]:
    """``data`` (the start of a message) with a method unknown to the parser replaced by a
    stand-in, and that method (None when the parser knows it, or the line is not all there)."""
    line, sep, _ = data.partition(b"\n")
    match = _METHOD.match(line)
    if not sep or match is None or not _unknown_to_parser(line + b"\n"):
        return data, None
    return _STAND_IN + data[match.end(1) :], match.group(1).decode("ascii")


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
        self._at_start = True  # the next bytes begin a message (its request line)
        self._real_method: str | None = None  # the method a stand-in replaced, if any

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        in_head = self._in_head
        if self._at_start:
            self._at_start = False
            data, self._real_method = stand_in_method(data)
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
        self._at_start = True  # (bytes of a pipelined next message in the same chunk are not)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._cancel_head_timer()
        super().on_headers_complete()
        if self._real_method is not None:  # the ASGI task has not run yet: it sees the real one
            self.scope["method"], self._real_method = self._real_method, None
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
        self._refuse(f"The request is not valid HTTP/1.1 ({msg.rstrip('.')}).")

    def _refuse(self, message: str) -> None:
        self._cancel_head_timer()
        if not self.transport.is_closing():
            answer = error_answer(400, "invalid_request", message, close=True)
            self.transport.write(answer.http11())
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
