"""The Locust file of ``neuropay load``: one Locust user class per journey, every answer checked.

Only Locust processes import this module (``python -m locust -f <this file>``, started by
``load.run``): Locust patches the standard library with gevent on import, which must never reach
the rest of the CLI or pytest. Configuration comes from the environment: ``NEUROPAY_LOAD_CONFIG``
(a JSON file without keys) and the keys in ``NEUROPAY_API_KEY`` / ``NEUROPAY_SECOND_API_KEY``.

Each load process checks its own traffic with a :class:`TrafficChecker` (the one behind
``neuropay proxy``): the journeys of a process make their own checkouts, so nothing a checker
needs crosses processes. When the run stops each process reads back its checkouts, compares them
with its model and hands its part (findings, timelines, counts) over: a single process writes it to
the parts folder, a worker sends it to the master, which writes it.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import gevent
import gevent.os
import gevent.pool
import gevent.queue
import locust
from locust import FastHttpUser, argument_parser, constant, events
from locust.env import Environment
from locust.runners import LocalRunner, MasterRunner, WorkerRunner

from neuropay_contract.contract.reach import PaymentMeans
from neuropay_contract.load.checking import READY, frame
from neuropay_contract.load.config import LoadConfig
from neuropay_contract.load.journeys import Call, Journeys, JourneyStopped, Reply
from neuropay_contract.load.model import Models, compare
from neuropay_contract.load.wire import Credential, Record, body_of, extra_headers, parse_answer
from neuropay_contract.spec import load_spec
from neuropay_contract.traffic.exchange import KeyLabels, object_of

FLUSH = "neuropay_flush"
PART = "neuropay_part"
# The checking pipe's size (fcntl F_SETPIPE_SZ, Linux).
F_SETPIPE_SZ = 1031
PIPE_BYTES = 1 << 20
# Exchanges queued for checking beyond which users wait (bounded memory; the load slows).
MAX_QUEUED = 20_000
# Most exchanges the checking pipe's writer sends in one write.
WRITE_BATCH = 256
# Concurrent read-backs at the end of the run.
READBACK_POOL = 16

# A Locust worker rebuilds its whole argument parser once per option of each spawn order
# (runners.py: `k not in argument_parser.default_args_dict()` in a loop): seconds on a busy
# machine, during which the worker sends no heartbeat and starts no user. The defaults never
# change within a process: build them once (a fresh copy each call, as before).
_default_args = functools.cache(argument_parser.default_args_dict)
argument_parser.default_args_dict = lambda: dict(_default_args())

CONFIG = LoadConfig.read(os.environ.get("NEUROPAY_LOAD_CONFIG"))
SPEC = load_spec(Path(CONFIG.spec_path) if CONFIG.spec_path else None)
_LABELS = KeyLabels(SPEC.test_mode.key_prefixes if SPEC.test_mode else None)
FIRST = Credential(os.environ.get("NEUROPAY_API_KEY", ""), _LABELS)
SECOND = (
    Credential(os.environ["NEUROPAY_SECOND_API_KEY"], _LABELS)
    if os.environ.get("NEUROPAY_SECOND_API_KEY")
    else None
)
JOURNEYS = Journeys(SPEC, PaymentMeans.from_spec(SPEC), second_key=SECOND is not None)


class CheckerPipe:
    """The checking process of this load process (started at init, or on first use, so that each
    process Locust forks gets its own). Users queue their exchanges without ever yielding; one
    writer greenlet, which the end of a run never kills, sends them down the checker's stdin,
    framed, in the order they completed. When checking falls behind, users wait for room after
    queueing (:meth:`wait_for_room`), so the load never outruns its checks unboundedly."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.pid = 0
        self.queue: gevent.queue.Queue[Any] = gevent.queue.Queue()
        self.writer: gevent.Greenlet | None = None
        # Most exchanges waiting to be checked, and the time users waited for room (the checks
        # held the load back): reported with the part, so a run says whether its checks kept up.
        self.peak = 0
        self.waited_s = 0.0

    def start(self) -> None:
        if self.process is not None and self.pid == os.getpid():
            return
        self.pid = os.getpid()
        self.queue = gevent.queue.Queue()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "neuropay_contract.load.checking", CONFIG.spec_path or ""],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        for stream in (self.process.stdin, self.process.stdout):
            os.set_blocking(stream.fileno(), False)
        with contextlib.suppress(OSError):  # more slack than the default 64 KiB (Linux)
            fcntl.fcntl(self.process.stdin.fileno(), F_SETPIPE_SZ, PIPE_BYTES)
        # Wait (cooperatively) until the checker has loaded: its start is not the run's.
        if gevent.os.nb_read(self.process.stdout.fileno(), len(READY)) != READY:
            raise RuntimeError("the checking process did not start")
        self.writer = gevent.spawn(self._write_all, self.process, self.queue)

    @staticmethod
    def _write_all(process: subprocess.Popen[bytes], queue: gevent.queue.Queue[Any]) -> None:
        assert process.stdin is not None
        fd = process.stdin.fileno()
        while True:
            # Everything queued since the last write goes down in one write (one system call for
            # a batch, not one per exchange).
            batch = [queue.get()]
            while len(batch) < WRITE_BATCH and not queue.empty() and batch[-1][0] != "end":
                batch.append(queue.get_nowait())
            view = memoryview(b"".join(frame(kind, payload) for kind, payload in batch))
            while view:
                view = view[gevent.os.nb_write(fd, view) :]
            if batch[-1][0] == "end":
                return

    def send(self, record: Record) -> None:
        self.start()
        self.queue.put_nowait(("exchange", record))

    def wait_for_room(self) -> None:
        queued = self.queue.qsize()
        if queued > self.peak:
            self.peak = queued
        if queued > MAX_QUEUED:
            started = time.perf_counter()
            while self.queue.qsize() > MAX_QUEUED:
                gevent.sleep(0.01)
            self.waited_s += time.perf_counter() - started

    def finish(self, named: Sequence[str]) -> dict[str, Any]:
        self.start()
        assert self.process is not None and self.writer is not None
        self.queue.put_nowait(("end", list(named)))
        self.writer.join()
        process = self.process
        assert process.stdin is not None and process.stdout is not None
        process.stdin.close()
        chunks = []
        while chunk := gevent.os.nb_read(process.stdout.fileno(), 1 << 16):
            chunks.append(chunk)
        process.wait()
        self.process = None
        answer: dict[str, Any] = json.loads(b"".join(chunks))
        return answer


class LoadProcess:
    """What one Locust process checked and knows, shared by its users (one gevent thread)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.checker = CheckerPipe()
        self.models = Models(JOURNEYS.lifecycle, JOURNEYS.update_op)
        self.index = 0
        self.flying: dict[str, list[Sent]] = {}
        self.journeys: dict[str, Counter[str]] = {}
        self.model_counts: Counter[str] = Counter()
        self.readback_findings: list[dict[str, Any]] = []
        self.part: dict[str, Any] | None = None

    # -- one exchange ---------------------------------------------------------------------------
    def begin(self, sent: Sent, payload: bytes, call: Call) -> str | None:
        """Register the exchange in flight on its object (or its Idempotency-Key), marking every
        exchange that overlaps another, as the proxy does."""
        target = object_of(payload) or (
            f"idem:{call.idempotency_key}" if call.idempotency_key else None
        )
        if target is None:
            return None
        flying = self.flying.setdefault(target, [])
        flying.append(sent)
        if len(flying) > 1:
            for other in flying:
                other.overlapped = True
        return target

    def end(self, sent: Sent, target: str | None) -> None:
        if target is None:
            return
        flying = self.flying.get(target, [])
        if sent in flying:
            flying.remove(sent)
        if not flying:
            self.flying.pop(target, None)

    def check(
        self,
        method: str,
        url: str,
        extra: dict[str, str],
        payload: bytes,
        credential: Credential,
        started: float,
        elapsed: float,
        status: int | None,
        received: list[tuple[str, str]],
        body: bytes,
        overlapped: bool = False,
        error: str | None = None,
    ) -> int:
        """Queue one finished exchange (a journey's or the read-back's) for the checking
        process; its index, in the order exchanges completed."""
        self.index += 1
        self.checker.send(
            (
                self.index,
                method,
                url,
                extra,
                payload,
                credential.label,
                credential.auth,
                credential.mode,
                started,
                elapsed,
                status,
                received,
                body,
                overlapped,
                error,
            )
        )
        return self.index


STATE = LoadProcess()


class Sent:
    """An exchange in flight: whether another request on its object overlapped it."""

    __slots__ = ("overlapped",)

    def __init__(self) -> None:
        self.overlapped = False


class JourneySession:
    """A :class:`Session` on a Locust user's client: sends, checks, models."""

    def __init__(self, user: FastHttpUser) -> None:
        self.user = user
        self.host = (user.host or "").rstrip("/")

    def call(self, call: Call) -> Reply:
        op = SPEC.operation(call.operation)
        credential = SECOND if call.second_key and SECOND is not None else FIRST
        payload = body_of(call)
        extra = extra_headers(call, SPEC.idempotency.header)
        sent = Sent()
        target = STATE.begin(sent, payload, call)
        started = time.time()
        clock = time.perf_counter()
        try:
            with self.user.client.request(
                op.method,
                op.path,
                data=payload,  # type: ignore[arg-type]  # geventhttpclient sends bytes as they are
                headers={**credential.headers, **extra} if extra else credential.headers,
                name=call.step,
                catch_response=True,
            ) as response:
                elapsed = round((time.perf_counter() - clock) * 1000, 2)
                status = int(response.status_code or 0)
                body = (response.content or b"") if status else b""
                answer = parse_answer(body)
                problem = _unexpected(call, status, answer)
                if problem:
                    response.failure(problem)
                else:
                    response.success()
        except BaseException:
            # Cut by the end of the run (GreenletExit) or broken in transit: what the server did
            # with the request is unknown.
            STATE.end(sent, target)
            STATE.models.mark_uncertain(call.body.get("checkout_id"))
            raise
        # Nothing below yields before the exchange is queued for checking and in the model: a
        # user stopped at the end of the run cannot lose an answer it already has.
        STATE.end(sent, target)
        index = STATE.check(
            op.method,
            self.host + op.path,
            extra,
            payload,
            credential,
            started,
            elapsed,
            status or None,
            list(response.headers.items()) if status and response.headers else [],
            body,
            sent.overlapped,
            None if status else (type(response.error).__name__ if response.error else "error"),
        )
        STATE.models.observe(
            call.operation,
            call.body,
            call.idempotency_key,
            status or None,
            answer,
            sent.overlapped,
            index,
        )
        STATE.checker.wait_for_room()
        return Reply(status, answer)

    def parallel(self, calls: Sequence[Call]) -> list[Reply]:
        greenlets = [gevent.spawn(self.call, c) for c in calls]
        try:
            gevent.joinall(greenlets, raise_error=True)
        finally:  # the user was stopped: stop what it started too
            gevent.killall([g for g in greenlets if not g.dead])
        return [g.value for g in greenlets]


def _unexpected(call: Call, status: int, answer: Any) -> str | None:
    """Why Locust should count this request failed (None: it went as the journey wanted)."""
    if not status:
        return "no answer"
    if call.expect is not None:
        code = answer.get("error", {}).get("code") if isinstance(answer, dict) else None
        if status == call.expect[0] and call.expect[1] in (None, code):
            return None
        return f"expected {call.expect[0]} {call.expect[1] or ''}, got {status} {code}".strip()
    if 200 <= status < 300 or status in call.accept:
        return None
    return f"HTTP {status}"


def _journey_user(name: str, run: Callable[[Any], None], weight: int) -> type[FastHttpUser]:
    """A Locust user class that runs journey ``name`` over and over."""

    class JourneyUser(FastHttpUser):
        abstract = False
        wait_time = constant(0)
        journey: ClassVar[str] = name

        def on_start(self) -> None:
            self.session = JourneySession(self)

        @locust.task
        def journey_task(self) -> None:
            counts = STATE.journeys.setdefault(name, Counter())
            counts["started"] += 1
            try:
                run(self.session)
            except JourneyStopped:
                counts["stopped"] += 1
                return
            counts["completed"] += 1

    JourneyUser.__name__ = JourneyUser.__qualname__ = f"Journey_{name}"
    JourneyUser.weight = weight
    return JourneyUser


_available = JOURNEYS.available()
for _name, _weight in CONFIG.mix.items():
    if _weight > 0 and _name in _available:
        globals()[f"Journey_{_name}"] = _journey_user(_name, _available[_name], _weight)


# -- the end of a run: read back, then hand the part over --------------------------------------
def _read_back(host: str) -> None:
    """Every checkout with a certain model read back with its merchant's key, checked and
    compared with the model (sequentially per greenlet, outside Locust's statistics)."""
    from geventhttpclient import URL, HTTPClient

    retrieve = JOURNEYS.retrieve_op
    if retrieve is None:
        return
    op = SPEC.operation(retrieve)
    models = list(STATE.models.checkouts.values())
    STATE.model_counts["checkouts"] = len(models)
    STATE.model_counts["uncertain"] = sum(1 for m in models if m.uncertain)
    url = URL(host.rstrip("/") + op.path)
    client = HTTPClient.from_url(url, concurrency=READBACK_POOL, network_timeout=30.0)

    def one(model: Any) -> None:
        payload = json.dumps({"checkout_id": model.checkout_id}).encode()
        started = time.time()
        clock = time.perf_counter()
        try:
            response = client.request(op.method, url.request_uri, payload, FIRST.headers)
            body = response.read()
        except (OSError, gevent.Timeout):
            STATE.model_counts["unread"] += 1
            return
        elapsed = round((time.perf_counter() - clock) * 1000, 2)
        index = STATE.check(
            op.method,
            host.rstrip("/") + op.path,
            {},
            payload,
            FIRST,
            started,
            elapsed,
            response.status_code,
            list(response.items()),
            body,
        )
        found = compare(model, response.status_code, parse_answer(body), JOURNEYS.lifecycle, index)
        STATE.model_counts["compared"] += 1
        if found:
            STATE.model_counts["failed"] += 1
            STATE.readback_findings.extend(f.to_dict() for f in found)

    try:
        gevent.pool.Pool(READBACK_POOL).map(one, [m for m in models if not m.uncertain])
    finally:
        client.close()


def _build_part(label: str, host: str) -> dict[str, Any]:
    if STATE.part is not None:
        return STATE.part
    _read_back(host)
    named = sorted({str(f["object_id"]) for f in STATE.readback_findings if f.get("object_id")})
    checked = STATE.checker.finish(named)
    STATE.part = {
        **checked,
        "process": label,
        "total_findings": int(checked["total_findings"]) + len(STATE.readback_findings),
        "findings": list(checked["findings"]) + STATE.readback_findings,
        "journeys": {name: dict(c) for name, c in STATE.journeys.items()},
        "model": dict(STATE.model_counts),
        "checking": {
            "peak_queued": STATE.checker.peak,
            "users_waited_s": round(STATE.checker.waited_s, 2),
        },
    }
    return STATE.part


def _write_part(part: dict[str, Any], name: str) -> None:
    folder = Path(CONFIG.parts_dir)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.tmp"
    tmp.write_text(json.dumps(part, default=str), encoding="utf-8")
    tmp.replace(folder / f"{name}.json")


def _on_init(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, LocalRunner | WorkerRunner):
        # The checking process loads the spec while Locust starts, not during the run.
        STATE.checker.start()
    if isinstance(runner, WorkerRunner):

        def flush(environment: Environment, msg: Any, **_: Any) -> None:
            runner.stop()  # no request after the snapshot
            host = environment.host or CONFIG.target_url
            part = _build_part(f"worker {runner.client_id}", host)
            runner.send_message(PART, part)

        runner.register_message(FLUSH, flush, concurrent=True)
    elif isinstance(runner, MasterRunner):
        received: dict[str, Any] = {}

        def on_part(environment: Environment, msg: Any, **_: Any) -> None:
            received[str(msg.node_id)] = msg.data
            _write_part(msg.data, f"part-{len(received)}")

        runner.register_message(PART, on_part)

        def _collect(environment: Environment, **_: Any) -> None:
            clients = [c.id for c in runner.clients.all]
            for client in clients:
                runner.send_message(FLUSH, None, client_id=client)
            deadline = time.monotonic() + CONFIG.collect_timeout
            while len(received) < len(clients) and time.monotonic() < deadline:
                gevent.sleep(0.1)
            Path(CONFIG.parts_dir).mkdir(parents=True, exist_ok=True)
            (Path(CONFIG.parts_dir) / "expected.json").write_text(
                json.dumps({"workers": len(clients), "received": len(received)})
            )

        environment.events.test_stop.add_listener(_collect)  # type: ignore[no-untyped-call]


def _on_stop(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, LocalRunner):
        host = environment.host or CONFIG.target_url
        _write_part(_build_part("local", host), "part-local")


# -- statistics over time, for the report's plots (the master's or the single process's) -------
HISTORY: list[dict[str, float]] = []
SAMPLE_SECONDS = 1.0
_ENVIRONMENT: list[Environment] = []


def _sample(environment: Environment) -> None:
    started = time.monotonic()
    while True:
        gevent.sleep(SAMPLE_SECONDS)
        total = environment.stats.total
        HISTORY.append(
            {
                "t": round(time.monotonic() - started, 2),
                "rps": round(total.current_rps or 0.0, 2),
                "fail_rps": round(total.current_fail_per_sec or 0.0, 2),
                "p50": float(total.get_current_response_time_percentile(0.5) or 0),
                "p95": float(total.get_current_response_time_percentile(0.95) or 0),
                "p99": float(total.get_current_response_time_percentile(0.99) or 0),
                "users": float(environment.runner.user_count if environment.runner else 0),
            }
        )


def _on_start(environment: Environment, **_: Any) -> None:
    if not isinstance(environment.runner, WorkerRunner):
        _ENVIRONMENT[:] = [environment]
        gevent.spawn(_sample, environment)


def _entry(entry: Any) -> dict[str, Any]:
    return {
        "method": entry.method,
        "name": entry.name,
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "avg_ms": round(entry.avg_response_time, 2),
        "min_ms": entry.min_response_time or 0,
        "max_ms": entry.max_response_time,
        "p50_ms": entry.get_response_time_percentile(0.5),
        "p95_ms": entry.get_response_time_percentile(0.95),
        "p99_ms": entry.get_response_time_percentile(0.99),
        "rps": round(entry.total_rps, 2),
    }


def _on_quit(exit_code: int, **_: Any) -> None:
    """The final statistics (after the workers' last reports) for the gates and the report."""
    if not _ENVIRONMENT:
        return
    stats = _ENVIRONMENT[0].stats
    entries = sorted(stats.entries.values(), key=lambda e: (e.name, e.method))
    summary = {
        "total": _entry(stats.total),
        "entries": [_entry(e) for e in entries],
        "errors": [
            {"method": e.method, "name": e.name, "error": str(e.error), "count": e.occurrences}
            for e in stats.errors.values()
        ],
        "history": HISTORY,
    }
    _write_part(summary, "stats")


events.init.add_listener(_on_init)  # type: ignore[no-untyped-call]
events.test_stop.add_listener(_on_stop)  # type: ignore[no-untyped-call]
events.test_start.add_listener(_on_start)  # type: ignore[no-untyped-call]
events.quit.add_listener(_on_quit)  # type: ignore[no-untyped-call]

# Loading the spec above took a while after gevent's hub started: without this, the loop's cached
# clock is that much behind and Locust's --run-time timer fires early by as much.
gevent.get_hub().loop.update_now()
