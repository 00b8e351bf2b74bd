"""The error envelope: the body and headers of every answer other than 2xx that neuropay writes.

The one builder behind the reference server's API refusals, its 404 and 405 for other paths and
methods, the HTTP-layer refusals its protocol writes on the raw socket (a malformed request
line, a bad ``Content-Length``) and the proxy's own answers (``--mode enforce``, a target that
did not answer). Four hand-written copies once differed in separators, escaping and headers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TypedDict

__all__ = [
    "BEARER_CHALLENGE",
    "ErrorAnswer",
    "ErrorDetail",
    "ErrorEnvelope",
    "error_answer",
    "error_envelope",
]

# The challenge of every 401 (RFC 6750; the spec's WWWAuthenticate header).
BEARER_CHALLENGE = 'Bearer realm="neuropay"'


class ErrorDetail(TypedDict):
    """What went wrong: the spec's error code, a message for people, the offending field."""

    code: str
    message: str
    param: str | None


class ErrorEnvelope(TypedDict):
    """The body of every answer other than 2xx."""

    error: ErrorDetail


def _sendable(text: str | None) -> str | None:
    # A message or param quoting unencodable input (a lone surrogate) is still sent, escaped.
    return text.encode("utf-8", "backslashreplace").decode() if text else text


def error_envelope(code: str, message: str, param: str | None = None) -> ErrorEnvelope:
    """The envelope as data, its texts encodable whatever they quote."""
    return {"error": {"code": code, "message": _sendable(message) or "", "param": _sendable(param)}}


@dataclass(frozen=True)
class ErrorAnswer:
    """A complete error answer: status, headers (lower-case names) and the envelope's bytes."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def http11(self) -> bytes:
        """The answer as HTTP/1.1 bytes for a raw socket (the connection is then closed)."""
        try:
            reason = HTTPStatus(self.status).phrase
        except ValueError:  # a status without a registered phrase (the phrase is optional)
            reason = ""
        headers = {**self.headers, "content-length": str(len(self.body)), "connection": "close"}
        head = f"HTTP/1.1 {self.status} {reason}\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in headers.items()
        )
        return (head + "\r\n").encode("latin-1") + self.body


def error_answer(
    status: int,
    code: str,
    message: str,
    param: str | None = None,
    *,
    allow: str | None = None,
    close: bool = False,
) -> ErrorAnswer:
    """The answer ``status`` with the envelope of ``code``, ``message`` and ``param``: compact
    UTF-8 JSON typed ``application/json``, a 401 with the Bearer challenge, ``Allow`` for a 405
    (``allow``, the methods the path takes), ``close`` when the connection ends after it."""
    body = json.dumps(
        error_envelope(code, message, param), ensure_ascii=False, separators=(",", ":")
    ).encode()
    headers = {"content-type": "application/json"}
    if status == 401:
        headers["www-authenticate"] = BEARER_CHALLENGE
    if allow is not None:
        headers["allow"] = allow
    if close:
        headers["connection"] = "close"
    return ErrorAnswer(status, body, headers)
