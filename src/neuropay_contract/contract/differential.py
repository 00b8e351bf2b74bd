"""Differential certification: every exchange of the run replayed against a fresh reference server.

The recording client (and schemathesis' exchanges, through ``fuzz.record``) hand each exchange to
the run's :class:`Differential`, which sends the same request, in the same order, to an embedded
reference server started for the run, with the target's keys written as the reference's keys of
the same role and the target's ids as the reference's (learnt from the answers). The two answers
are compared as :mod:`.answers` says; a difference fails the check that sent the request with a
``differential.*`` rule, shrunk to the shortest sequence that still shows it against the live
target (within a time budget), with both answers and a curl script for each server. When the
reference's own answer breaks the contract, the run reports a reference bug (an error of the
check), never a failure of the target.

Requests sent at the same time (the suite's concurrency checks) are replayed at the same time and
compared as a set: the spec lets the server serialise them in any order.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import httpx

from ..results import Step
from ..spec import ApiSpec
from ..untrusted import bounded
from .answers import ID_TOKEN, NOT_JSON, Answer, Difference, Normalisation, Pairing
from .checks import ContractViolation, note_failure
from .client import REQUEST_LIMIT, Secrets
from .curl import sequence_to_curl

SHRINK_BUDGET = 5.0  # seconds of replays against the live target per difference found
RUN_SHRINK_BUDGET = 20.0  # seconds of shrinking in a whole red run
# Headers of the transport, not of the request: the replaying client sets its own.
_HOP = {"host", "content-length", "connection", "accept-encoding", "transfer-encoding"}
ROLES = ("api_key", "second_api_key", "live_api_key", "same_merchant_api_key")
KEY_VARIABLES = (
    "NEUROPAY_API_KEY",
    "NEUROPAY_SECOND_API_KEY",
    "NEUROPAY_LIVE_API_KEY",
    "NEUROPAY_SAME_MERCHANT_API_KEY",
)
REFERENCE_URL = "http://127.0.0.1:8080"  # where `neuropay mock` serves by default


class ReferenceBug(Exception):
    """The reference server's own answer breaks the contract: an error of the run (the check's
    outcome is "error", never a failure of the target)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        note_failure(self)  # reported even when Hypothesis replaces it (Flaky*)


@dataclass(frozen=True)
class Exchange:
    """One request as sent to the target (keys included: kept in memory, never written) and the
    target's answer (None when none came)."""

    method: str
    path: str  # with the query, relative to the base URL
    headers: Mapping[str, str]
    body: bytes | None
    operation: str | None
    answer: Answer | None
    chunked: bool = False
    concurrent: bool = False
    # header lines sent again after ``headers`` (a name already sent included): the suite's
    # probes of repeated Authorization or Idempotency-Key headers
    also: tuple[tuple[str, str], ...] = ()
    # the whole message as sent over a raw socket (contract/rawhttp.py: requests no HTTP client
    # sends, to see how the HTTP layer refuses them); replayed as bytes
    raw: bytes | None = None


@dataclass
class Server:
    """Where to send a replay: a base URL and the keys by role."""

    url: str
    keys: Mapping[str, str | None]


def _key_map(source: Mapping[str, str | None], dest: Mapping[str, str | None]) -> dict[str, str]:
    return {
        key: replacement
        for role in ROLES
        if (key := source.get(role)) and (replacement := dest.get(role))
    }


def rewrite(
    exchange: Exchange,
    pairing: Pairing,
    keys: Mapping[str, str],
    idempotency: dict[str, str] | None = None,
) -> Exchange:
    """``exchange``'s request as another server must get it: keys of the same role, the ids
    that server made, and (for a replay on the live target) fresh idempotency keys."""

    def text(value: str) -> str:
        for old, new in keys.items():
            value = value.replace(old, new)
        return pairing.map_text(value)

    if exchange.raw is not None:
        message = text(exchange.raw.decode("latin-1")).encode("latin-1", "replace")
        return replace(exchange, raw=message, answer=None)
    headers: dict[str, str] = {}
    for name, value in exchange.headers.items():
        if name.lower() in _HOP:
            continue
        if idempotency is not None and name.lower() == "idempotency-key":
            value = idempotency.setdefault(value, f"replay-{uuid.uuid4().hex}")
        headers[name] = text(value)
    body = exchange.body
    if body is not None and (pairing.forward or keys):
        # bytes that are not UTF-8 are the suite's own probes: sent as they are
        with contextlib.suppress(UnicodeDecodeError):
            body = text(body.decode("utf-8")).encode("utf-8")
    return Exchange(
        exchange.method,
        pairing.map_path(exchange.path),
        headers,
        body,
        exchange.operation,
        None,
        exchange.chunked,
        exchange.concurrent,
        tuple((name, text(value)) for name, value in exchange.also),
    )


def send(http: httpx.Client, base_url: str, exchange: Exchange) -> Answer | None:
    if exchange.raw is not None:
        from .rawhttp import exchange as raw_exchange

        timeout = http.timeout.read or 10.0
        try:
            got = raw_exchange(base_url, exchange.raw, timeout, None)
        except OSError:
            return None
        return None if got.status is None else Answer(got.status, got.headers, got.body)
    payload: Any = exchange.body
    if exchange.chunked and payload is not None:
        payload = iter([payload])
    try:
        lines = [*exchange.headers.items(), *exchange.also]
        answer = http.request(
            exchange.method, base_url + exchange.path, content=payload, headers=lines
        )
    except httpx.TransportError:
        return None
    return Answer(
        answer.status_code, {k.lower(): v for k, v in answer.headers.items()}, answer.content
    )


@dataclass
class Found:
    """A difference, with the sequence that shows it."""

    sequence: list[Exchange]  # as sent to the target
    reference: list[Exchange]  # as sent to the reference, with its answers
    differences: list[Difference]


class Differential:
    """The run's differential observer: replays each exchange on the reference and compares."""

    def __init__(
        self,
        spec: ApiSpec,
        target: Server,
        reference: Server,
        secrets: Secrets,
        timeout: float,
        shrink_reference: Server,  # another reference server, for the replays of shrinking
        target_http: httpx.Client | None = None,  # the target's transport (headers, TLS)
        hidden_headers: Iterable[str] = (),  # --header names: sent to the target only
    ) -> None:
        self.spec = spec
        self.norm = Normalisation(spec)
        self.target = target
        self.reference = reference
        self.secrets = secrets
        self.keys = _key_map(target.keys, reference.keys)
        self.http = httpx.Client(timeout=timeout)
        self.target_http = target_http or self.http
        self.hidden = {name.lower() for name in hidden_headers}
        self.timeout = timeout
        self.shrink_reference = shrink_reference
        self.pairing = Pairing()
        self.sequence: list[Exchange] = []  # the current check's exchanges
        self.reference_log: list[Exchange] = []  # the same, as the reference got and answered
        self._lock = threading.Lock()
        self._replaying = threading.Lock()
        self._in_flight = 0
        self._group: list[Exchange] = []
        self._group_concurrent = False
        self.shrink_left = RUN_SHRINK_BUDGET
        # the run's counts, for the results (the plugin keeps a reference to this dict)
        self.counts = {"exchanges": 0, "differences": 0, "reference_bugs": 0}

    def close(self) -> None:
        self.http.close()

    # -- the recorder's hooks ----------------------------------------------------------------
    def restart(self) -> None:
        """A new check (or a new example of a property): a new sequence to shrink."""
        self.sequence = []
        self.reference_log = []

    def begin(self) -> None:
        with self._lock:
            self._in_flight += 1
            if self._in_flight > 1:
                self._group_concurrent = True

    def end(self, exchange: Exchange | None) -> None:
        with self._lock:
            self._in_flight -= 1
            if exchange is not None:
                if self.hidden:  # never replayed to the reference, never written
                    exchange = replace(
                        exchange,
                        headers={
                            k: v
                            for k, v in exchange.headers.items()
                            if k.lower() not in self.hidden
                        },
                    )
                self._group.append(exchange)
            if self._in_flight > 0:
                return
            group, concurrent = self._group, self._group_concurrent or len(self._group) > 1
            self._group, self._group_concurrent = [], False
        if not group:
            return
        with self._replaying:
            if concurrent:
                self._concurrent(group)
            else:
                self._sequential(group[0])

    # -- live comparison ---------------------------------------------------------------------
    def _sequential(self, exchange: Exchange) -> None:
        self.counts["exchanges"] += 1
        self.sequence.append(exchange)
        sent = rewrite(exchange, self.pairing, self.keys)
        answer = send(self.http, self.reference.url, sent)
        self.reference_log.append(_with(sent, answer))
        if exchange.answer is None:
            return  # the target did not answer: the check reports that
        if answer is None:
            self._reference_bug(exchange, "the reference server gave no answer")
        assert answer is not None
        differences, problems = self.norm.compare(
            exchange.operation, exchange.answer, answer, self.pairing
        )
        if not differences:
            return
        self._judge(exchange, answer, problems)
        self.counts["differences"] += 1
        found = self._shrink(Found(list(self.sequence), list(self.reference_log), differences))
        raise self._violation(found)

    def _concurrent(self, group: list[Exchange]) -> None:
        """Requests in flight together: replayed together, compared as a set."""
        self.counts["exchanges"] += len(group)
        marked = [_concurrent(e) for e in group]
        self.sequence.extend(marked)
        sent = [rewrite(e, self.pairing, self.keys) for e in marked]
        with ThreadPoolExecutor(len(sent)) as pool:
            answers = list(pool.map(lambda e: send(self.http, self.reference.url, e), sent))
        self.reference_log.extend(_with(e, a) for e, a in zip(sent, answers, strict=True))
        unused = list(range(len(answers)))
        for exchange in marked:
            if exchange.answer is None:
                continue
            best: tuple[list[Difference], list[str], int, Pairing] | None = None
            for index in unused:
                answer = answers[index]
                if answer is None:
                    continue
                trial = self.pairing.copy()
                differences, problems = self.norm.compare(
                    exchange.operation, exchange.answer, answer, trial
                )
                if best is None or len(differences) < len(best[0]):
                    best = (differences, problems, index, trial)
                if not differences:
                    break
            if best is None:
                self._reference_bug(exchange, "the reference server gave no answer")
                return
            differences, problems, index, trial = best
            answer = answers[index]
            assert answer is not None
            if differences:
                self._judge(exchange, answer, problems)
                self.counts["differences"] += 1
                raise self._violation(
                    Found(list(self.sequence), list(self.reference_log), differences),
                    concurrent=True,
                )
            self.pairing = trial
            unused.remove(index)

    def _judge(self, exchange: Exchange, answer: Answer, problems: list[str]) -> None:
        """A difference where the reference's own answer breaks the contract is its bug."""
        from .checks import check_response_schema
        from .client import Response

        if answer.status >= 500:
            problems = [*problems, f"it answered {answer.status}"]
        op = self.spec.operations.get(exchange.operation) if exchange.operation else None
        # Only a request that is the operation (its method) has the operation's answers.
        if op is not None and op.method == exchange.method.upper():
            body = answer.json if answer.json is not NOT_JSON else None
            try:
                check_response_schema(
                    self.spec,
                    Response(
                        answer.status,
                        answer.headers,
                        body,
                        answer.body.decode("utf-8", "replace"),
                        exchange.operation,
                    ),
                )
            except ContractViolation as exc:
                problems = [*problems, exc.title]
            finally:
                from .checks import forget_failures

                forget_failures()  # the reference's violation is no failure of the check
        if problems:
            self._reference_bug(exchange, "; ".join(problems))

    def _reference_bug(self, exchange: Exchange, why: str) -> None:
        self.counts["reference_bugs"] += 1
        raise ReferenceBug(
            f"reference server bug on {exchange.operation or exchange.method} "
            f"{self.secrets.redact(exchange.path)}: {why} (the difference is not the target's)"
        )

    # -- shrinking ---------------------------------------------------------------------------
    def _shrink(self, found: Found) -> Found:
        """The shortest sequence that still shows a difference on its last exchange, replayed
        against the live target and a fresh reference, within the time budget."""
        if len(found.sequence) < 2 or any(e.concurrent for e in found.sequence):
            return found
        started = time.monotonic()
        deadline = started + min(SHRINK_BUDGET, self.shrink_left)
        best = found
        current = found.sequence  # as first sent: what the next candidates leave requests out of
        try:
            index = 0
            while index < len(current) - 1 and time.monotonic() < deadline:
                candidate = current[:index] + current[index + 1 :]
                replayed = self.replay(candidate)
                if replayed is not None and replayed.differences:
                    current, best = candidate, replayed
                else:
                    index += 1
        finally:
            self.shrink_left -= time.monotonic() - started
        return best

    def replay(self, sequence: Sequence[Exchange]) -> Found | None:
        """``sequence`` sent again to the live target and the shrinking reference server; the
        differences of its last exchange (None when the replay cannot show anything: no answer,
        or a request naming an object that only a removed request made).

        Every object of a replay is new on both servers (ids are mapped, idempotency keys
        fresh), so one reference server serves every replay of the run."""
        reference = self.shrink_reference
        keys = _key_map(self.target.keys, reference.keys)
        to_new = Pairing()  # the original target ids -> the replay's
        pairing = Pairing()  # the replay's target ids -> the reference's
        idempotency: dict[str, str] = {}
        sent_target: list[Exchange] = []
        sent_reference: list[Exchange] = []
        differences: list[Difference] = []
        for exchange in sequence:
            if exchange.answer is None or self._orphan(exchange, to_new):
                return None
            on_target = rewrite(exchange, to_new, {}, idempotency)
            target_answer = send(self.target_http, self.target.url, on_target)
            on_reference = rewrite(on_target, pairing, keys)
            reference_answer = send(self.http, reference.url, on_reference)
            if target_answer is None or reference_answer is None:
                return None
            self.norm.compare(exchange.operation, exchange.answer, target_answer, to_new)
            differences, _ = self.norm.compare(
                exchange.operation, target_answer, reference_answer, pairing
            )
            sent_target.append(_with(on_target, target_answer))
            sent_reference.append(_with(on_reference, reference_answer))
        return Found(sent_target, sent_reference, differences)

    def _orphan(self, exchange: Exchange, to_new: Pairing) -> bool:
        """Whether the request names an object of the run that the replay has not made."""
        text = exchange.path + (exchange.body or b"").decode("utf-8", "replace")
        made = self.pairing.forward  # test card ids and the like pair with themselves
        return any(
            made.get(token, token) != token and token not in to_new.forward
            for token in ID_TOKEN.findall(text)
        )

    # -- the finding -------------------------------------------------------------------------
    def _violation(self, found: Found, concurrent: bool = False) -> ContractViolation:
        last = found.sequence[-1]
        reference = found.reference[-1]
        first = found.differences[0]
        rule = {"status": "differential.status", "header": "differential.header"}.get(
            first.kind, "differential.body"
        )
        operation = last.operation or last.method
        status = last.answer.status if last.answer else None
        where = {"status": "the status", "header": f"header {first.where}"}.get(
            first.kind, f"{first.where or 'the body'}"
        )
        target_steps = [self._step(e, self.target.url, self.secrets) for e in found.sequence]
        reference_secrets = Secrets()
        for server in (self.reference, self.shrink_reference):
            for role, variable in zip(ROLES, KEY_VARIABLES, strict=True):
                reference_secrets.add(server.keys.get(role), variable)
        reference_steps = [self._step(e, REFERENCE_URL, reference_secrets) for e in found.reference]
        curl = (
            "# ---- the target ----\n"
            + sequence_to_curl(target_steps)
            + f"\n# ---- the reference server: `neuropay mock` at {REFERENCE_URL}, with its keys"
            " in the same variables ----\n" + sequence_to_curl(reference_steps)
        )
        more = f" (and {len(found.differences) - 1} more)" if len(found.differences) > 1 else ""
        return ContractViolation(
            rule,
            f"{operation} {status}: the target and the reference server differ at {where}",
            f"after {len(found.sequence)} request(s)"
            + (" (some sent at the same time)" if concurrent else "")
            + f", {first.describe()}{more}; the reference's answer passes the contract's "
            "checks, and the spec does not leave this point open (x-implementation-defined)",
            operation=last.operation,
            expected={
                "reference": _side(reference),
                "differences": [d.describe() for d in found.differences[:20]],
            },
            received={"target": _side(last)},
            steps=target_steps,
            curl=curl,
        )

    @staticmethod
    def _step(exchange: Exchange, base_url: str, secrets: Secrets) -> Step:
        answer = exchange.answer
        body: Any = None
        if exchange.body is not None:
            text = exchange.body.decode("utf-8", "replace")
            try:
                import json

                body = json.loads(text)
                # a lone surrogate (the suite's I-JSON probes) cannot be written as UTF-8
                json.dumps(body, ensure_ascii=False).encode("utf-8")
            except (ValueError, RecursionError, UnicodeEncodeError):  # and 5,000-deep bodies
                body = text[:2000]
        response: Any = None
        if answer is not None:
            response = answer.json if answer.json is not NOT_JSON else _text(answer.body)
        return Step(
            method=exchange.method,
            url=base_url + exchange.path,
            operation=exchange.operation,
            request_headers={k: secrets.redact(v) for k, v in exchange.headers.items()},
            request_body=bounded(secrets.redact_any(body), REQUEST_LIMIT),
            status=answer.status if answer else None,
            response_headers={
                k: secrets.redact(v) for k, v in (answer.headers if answer else {}).items()
            },
            response_body=bounded(secrets.redact_any(response)),
        )


def _side(exchange: Exchange) -> dict[str, Any]:
    answer = exchange.answer
    if answer is None:
        return {"status": None}
    return {
        "status": answer.status,
        "body": answer.json if answer.json is not NOT_JSON else _text(answer.body),
    }


def _text(body: bytes) -> str:
    return body[:2000].decode("utf-8", "replace")


def _with(exchange: Exchange, answer: Answer | None) -> Exchange:
    return dataclasses.replace(exchange, answer=answer)


def _concurrent(exchange: Exchange) -> Exchange:
    return dataclasses.replace(exchange, concurrent=True)


@contextlib.contextmanager
def reference_server(spec: ApiSpec, retention: float | None = None) -> Iterator[Server]:
    """A fresh embedded reference server of ``spec`` on loopback, its keys by role; with the
    target's shortened idempotency ``retention`` (seconds) when the run declares one (each
    exchange is replayed as soon as the target answered, so both see the same time pass)."""
    from ..server import start_server

    with start_server(spec=spec) as server:
        if retention is not None:
            server.app.state.service.retention_s = retention
        yield Server(
            server.url,
            {
                "api_key": server.test_key,
                "second_api_key": server.second_test_key,
                "live_api_key": server.live_key,
                "same_merchant_api_key": server.same_merchant_test_key,
            },
        )


@contextlib.contextmanager
def differential(
    spec: ApiSpec,
    target: Server,
    secrets: Secrets,
    timeout: float,
    target_http: httpx.Client | None = None,
    hidden_headers: Iterable[str] = (),
    retention: float | None = None,
) -> Iterator[Differential]:
    """The run's :class:`Differential` against a fresh reference server of ``spec``."""
    with (
        reference_server(spec, retention) as reference,
        reference_server(spec, retention) as shrinking,
    ):
        observer = Differential(
            spec, target, reference, secrets, timeout, shrinking, target_http, hidden_headers
        )
        try:
            yield observer
        finally:
            observer.close()
