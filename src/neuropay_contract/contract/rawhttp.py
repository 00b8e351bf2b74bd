"""Exchanges over a raw socket: requests no HTTP client would send (a malformed request line, a
``Content-Length`` that is no number, a header line without a colon), to see how the target's
HTTP layer refuses them. The answer is read until the target closes or the timeout passes."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..results import Step
from .client import Recorder

MAX_ANSWER_BYTES = 1 << 20  # a target answering more than this is cut (the head is what counts)


@dataclass
class RawAnswer:
    """What came back: the status (None when nothing parseable came), headers, body."""

    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


def parse_answer(raw: bytes) -> RawAnswer:
    """An HTTP/1.x answer from its bytes (Content-Length honoured; chunked bodies unwrapped)."""
    head, sep, rest = raw.partition(b"\r\n\r\n")
    if not sep:
        return RawAnswer(None, body=raw)
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = headers.get("content-length", "")
    if length.isdigit():
        rest = rest[: int(length)]
    elif "chunked" in headers.get("transfer-encoding", "").lower():
        rest = _unchunk(rest)
    return RawAnswer(status, headers, rest)


def _unchunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, sep, data = data.partition(b"\r\n")
        try:
            size = int(size_line.split(b";")[0], 16)
        except ValueError:
            break
        if not sep or size == 0:
            break
        out += data[:size]
        data = data[size + 2 :]
    return bytes(out)


def exchange(base_url: str, raw: bytes, timeout: float, recorder: Recorder | None) -> RawAnswer:
    """Send ``raw`` to the target of ``base_url`` and read the answer; the exchange is recorded
    (its request as text) so a failure shows what was sent."""
    parts = urlsplit(base_url)
    if parts.scheme != "http":
        raise ValueError("raw exchanges are sent over plain TCP: the target must be http://")
    port = parts.port or 80
    observer = recorder.observer if recorder is not None else None
    if observer is not None:
        observer.begin()
    try:
        answer, started = _send(parts.hostname or "127.0.0.1", port, raw, timeout)
    except OSError:
        if observer is not None:
            observer.end(None)
        raise
    if recorder is not None:
        _record(recorder, base_url, raw, answer, started)
    if observer is not None:
        from .answers import Answer
        from .differential import Exchange

        seen = None if answer.status is None else Answer(answer.status, answer.headers, answer.body)
        observer.end(Exchange("RAW", "", {}, None, None, seen, raw=raw))
    return answer


def _send(host: str, port: int, raw: bytes, timeout: float) -> tuple[RawAnswer, float]:
    started = time.perf_counter()
    received = bytearray()
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(raw)
        deadline = time.monotonic() + timeout
        while len(received) < MAX_ANSWER_BYTES and time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            except OSError:  # reset after the answer: what arrived is the answer
                break
            if not chunk:
                break
            received += chunk
            if _complete(bytes(received)):
                break
    return parse_answer(bytes(received)), started


def _record(
    recorder: Recorder, base_url: str, raw: bytes, answer: RawAnswer, started: float
) -> None:
    """The exchange as a step (its request as text), so a failure shows what was sent."""
    parsed = answer.json()
    recorder.record(
        Step(
            method="RAW",
            url=base_url,
            request_body=raw.decode("latin-1")[:2000],
            status=answer.status,
            response_headers={
                k: v for k, v in answer.headers.items() if k in ("content-type", "connection")
            },
            response_body=parsed
            if parsed is not None
            else answer.body.decode("utf-8", "replace")[:2000],
            elapsed_ms=round((time.perf_counter() - started) * 1000, 2),
        )
    )


def _complete(data: bytes) -> bool:
    """Whether a whole answer with a Content-Length has arrived (no need to wait for the close)."""
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return len(rest) >= int(value.strip())
    return False
