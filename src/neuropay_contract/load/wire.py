"""What a journey's call puts on the wire, and the record of it the checking process receives.

One home for both Locust files (``load/locustfile.py`` and the benchmark's plain baseline), so the
two send the same requests byte for byte. Nothing here imports Locust or gevent.

The load process keeps its per-request work small (the benchmark holds it to 0.8x a plain Locust
file): it sends a flat tuple, :data:`Record`, and the checking process builds the
:class:`Exchange` from it (headers cleaned, the start time formatted) off the request path."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from ..traffic.exchange import EXPECT_HEADER_NAME, Exchange, KeyLabels, clean_headers
from .journeys import Call

# (index, method, url, request headers without the key, body, key label, auth state, key mode,
#  started (epoch s), elapsed ms, status or None, response header pairs, response body,
#  overlapped, transport error)
Record = tuple[
    int,
    str,
    str,
    dict[str, str],
    bytes,
    str | None,
    str,
    str | None,
    float,
    float | None,
    int | None,
    list[tuple[str, str]],
    bytes,
    bool,
    str | None,
]


def extra_headers(call: Call, idempotency_header: str) -> dict[str, str]:
    """The headers of ``call`` besides the credential and the content type."""
    headers = {}
    if call.idempotency_key:
        headers[idempotency_header] = call.idempotency_key
    if call.expect:
        status, code = call.expect
        headers[EXPECT_HEADER_NAME] = f"{status} {code}" if code else str(status)
    return headers


def body_of(call: Call) -> bytes:
    return json.dumps(call.body).encode()


class Credential:
    """One API key's request headers and its label, computed once (not per request)."""

    def __init__(self, key: str, labels: KeyLabels) -> None:
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        self.auth, self.label, self.mode = labels.classify(self.headers["Authorization"])


def exchange_of(record: Record) -> Exchange:
    """The :class:`Exchange` a :data:`Record` describes (in the checking process)."""
    (index, method, url, sent, body, label, auth, mode, started, elapsed) = record[:10]
    status, received, answer, overlapped, error = record[10:]
    return Exchange(
        index=index,
        method=method,
        url=url,
        request_headers=clean_headers(_sent_pairs(sent), label),
        request_body=body,
        status=status,
        response_headers=clean_headers((str(k), str(v)) for k, v in received),
        response_body=answer,
        started=datetime.fromtimestamp(started, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
        elapsed_ms=elapsed,
        auth=auth,
        key_label=label,
        key_mode=mode,
        overlapped=overlapped,
        error=error,
    )


def _sent_pairs(sent: dict[str, str]) -> Iterable[tuple[str, str]]:
    # The credential itself never leaves the load process: its label stands in for it.
    yield "Authorization", "Bearer <label>"
    yield "Content-Type", "application/json"
    yield from sent.items()


def parse_answer(raw: bytes) -> Any:
    """The JSON of an answer, None when it is empty or not JSON."""
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None
