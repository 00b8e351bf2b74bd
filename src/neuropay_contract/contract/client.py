"""An HTTP client for contract checks that records every exchange, with the API keys redacted."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from ..coverage import Seen
from ..results import Step
from ..spec import ApiSpec
from ..untrusted import bounded

_DEFAULT = object()
NOT_IMPLEMENTED = "not implemented"
OUTSIDE_SUBSET = "outside --operations"
SILENT = "gives no answer"  # the preflight's probes of it got no HTTP answer, twice


class SilentOperation(httpx.ReadTimeout):
    """A request not sent: the operation gave no answer to the preflight's probes, so each
    check that needs it fails at once as "no answer" instead of waiting out the timeout again
    (a red run stays short, and the other operations are still judged)."""

    def __init__(self, operation: str, where: str = "in the preflight") -> None:
        super().__init__(
            f"{operation} gave no answer {where} (twice, within the timeout), so it was not "
            "sent again"
        )
        self.operation = operation


SILENT_AFTER = 2  # timed-out requests of one operation after which it is not sent again


REQUEST_LIMIT = 20_000  # bytes of a sent body kept in a recorded step (the suite's own data)


@dataclass
class Secrets:
    """API keys of a run and the shell variables that stand for them in anything written."""

    names: dict[str, str] = field(default_factory=dict)  # key -> "$NEUROPAY_API_KEY"

    def add(self, key: str | None, variable: str) -> None:
        if key:
            self.names[key] = f"${variable}"

    def redact(self, text: str) -> str:
        for key, name in self.names.items():
            text = text.replace(key, name)
        return text

    def redact_any(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {self.redact(str(k)): self.redact_any(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.redact_any(v) for v in value]
        return value


class Observer(Protocol):
    """Sees every exchange of the run as sent, keys included (``--differential`` replays them):
    ``begin`` before a request goes out, ``end`` with the exchange (None when no answer came),
    ``restart`` when a new sequence starts."""

    def begin(self) -> None: ...

    def end(self, exchange: Any) -> None: ...

    def restart(self) -> None: ...


@dataclass
class Recorder:
    """Steps of the current check and request counts per operation, for the results."""

    secrets: Secrets = field(default_factory=Secrets)
    steps: list[Step] = field(default_factory=list)
    per_operation: Counter[str] = field(default_factory=Counter)
    requests: int = 0  # requests of the current check, over all its sequences
    observer: Observer | None = None
    seen: Seen = field(default_factory=Seen)  # every answer of the run, for its coverage
    # requests per operation that got no answer within the timeout, over the whole run: an
    # operation that hangs is not waited for again and again (SilentOperation)
    timeouts: Counter[str] = field(default_factory=Counter)

    def start_check(self) -> None:
        self.steps = []
        self.requests = 0
        if self.observer is not None:
            self.observer.restart()

    def restart_sequence(self) -> None:
        """Keep only what follows for the reproduction (a property check calls this per example,
        so a failure reproduces its own example), still counting the check's requests."""
        self.steps = []
        if self.observer is not None:
            self.observer.restart()

    def record(self, step: Step) -> None:
        self.per_operation[step.operation or f"{step.method} {step.url}"] += 1
        self.seen.answer(step.operation, step.status, step.response_body)
        self.requests += 1
        self.steps.append(step)


@dataclass
class Response:
    """A target's answer: status, headers and the parsed JSON body (None when not JSON)."""

    status: int
    headers: Mapping[str, str]
    body: Any
    text: str
    operation: str | None

    def json_object(self) -> dict[str, Any]:
        return self.body if isinstance(self.body, dict) else {}


class ContractClient:
    """Calls the target's operations by operationId and records each exchange."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        spec: ApiSpec,
        recorder: Recorder,
        http: httpx.Client | None = None,
        timeout: float = 10.0,
        unavailable: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.spec = spec
        self.recorder = recorder
        self.http = http or httpx.Client(timeout=timeout)
        # operation -> NOT_IMPLEMENTED or OUTSIDE_SUBSET: calls to it stop the check instead
        self.unavailable: Mapping[str, str] = unavailable or {}

    def with_key(self, api_key: str | None) -> ContractClient:
        """The same client speaking with another key (or none)."""
        return ContractClient(
            self.base_url,
            api_key,
            self.spec,
            self.recorder,
            self.http,
            unavailable=self.unavailable,
        )

    def call(
        self,
        operation_id: str,
        body: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        api_key: Any = _DEFAULT,
        method: str | None = None,
        content: bytes | None = None,
        content_type: str | None = "application/json",
        chunked: bool = False,
        also: Sequence[tuple[str, str]] = (),
    ) -> Response:
        """Send a request to the operation's path; ``api_key=None`` sends no Authorization;
        ``also``: header lines sent after the others, a name already sent included (a header
        sent twice).

        An operation the target does not implement blocks the check (NotImplementedOperation);
        one outside the certified subset (--operations) leaves it not covered."""
        why = self.unavailable.get(operation_id)
        if why is not None:
            from .checks import NotImplementedOperation, not_covered

            if why == OUTSIDE_SUBSET:
                not_covered(f"needs {operation_id}, which is outside --operations")
            if why == SILENT:
                raise SilentOperation(operation_id)
            raise NotImplementedOperation(operation_id)
        if self.recorder.timeouts[operation_id] >= SILENT_AFTER:
            raise SilentOperation(operation_id, "to earlier checks of this run")
        op = self.spec.operation(operation_id)
        return self.request(
            method or op.method,
            op.path,
            body,
            headers=headers,
            api_key=api_key,
            content=content,
            content_type=content_type,
            operation=operation_id,
            chunked=chunked,
            also=also,
        )

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        headers: Mapping[str, str] | None = None,
        api_key: Any = _DEFAULT,
        content: bytes | None = None,
        content_type: str | None = "application/json",
        operation: str | None = None,
        chunked: bool = False,
        also: Sequence[tuple[str, str]] = (),
    ) -> Response:
        key = self.api_key if api_key is _DEFAULT else api_key
        sent: dict[str, str] = {}
        if key is not None:
            sent["Authorization"] = f"Bearer {key}"
        if content_type is not None and (body is not None or content is not None):
            sent["Content-Type"] = content_type
        sent.update(headers or {})
        payload = (
            content
            if content is not None
            else (json.dumps(body).encode() if body is not None else None)
        )
        url = f"{self.base_url}{path}"
        started = time.perf_counter()
        secrets = self.recorder.secrets
        recorded_body: Any = body
        if content is not None:
            recorded_body = content.decode("utf-8", "replace")[:2000]
        # The request half of the step, recorded even when no answer comes: when the target
        # dies, the reproduction ends with the request it died on.
        step = Step(
            method=method,
            url=url,
            operation=operation,
            request_headers={
                **{k: secrets.redact(v) for k, v in sent.items()},
                **{f"{k} (again)": secrets.redact(v) for k, v in also},
            },
            request_body=bounded(secrets.redact_any(recorded_body), REQUEST_LIMIT),
        )
        observer = self.recorder.observer
        if observer is not None:
            observer.begin()
        try:
            # chunked: no Content-Length, the body in transfer-encoding chunks
            sendable = iter([payload]) if chunked and payload is not None else payload
            lines = [*sent.items(), *also]
            answer = self.http.request(method, url, content=sendable, headers=lines)
        except httpx.TransportError as exc:
            if isinstance(exc, httpx.TimeoutException) and operation:
                self.recorder.timeouts[operation] += 1
            self.recorder.record(step)
            if observer is not None:
                observer.end(None)
            raise
        elapsed = (time.perf_counter() - started) * 1000
        try:
            parsed: Any = answer.json()
        except ValueError:
            parsed = None
        step.status = answer.status_code
        step.response_headers = {
            k: bounded(secrets.redact(v))
            for k, v in answer.headers.items()
            if k.lower() in ("content-type", "allow", "idempotent-replayed", "www-authenticate")
        }
        # Bounded: a target answering megabytes must not make megabyte reports.
        step.response_body = bounded(
            secrets.redact_any(parsed if parsed is not None else answer.text)
        )
        step.elapsed_ms = round(elapsed, 2)
        self.recorder.record(step)
        if observer is not None:
            from .answers import Answer
            from .differential import Exchange

            observer.end(
                Exchange(
                    method,
                    path,
                    sent,
                    payload,
                    operation,
                    Answer(
                        answer.status_code,
                        {k.lower(): v for k, v in answer.headers.items()},
                        answer.content,
                    ),
                    chunked,
                    also=tuple(also),
                )
            )
        return Response(answer.status_code, answer.headers, parsed, answer.text, operation)
