"""One sandbox served by several processes: `neuropay mock --workers 2` on one SQLite file, and
(marked ``postgres``) two `neuropay mock` instances on one PostgreSQL database. The same money,
idempotency and durability tests run against each, with clients spread over the processes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from neuropay_contract.contract import create_body
from neuropay_contract.server import serve_app
from neuropay_contract.server.pgserver import PostgresServer

from ._helpers import api, create, start_mock
from ._roundrobin import RoundRobin

T = TypeVar("T")

# Several server processes per module and hundreds of simultaneous requests: one xdist worker
# runs them all, so the processes of two modules never compete for the two cores.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("shared-sandbox")]


@dataclass
class Sandbox:
    """URLs serving one sandbox (one per instance, or one for all workers) and its keys."""

    urls: list[str]
    keys: list[str]
    procs: list[subprocess.Popen[str]] = field(default_factory=list)

    def url(self, index: int) -> str:
        return self.urls[index % len(self.urls)]

    def client(self, index: int = 0, **headers: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url(index),
            headers={"Authorization": f"Bearer {self.keys[0]}", **headers},
            timeout=30,
        )


def _stop(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    for proc in procs:
        try:
            proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def start_sandbox(kind: str, where: Path | str) -> Sandbox:
    """``sqlite-workers``: one `neuropay mock --workers 2`; ``postgresql-instances``: two
    `neuropay mock`s on one database (the first creates the keys, the second finds them)."""
    if kind == "sqlite-workers":
        proc, url, keys = start_mock(where, "--quiet", "--workers", "2")
        return Sandbox([url], keys, [proc])
    first, url1, keys = start_mock(where, "--quiet")
    second, url2, _ = start_mock(where, "--quiet", new_keys=0)  # finds the keys stored
    return Sandbox([url1, url2], keys, [first, second])


@pytest.fixture(
    scope="module",
    params=["sqlite-workers", pytest.param("postgresql-instances", marks=pytest.mark.postgres)],
)
def sandbox(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Sandbox]:
    """One sandbox for the module (each test uses checkouts of its own); the kill test is last."""
    if request.param == "sqlite-workers":
        where: Path | str = tmp_path_factory.mktemp("one-sandbox") / "db.sqlite3"
    else:
        where = request.getfixturevalue("postgres").new_database()
    running = start_sandbox(request.param, where)
    try:
        yield running
    finally:
        _stop(running.procs)


def simultaneously(count: int, call: Callable[[int], T]) -> list[T]:
    """``call(0..count-1)`` on ``count`` threads released at once."""
    barrier = threading.Barrier(count)

    def run(index: int) -> T:
        barrier.wait(timeout=30)
        return call(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def _paid_checkout(sandbox: Sandbox, **extra: Any) -> str:
    with sandbox.client() as client:
        checkout = create(client, **extra)
        paid = client.post("/checkout/test/pay", json={"checkout_id": checkout["checkout_id"]})
        assert paid.status_code == 200, paid.text
    return str(checkout["checkout_id"])


def test_hundred_simultaneous_partial_refunds_never_over_refund(sandbox: Sandbox) -> None:
    cid = _paid_checkout(sandbox, amount=5000)

    def refund(index: int) -> int:
        with sandbox.client(index) as client:
            return client.post(
                "/checkout/refund", json={"checkout_id": cid, "amount": 73}
            ).status_code

    statuses = simultaneously(100, refund)
    with sandbox.client(1) as client:
        final = client.post("/checkout/retrieve", json={"checkout_id": cid}).json()
    accepted = statuses.count(200)
    assert set(statuses) <= {200, 409}
    assert accepted == 5000 // 73 == len(final["refunds"])
    assert final["refunded_amount"] == sum(r["amount"] for r in final["refunds"]) == accepted * 73
    assert final["status"] == "partialRefund"


def test_fifty_simultaneous_idempotent_retries_refund_once(sandbox: Sandbox) -> None:
    cid = _paid_checkout(sandbox)

    def retry(index: int) -> tuple[int, str, str | None]:
        with sandbox.client(index, **{"Idempotency-Key": "one-refund"}) as client:
            resp = client.post("/checkout/refund", json={"checkout_id": cid, "amount": 10})
            return resp.status_code, resp.text, resp.headers.get("Idempotent-Replayed")

    answers = simultaneously(50, retry)
    assert {status for status, _, _ in answers} == {200}
    assert len({text for _, text, _ in answers}) == 1  # the same refund, byte for byte
    assert sum(1 for _, _, replayed in answers if replayed is None) == 1
    with sandbox.client(1) as client:
        final = client.post("/checkout/retrieve", json={"checkout_id": cid}).json()
    assert final["refunded_amount"] == 10
    assert len(final["refunds"]) == 1


def test_fifty_simultaneous_captures_capture_once(sandbox: Sandbox) -> None:
    cid = _paid_checkout(sandbox, capture=False)

    def capture(index: int) -> tuple[int, str]:
        with sandbox.client(index) as client:
            resp = client.post("/checkout/capture", json={"checkout_id": cid})
            return resp.status_code, resp.json().get("error", {}).get("code", "")

    answers = simultaneously(50, capture)
    assert sorted(answers)[0] == (200, "")
    assert answers.count((200, "")) == 1
    assert set(answers) - {(200, "")} == {(409, "invalid_status")}
    with sandbox.client(1) as client:
        final = client.post("/checkout/retrieve", json={"checkout_id": cid}).json()
    assert final["status"] == "paid"


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"spawn_main" in cmdline:
                found.append(int(entry))
    return found


def test_kill_9_of_one_process_loses_no_acknowledged_write(sandbox: Sandbox) -> None:
    """Clients create checkouts over every process; one worker (or instance) is killed with
    SIGKILL mid-stream. Every create answered 200 is there afterwards, and the sandbox goes on
    serving (a worker is replaced by the supervisor; the other instance takes over)."""
    if len(sandbox.urls) == 1:
        deadline = time.monotonic() + 30
        while len(victims := _children(sandbox.procs[0].pid)) < 2:
            assert time.monotonic() < deadline, "the workers did not start"
            time.sleep(0.2)
        victim = victims[0]
    else:
        victim = sandbox.procs[0].pid
    acknowledged: list[str] = []
    stop = threading.Event()

    def client(index: int) -> None:
        with sandbox.client(index) as own:
            while not stop.is_set():
                try:
                    resp = own.post("/checkout/create", json=create_body())
                except httpx.HTTPError:
                    continue  # the killed process's connection; unanswered, so not promised
                if resp.status_code == 200:
                    acknowledged.append(resp.json()["checkout_id"])

    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = [pool.submit(client, i) for i in range(16)]
        deadline = time.monotonic() + 20
        while len(acknowledged) < 150 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(victim, signal.SIGKILL)
        time.sleep(1)
        stop.set()
        for future in futures:
            future.result(timeout=60)
    assert len(acknowledged) >= 150
    survivor = sandbox.urls[-1]
    with api(survivor, sandbox.keys[0]) as own:
        missing = [
            cid
            for cid in acknowledged
            if own.post("/checkout/retrieve", json={"checkout_id": cid}).status_code != 200
        ]
    assert missing == []


def test_workers_need_a_database_file() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "neuropay_contract", "mock", "--db", ":memory:", "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "neuropay: error: --workers needs a database file: each process has its own :memory:"
    ]


@pytest.mark.postgres
def test_contract_suite_passes_against_two_instances_behind_a_round_robin(
    postgres: PostgresServer, tmp_path: Path
) -> None:
    """Two instances on one PostgreSQL database behind a proxy alternating between them: every
    request of a sequence may land on the other instance, and the suite still passes."""
    running = start_sandbox("postgresql-instances", postgres.new_database())
    try:
        balancer = RoundRobin(running.urls)
        with serve_app(balancer) as url:
            command = [
                sys.executable, "-m", "neuropay_contract", "test", "--target-url", url,
                "--api-key", running.keys[0], "--second-api-key", running.keys[1],
                "--live-api-key", running.keys[2], "--profile", "dev",
                "--report-dir", str(tmp_path),
            ]  # fmt: skip
            proc = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=600,
            )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
        assert min(balancer.sent) > 100  # both instances served a good share
    finally:
        _stop(running.procs)


def _workers_of(master: int) -> list[str]:
    """The pids of the worker processes of ``master`` (not multiprocessing's helpers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if parent == master and b"spawn_main" in command and b"resource_tracker" not in command:
            found.append(stat.parent.name)
    return found


def test_workers_die_with_their_master(tmp_path: Path) -> None:
    """kill -9 of `mock --workers 2`'s master: its workers stop too (none serves unsupervised),
    the port is free again and a restart on it serves."""
    db = tmp_path / "sandbox.sqlite3"
    proc, url, _ = start_mock(db, "--quiet", "--workers", "2")
    port = int(url.rsplit(":", 1)[1])
    deadline = time.monotonic() + 30
    while len(children := _workers_of(proc.pid)) < 2:
        assert time.monotonic() < deadline, "the master started no workers"
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    try:
        deadline = time.monotonic() + 20
        while any(Path(f"/proc/{pid}").exists() for pid in children):
            assert time.monotonic() < deadline, "workers outlived their master"
            time.sleep(0.1)
    finally:
        for pid in children:  # whatever the outcome, no worker of this test stays behind
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    again, again_url, _ = start_mock(db, "--quiet", "--port", str(port), new_keys=0)
    try:
        assert again_url == url
        assert httpx.get(f"{again_url}/docs", timeout=10).status_code == 200
    finally:
        _stop([again])


def test_database_passwords_never_appear_in_errors() -> None:
    """A password in the URL (authority or ?password=) is never printed, whatever fails."""
    for url in (
        "postgresql://u@127.0.0.1:1/db?password=SECRET123&sslmode=disable",
        "postgresql://u:SECRET123@127.0.0.1:1/db?connect_timeout=2",
        "postgresql://u:SECRET%31%32%33@127.0.0.1:1/db",
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "neuropay_contract", "mock", "--port", "0", "--db", url],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 2
        assert "SECRET" not in proc.stdout + proc.stderr, proc.stderr
        assert len(proc.stderr.splitlines()) == 1


@pytest.mark.postgres
def test_an_outage_logs_one_line_per_failed_request() -> None:
    """PostgreSQL goes away under a running sandbox: each request gets the 500 envelope and
    one log line (no traceback), and the password stays out of it."""
    from neuropay_contract.server.pgserver import running_postgres

    with contextlib.ExitStack() as stack:
        postgres = stack.enter_context(running_postgres())
        url = postgres.new_database()
        url += ("&" if "?" in url else "?") + "password=SECRET123"
        proc, base, keys = start_mock(url, "--quiet")
        try:
            stack.close()  # the database server stops; the sandbox keeps running
            for _ in range(3):
                answer = httpx.post(
                    f"{base}/checkout/create",
                    json=create_body(),
                    headers={"Authorization": f"Bearer {keys[0]}"},
                    timeout=30,
                )
                assert answer.status_code == 500
                assert answer.json()["error"]["code"] == "internal_error"
        finally:
            _stop([proc])
        _, err = proc.communicate(timeout=30)
    failures = [line for line in err.splitlines() if "internal error" in line]
    assert len(failures) == 3, err[-3000:]
    assert "Traceback" not in err and "SECRET" not in err
