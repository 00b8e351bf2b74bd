"""One HTTP exchange of recorded or proxied traffic, with keys replaced by labels, and the readers
of HAR files and of the proxy's own JSON-lines recording."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..documents import DocumentError, TooDeepError, parse_json, read_text
from ..errors import NeuropayError
from ..reports.writer import KEY_PATTERN
from ..spec import DEFAULT_KEY_PREFIXES
from ..wellformed import key_mode, read_authorization, read_credential

# Headers whose value is a credential: kept only as "<key N>" labels.
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
# A declared deliberate misuse: "409 invalid_status" (see README, "Validating your client").
EXPECT_HEADER_NAME = "X-Neuropay-Expect"
EXPECT_HEADER = EXPECT_HEADER_NAME.lower()
# A recording may be far larger than a spec (a day of traffic), but still not endless.
MAX_TRAFFIC_BYTES = 256 << 20


def redact_text(text: str) -> str:
    """Any key-shaped value becomes ``$NEUROPAY_API_KEY``."""
    return KEY_PATTERN.sub("$NEUROPAY_API_KEY", text)


class KeyLabels:
    """Gives each API key seen a stable label ("key 1") so that findings can tell two keys apart
    without ever holding one: only a digest is kept, in memory."""

    def __init__(self, prefixes: Mapping[str, str] | None = None) -> None:
        self._labels: dict[str, str] = {}
        self.prefixes = dict(prefixes or DEFAULT_KEY_PREFIXES)

    def classify(
        self, authorization: str | Sequence[str] | None
    ) -> tuple[str, str | None, str | None]:
        """(auth state ``bearer|missing|malformed``, key label, key mode) of the request's
        Authorization header: one value, or every line's (several are ``malformed``, as
        :func:`..wellformed.read_credential` reads them)."""
        if authorization is None or isinstance(authorization, str):
            credential = read_authorization(authorization)
        else:
            credential = read_credential(authorization)
        if credential.key is None:
            return credential.state, None, None
        key = credential.key
        digest = hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()
        label = self._labels.setdefault(digest, f"key {len(self._labels) + 1}")
        mode = key_mode(key, self.prefixes)
        return ("bearer" if mode else "malformed"), label, mode


@dataclass
class Exchange:
    """A request and its answer (``status`` None when the server never answered)."""

    index: int
    method: str
    url: str
    request_headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    # Each request header sent on more than one line, with its lines' values (request_headers
    # joins them): a header that takes one value is refused when repeated.
    repeated_headers: dict[str, list[str]] = field(default_factory=dict)
    request_body: bytes = b""
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    started: str = ""
    elapsed_ms: float | None = None
    auth: str = "missing"  # bearer | missing | malformed
    key_label: str | None = None
    key_mode: str | None = None
    request_truncated: bool = False
    response_truncated: bool = False
    error: str | None = None
    answered_by_proxy: bool = False  # refused by `neuropay proxy --mode enforce`, not forwarded
    # Another request on the same object was in flight at the same time: the order in which the
    # server applied them is unknown, so only order-free rules judge this exchange.
    overlapped: bool = False

    def request_values(self, name: str) -> list[str]:
        """The values of the request header ``name`` (lower-case), one per line it was sent on."""
        if name in self.repeated_headers:
            return list(self.repeated_headers[name])
        value = self.request_headers.get(name)
        return [] if value is None else [value]

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"

    def declared_expectation(self) -> tuple[int, str | None] | None:
        """The refusal the client declares it provokes on purpose (``X-Neuropay-Expect``)."""
        raw = self.request_headers.get(EXPECT_HEADER, "").split()
        if not raw or not raw[0].isdigit():
            return None
        return int(raw[0]), (raw[1] if len(raw) > 1 else None)

    def to_record(self) -> dict[str, Any]:
        """The JSON-lines form (``--record``): keys already labels, key-shaped values redacted."""
        return {
            "index": self.index,
            "started": self.started,
            "method": self.method,
            "url": redact_text(self.url),
            "auth": self.auth,
            "key": self.key_label,
            "key_mode": self.key_mode,
            "request": {
                "headers": self.request_headers,
                **({"repeated_headers": self.repeated_headers} if self.repeated_headers else {}),
                **_body_record(self.request_body),
                "truncated": self.request_truncated,
            },
            "response": None
            if self.status is None
            else {
                "status": self.status,
                "headers": self.response_headers,
                **_body_record(self.response_body),
                "truncated": self.response_truncated,
            },
            "elapsed_ms": self.elapsed_ms,
            "error": self.error,
            "answered_by": "proxy" if self.answered_by_proxy else "target",
            "overlapped": self.overlapped,
        }


def _body_record(body: bytes) -> dict[str, Any]:
    try:
        return {"body": redact_text(body.decode("utf-8"))}
    except UnicodeDecodeError:
        return {"body_base64": base64.b64encode(body).decode("ascii")}


def _record_body(part: Mapping[str, Any]) -> bytes:
    if part.get("body_base64"):
        return base64.b64decode(str(part["body_base64"]))
    return str(part.get("body") or "").encode("utf-8")


def _cleaned(pairs: Iterable[tuple[str, str]], labels: str | None) -> Iterator[tuple[str, str]]:
    """Lower-case header names, credentials replaced by their label, key-shaped text redacted."""
    for name, value in pairs:
        name = name.lower()
        if name.startswith(":"):  # HTTP/2 pseudo-headers in HAR files
            continue
        if name in SECRET_HEADERS:
            value = f"Bearer <{labels}>" if labels and name == "authorization" else "<redacted>"
        else:
            value = redact_text(value)
        yield name, value


def clean_headers(pairs: Iterable[tuple[str, str]], labels: str | None = None) -> dict[str, str]:
    """Lower-case header names, repeated headers joined, credentials replaced by their label."""
    headers: dict[str, str] = {}
    for name, value in _cleaned(pairs, labels):
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def repeated_headers(
    pairs: Iterable[tuple[str, str]], labels: str | None = None
) -> dict[str, list[str]]:
    """The headers sent on more than one line, each with its lines' cleaned values."""
    lines: dict[str, list[str]] = {}
    for name, value in _cleaned(pairs, labels):
        lines.setdefault(name, []).append(value)
    return {name: values for name, values in lines.items() if len(values) > 1}


def exchange_from_record(raw: Mapping[str, Any], index: int) -> Exchange:
    request = raw.get("request") or {}
    response = raw.get("response")
    return Exchange(
        index=index,
        method=str(raw["method"]).upper(),
        url=str(raw["url"]),
        request_headers={str(k).lower(): str(v) for k, v in (request.get("headers") or {}).items()},
        repeated_headers={
            str(k).lower(): [str(v) for v in values]
            for k, values in (request.get("repeated_headers") or {}).items()
        },
        request_body=_record_body(request),
        request_truncated=bool(request.get("truncated")),
        status=int(response["status"]) if response else None,
        response_headers={
            str(k).lower(): str(v) for k, v in ((response or {}).get("headers") or {}).items()
        },
        response_body=_record_body(response) if response else b"",
        response_truncated=bool((response or {}).get("truncated")),
        started=str(raw.get("started") or ""),
        elapsed_ms=raw.get("elapsed_ms"),
        auth=str(raw.get("auth") or "missing"),
        key_label=raw.get("key"),
        key_mode=raw.get("key_mode"),
        error=raw.get("error"),
        answered_by_proxy=raw.get("answered_by") == "proxy",
        overlapped=bool(raw.get("overlapped")),
    )


def exchange_from_har(entry: Mapping[str, Any], index: int, labels: KeyLabels) -> Exchange:
    request = entry["request"]
    response = entry.get("response") or {}
    pairs = [(str(h["name"]), str(h["value"])) for h in request.get("headers") or []]
    auth, label, mode = labels.classify([v for n, v in pairs if n.lower() == "authorization"])
    post = request.get("postData") or {}
    content = response.get("content") or {}
    text = content.get("text") or ""
    body = (
        base64.b64decode(text) if content.get("encoding") == "base64" else str(text).encode("utf-8")
    )
    status = int(response.get("status") or 0)
    return Exchange(
        index=index,
        method=str(request["method"]).upper(),
        url=redact_text(str(request["url"])),
        request_headers=clean_headers(pairs, label),
        repeated_headers=repeated_headers(pairs, label),
        request_body=str(post.get("text") or "").encode("utf-8"),
        status=status or None,  # HAR writes 0 for a request that got no answer
        response_headers=clean_headers(
            (str(h["name"]), str(h["value"])) for h in response.get("headers") or []
        ),
        response_body=body,
        started=str(entry.get("startedDateTime") or ""),
        elapsed_ms=float(entry["time"]) if isinstance(entry.get("time"), int | float) else None,
        auth=auth,
        key_label=label,
        key_mode=mode,
        error=None if status else str(response.get("_failureText") or "no answer"),
    )


def read_traffic(path: Path, labels: KeyLabels | None = None) -> list[Exchange]:
    """The exchanges of a HAR file or of a ``--record`` JSON-lines file, in order.

    Raises a one-line :class:`NeuropayError` for a file that is neither."""
    labels = labels or KeyLabels()
    text = read_text(path, "traffic file", MAX_TRAFFIC_BYTES)
    stripped = text.lstrip()
    if not stripped:
        raise NeuropayError(f"traffic file {path} is empty")
    try:
        if stripped.startswith("{") and '"log"' in stripped[:4096]:
            return list(_har(parse_json(text, f"traffic file {path}"), labels, path))
        return list(_jsonl(text, path))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise NeuropayError(
            f"traffic file {path} is neither a HAR file nor a neuropay recording: "
            f"{type(exc).__name__}: {exc}"
        ) from None


def _har(document: Any, labels: KeyLabels, path: Path) -> Iterator[Exchange]:
    entries = document["log"]["entries"]
    if not isinstance(entries, list):
        raise NeuropayError(f"traffic file {path} is not a HAR file: log.entries is not a list")
    ordered = sorted(entries, key=lambda e: str(e.get("startedDateTime") or ""))
    exchanges = [exchange_from_har(entry, i, labels) for i, entry in enumerate(ordered, start=1)]
    mark_overlaps(exchanges)
    yield from exchanges


def object_of(body: bytes) -> str | None:
    """The checkout or customer id a request body names (cheaply: no JSON parse)."""
    for name in (b'"checkout_id"', b'"customer_id"'):
        at = body.find(name)
        if at >= 0:
            start = body.find(b'"', body.find(b":", at) + 1)
            end = body.find(b'"', start + 1)
            if 0 <= start < end:
                return body[start + 1 : end].decode("utf-8", "replace")
    return None


def mark_overlaps(exchanges: list[Exchange]) -> None:
    """Mark exchanges on one object whose time intervals intersect (HAR timings)."""
    from datetime import datetime

    spans: dict[str, list[tuple[float, float, Exchange]]] = {}
    for ex in exchanges:
        target = object_of(ex.request_body)
        try:
            start = datetime.fromisoformat(ex.started.replace("Z", "+00:00")).timestamp()
        except ValueError:
            continue
        if target is not None:
            end = start + (ex.elapsed_ms or 0) / 1000
            spans.setdefault(target, []).append((start, end, ex))
    for items in spans.values():
        items.sort(key=lambda item: item[0])
        latest_end, latest = float("-inf"), None
        for start, end, ex in items:
            if latest is not None and start < latest_end:
                ex.overlapped = latest.overlapped = True
            if end > latest_end:
                latest_end, latest = end, ex


def _jsonl(text: str, path: Path) -> Iterator[Exchange]:
    index = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = parse_json(line, f"traffic file {path} line {number}")
        except TooDeepError:
            raise
        except DocumentError:
            raise NeuropayError(
                f"traffic file {path} line {number} is not JSON (expected a HAR file or the "
                "JSON lines of `neuropay proxy --record`)"
            ) from None
        if not isinstance(raw, dict) or "method" not in raw or "url" not in raw:
            raise NeuropayError(
                f"traffic file {path} line {number} is not an exchange (needs method and url)"
            )
        index += 1
        yield exchange_from_record(raw, index)
