"""schemathesis inside the suite: generated cases sent to the target, recorded as steps."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import schemathesis

from ..lifecycle import Answer, Lifecycle, request_facts
from ..results import Step
from ..spec import ApiSpec
from ..untrusted import bounded
from .checks import ContractViolation
from .client import REQUEST_LIMIT, Recorder


def load_schema(spec: ApiSpec) -> Any:
    """The spec as a schemathesis schema (from the same document the suite reads)."""
    return schemathesis.openapi.from_dict(json.loads(json.dumps(spec.document, default=str)))


def record(recorder: Recorder, case: Any, response: Any, operation: str, base_url: str) -> None:
    """Add a schemathesis exchange to the current check's steps, keys redacted."""
    secrets = recorder.secrets
    try:
        body: Any = response.json()
    except Exception:
        body = response.text if hasattr(response, "text") else None
    headers = {str(k): str(v) for k, v in dict(case.headers or {}).items()}
    headers.setdefault("Content-Type", "application/json")
    recorder.record(
        Step(
            method=str(case.method).upper(),
            url=f"{base_url}{case.formatted_path}",
            operation=operation,
            request_headers={k: secrets.redact(v) for k, v in headers.items()}
            | {"Authorization": "Bearer $NEUROPAY_API_KEY"},
            request_body=bounded(
                secrets.redact_any(
                    case.body
                    if not isinstance(case.body, bytes)
                    else case.body.decode("utf-8", "replace")
                ),
                REQUEST_LIMIT,
            ),
            status=int(response.status_code),
            response_headers={},
            response_body=bounded(secrets.redact_any(body)),
            elapsed_ms=round(float(getattr(response, "elapsed", 0.0)) * 1000, 2),
        )
    )
    if recorder.observer is not None:
        observe(recorder, response, operation, base_url)


def observe(recorder: Recorder, response: Any, operation: str, base_url: str) -> None:
    """Hand schemathesis' exchange, as it went on the wire, to the run's observer."""
    from .answers import Answer
    from .differential import Exchange

    assert recorder.observer is not None
    sent = response.request
    body = sent.body.encode("utf-8") if isinstance(sent.body, str) else sent.body
    path = str(sent.url)[len(base_url) :] if str(sent.url).startswith(base_url) else sent.path_url
    recorder.observer.begin()
    recorder.observer.end(
        Exchange(
            str(sent.method).upper(),
            path,
            {str(k): str(v) for k, v in sent.headers.items()},
            body,
            operation,
            Answer(
                int(response.status_code),
                {str(k).lower(): _header(v) for k, v in response.headers.items()},
                bytes(response.content),
            ),
        )
    )


def _header(value: Any) -> str:
    """schemathesis' answers hold each header's values as a list."""
    return ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


class StatusModel:
    """Predicts each checkout's status from x-lifecycle as a stateful run goes on."""

    def __init__(self, spec: ApiSpec) -> None:
        self.spec = spec
        self.lifecycle: Lifecycle = spec.require_lifecycle()
        self.known: dict[str, dict[str, Any]] = {}

    def observe(self, operation: str, body: Any, status: int, answer: Any) -> None:
        """Check ``answer`` against the model, then learn from it."""
        if not isinstance(body, Mapping) or not isinstance(answer, Mapping):
            return
        checkout_id = body.get("checkout_id") if operation != "createCheckout" else None
        if operation == "createCheckout":
            if status == 200 and isinstance(answer.get("checkout_id"), str):
                self.known[answer["checkout_id"]] = dict(answer)
            return
        if not isinstance(checkout_id, str) or checkout_id not in self.known:
            return
        before = self.known[checkout_id]
        if operation in self.lifecycle.unrestricted:
            if status == 200 and answer.get("status") != before.get("status"):
                self._fail(
                    operation, before, f"status unchanged ('{before.get('status')}')", answer
                )
        elif operation in self.lifecycle.restricted_operations:
            facts = request_facts(self.lifecycle, self.spec.test_mode, before, operation, body)
            decision = self.lifecycle.decide(str(before.get("status")), operation, facts)
            if isinstance(decision, Answer):
                if status == 200:
                    self._fail(operation, before, f"{decision.http} {decision.code}", answer)
            elif status == 200 and answer.get("status") != decision.target:
                self._fail(operation, before, f"status '{decision.target}'", answer)
            elif status in (400, 401, 403, 404, 413, 415):
                return
        if status == 200 and answer.get("checkout_id") == checkout_id:
            self.known[checkout_id] = dict(answer)

    def _fail(self, operation: str, before: Mapping[str, Any], expected: str, answer: Any) -> None:
        raise ContractViolation(
            "stateful.status-model",
            "The status does not follow x-lifecycle",
            f"{operation} on a '{before.get('status')}' checkout: expected {expected}, "
            f"answered status '{answer.get('status') if isinstance(answer, Mapping) else answer}'",
            operation=operation,
            expected=expected,
            received=answer,
        )
