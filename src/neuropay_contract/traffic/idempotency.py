"""Idempotent retries in traffic: a key reused with another body is the client's fault, a replay
answered differently from the first answer is the server's."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..spec import ApiSpec, Operation
from .findings import Expectation
from .validate import Checked


@dataclass
class _IdemRecord:
    """The first use of a key. Bodies are kept as parsed (and raw) and written canonically only
    when the key is used again: most keys are used once, and the canonical text of every answer
    was a tenth of the checker's time under load."""

    operation: str
    request_value: Any
    request_raw: bytes
    status: int
    response_value: Any
    response_raw: bytes

    @property
    def request(self) -> str:
        return _canonical(self.request_value, self.request_raw)

    @property
    def response(self) -> str:
        return _canonical(self.response_value, self.response_raw)


def _canonical(value: Any, raw: bytes) -> str:
    if value is None:
        return raw.decode("utf-8", "replace")
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def object_id_of(body: Any) -> str | None:
    """The checkout or customer id a body names."""
    if isinstance(body, dict):
        for name in ("checkout_id", "customer_id"):
            if isinstance(body.get(name), str):
                return str(body[name])
    return None


class IdempotencyTracker:
    """Remembers the first answer to each (API key, Idempotency-Key) pair."""

    def __init__(self, spec: ApiSpec) -> None:
        self.spec = spec
        self._idem: dict[tuple[str, str], _IdemRecord] = {}
        self.idem_header = spec.idempotency.header.lower()
        self.replay_header = spec.idempotency.replay_header.lower()

    def observe(self, c: Checked, op: Operation) -> bool:
        """Checks a request that reuses an Idempotency-Key; True when it is a replay."""
        ex = c.exchange
        key = ex.request_headers.get(self.idem_header)
        if key is None or ex.key_label is None or not op.accepts_idempotency_key:
            return False
        assert ex.status is not None
        found = self._idem.get((ex.key_label, key))
        conflict = self.spec.idempotency.conflict
        code = (
            c.response_json.get("error", {}).get("code")
            if isinstance(c.response_json, dict)
            else None
        )
        if found is None and c.request_ok and code == conflict.code:
            c.add(
                "idempotency.false-conflict",
                "server",
                "the key's first valid use in the traffic was answered as a reuse (a refusal of an "
                "invalid request must not be stored)",
                expected="the operation's answer",
                received=f"{ex.status} {code}",
                object_id=object_id_of(c.request_json),
            )
            return False
        if found is None:
            if ex.status < 500 and c.request_ok:
                self._idem[(ex.key_label, key)] = _IdemRecord(
                    op.operation_id,
                    c.request_json,
                    ex.request_body,
                    ex.status,
                    c.response_json,
                    ex.response_body,
                )
            return False
        request = _canonical(c.request_json, ex.request_body)
        response = _canonical(c.response_json, ex.response_body)
        object_id = object_id_of(c.request_json) or object_id_of(c.response_json)
        if found.operation != op.operation_id or found.request != request:
            c.add(
                "idempotency.key-reused",
                "client",
                f"Idempotency-Key reused with another {'operation' if found.operation != op.operation_id else 'body'}"
                f" (first used for {found.operation})",
                expected="a new key for a new request",
                object_id=object_id,
                expect=Expectation(
                    conflict.http,
                    conflict.code,
                    "idempotency.key-reuse-accepted",
                ),
            )
            if ex.status < 300:
                c.add(
                    "idempotency.key-reuse-accepted",
                    "server",
                    "a reused Idempotency-Key with another body was answered as a new request",
                    expected=f"{conflict.http} {conflict.code}",
                    received=ex.status,
                    object_id=object_id,
                )
            return False
        if ex.status != found.status or response != found.response:
            c.add(
                "idempotency.replay-differs",
                "server",
                "a retry with the same Idempotency-Key and body got another answer than the "
                "first (the operation ran twice)",
                expected=f"HTTP {found.status}, the first answer again",
                received=f"HTTP {ex.status}",
                object_id=object_id,
            )
        elif (
            ex.status < 300
            and self.replay_header
            # Retries in flight together finish in any order: which one replayed is unknown.
            and not ex.overlapped
            and (ex.response_headers.get(self.replay_header) != "true")
        ):
            c.add(
                "idempotency.replay-header",
                "server",
                f"a replayed answer lacks {self.replay_header}: true",
                expected="true",
                received=ex.response_headers.get(self.replay_header),
                object_id=object_id,
            )
        return True
