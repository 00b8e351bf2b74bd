"""Group commit: calls queued behind a commit share the next one, each answered only after it;
a failing call rolls back alone; acknowledged writes survive kill -9 under concurrent load."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from neuropay_contract.contract import create_body
from neuropay_contract.server.keys import ApiKey, StoredKey, key_hash, stored
from neuropay_contract.server.store import Store

from ._helpers import api, run_async, start_mock


def _key(text: str) -> StoredKey:
    return stored(ApiKey(text, "m", "test"))


def _commits(store: Store) -> list[str]:
    seen: list[str] = []
    store.run(lambda s: s.conn.set_trace_callback(seen.append))
    seen.clear()  # this call's own COMMIT
    return seen


def test_calls_waiting_behind_a_commit_share_the_next_one(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite3")
    try:
        statements = _commits(store)
        gate = threading.Event()
        first = store.submit(lambda s: gate.wait(10))
        time.sleep(0.1)  # the database thread is now inside the first call
        following = [
            store.submit(lambda s, i=i: s.add_key(_key(f"sk_test_{i:032d}"))) for i in range(20)
        ]
        assert not any(f.done() for f in following)
        gate.set()
        assert first.result(timeout=10) is True
        for future in following:
            future.result(timeout=10)
        assert statements.count("COMMIT") == 2  # the first call's, then one for all twenty
        assert len(store.run(lambda s: s.api_keys())) == 20
    finally:
        store.close()


def test_a_failing_call_rolls_back_alone_in_its_batch(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite3")
    try:
        gate = threading.Event()
        store.submit(lambda s: gate.wait(10))
        time.sleep(0.1)

        def fails(s: Store) -> None:
            s.add_key(_key("sk_test_" + "f" * 32))
            raise RuntimeError("refused")

        before = store.submit(lambda s: s.add_key(_key("sk_test_" + "a" * 32)))
        failing = store.submit(fails)
        after = store.submit(lambda s: s.add_key(_key("sk_test_" + "b" * 32)))
        gate.set()
        before.result(timeout=10)
        after.result(timeout=10)
        with pytest.raises(RuntimeError, match="refused"):
            failing.result(timeout=10)
        keys = [k.key_hash for k in store.run(lambda s: s.api_keys())]
        assert keys == [key_hash("sk_test_" + "a" * 32), key_hash("sk_test_" + "b" * 32)]
    finally:
        store.close()


def test_a_failed_commit_fails_every_call_of_its_batch(tmp_path: Path) -> None:
    """Nothing of a batch whose COMMIT fails is stored, so none of its calls may say it was."""
    store = Store(tmp_path / "db.sqlite3")
    try:
        store._direct(lambda s: s.conn.execute("PRAGMA foreign_keys = ON")).result()
        gate = threading.Event()
        store.submit(lambda s: gate.wait(10))
        time.sleep(0.1)

        def poison(s: Store) -> None:  # a deferred violation: the call passes, its COMMIT fails
            s.conn.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
            s.conn.execute(
                "CREATE TABLE child (pid REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"
            )
            s.conn.execute("INSERT INTO child VALUES (1)")

        calls = [
            store.submit(lambda s: s.add_key(_key("sk_test_" + "a" * 32))),
            store.submit(poison),
            store.submit(lambda s: s.add_key(_key("sk_test_" + "b" * 32))),
        ]
        gate.set()
        for future in calls:
            with pytest.raises(sqlite3.IntegrityError):
                future.result(timeout=10)
        assert store.run(lambda s: s.api_keys()) == []
        assert store.run(lambda s: s.add_key(_key("sk_test_" + "c" * 32))) is True
    finally:
        store.close()


def test_acknowledged_writes_under_concurrent_load_survive_kill_9(tmp_path: Path) -> None:
    """Thirty-two clients create checkouts as fast as they can; kill -9 mid-stream. Every
    checkout whose create was answered 200 is there after the restart."""
    db = tmp_path / "mock.sqlite3"
    proc, url, keys = start_mock(db, "--quiet")
    acknowledged: list[str] = []
    stop = threading.Event()

    def client(_: int) -> None:
        with api(url, keys[0]) as own:
            while not stop.is_set():
                try:
                    resp = own.post("/checkout/create", json=create_body())
                except httpx.HTTPError:
                    return
                if resp.status_code == 200:
                    acknowledged.append(resp.json()["checkout_id"])

    with ThreadPoolExecutor(max_workers=32) as pool:
        futures = [pool.submit(client, i) for i in range(32)]
        deadline = time.monotonic() + 20
        while len(acknowledged) < 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        stop.set()
        for future in futures:
            future.result(timeout=30)
    proc.communicate(timeout=10)
    assert len(acknowledged) >= 200
    proc, url, _ = start_mock(db, "--quiet", new_keys=0)
    try:
        with api(url, keys[0]) as own:
            missing: list[Any] = [
                cid
                for cid in acknowledged
                if own.post("/checkout/retrieve", json={"checkout_id": cid}).status_code != 200
            ]
        assert missing == []
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_processes_queue_for_the_write_lock_instead_of_polling(tmp_path: Path) -> None:
    """Two stores on one file (as two workers): while one is inside a transaction, the other
    waits on the file's flock before even beginning its own, so it starts the moment the first
    commits instead of sleeping in SQLite's busy handler."""
    first, second = Store(tmp_path / "db.sqlite3"), Store(tmp_path / "db.sqlite3")
    try:
        statements = _commits(second)
        gate = threading.Event()
        holding = first.submit(lambda s: (s.add_key(_key("sk_test_" + "a" * 32)), gate.wait(10)))
        time.sleep(0.1)
        waiting = second.submit(lambda s: s.add_key(_key("sk_test_" + "b" * 32)))
        time.sleep(0.3)
        assert statements == []  # not even BEGIN IMMEDIATE while the other holds the turn
        assert not waiting.done()
        gate.set()
        holding.result(timeout=10)
        assert waiting.result(timeout=10) is True
        assert statements[0] == "BEGIN IMMEDIATE"
    finally:
        first.close()
        second.close()


def test_an_awaited_call_is_answered_on_the_loop_and_a_cancelled_one_never_runs(
    tmp_path: Path,
) -> None:
    """``Store.call`` (what the API awaits) resolves on the event loop, with the call's error
    when it fails; a waiter cancelled while queued leaves nothing to run."""
    store = Store(tmp_path / "db.sqlite3")
    ran: list[str] = []
    gate = threading.Event()

    async def scenario() -> None:
        assert await store.call(lambda s: s.add_key(_key("sk_test_a"))) is True
        with pytest.raises(ValueError, match="boom"):
            await store.call(lambda s: (_ for _ in ()).throw(ValueError("boom")))
        started = threading.Event()
        blocker = store.submit(lambda s: (started.set(), gate.wait(10)))  # holds the thread
        assert started.wait(10)  # running: the next call cannot join its batch
        waiter = asyncio.ensure_future(store.call(lambda s: ran.append("late")))
        await asyncio.sleep(0.05)
        waiter.cancel()
        gate.set()
        blocker.result(timeout=10)
        await store.call(lambda s: ran.append("after"))

    try:
        run_async(scenario)
    finally:
        store.close()
    assert ran == ["after"]


def test_reads_do_not_wait_for_the_write_turn_another_worker_holds(tmp_path: Path) -> None:
    """Workers take turns to write on an flock of the file; a batch of reads only (a retrieve)
    is a WAL snapshot and goes on while another process holds that turn. Writes still wait."""
    import fcntl

    path = tmp_path / "db.sqlite3"
    store = Store(path)
    store.run(lambda s: s.add_key(_key("sk_test_a")))
    other_worker = os.open(path, os.O_RDONLY)
    fcntl.flock(other_worker, fcntl.LOCK_EX)

    async def scenario() -> tuple[list[StoredKey], bool]:
        keys = await asyncio.wait_for(store.call(lambda s: s.api_keys(), read_only=True), 5)
        write = asyncio.ensure_future(store.call(lambda s: s.add_key(_key("sk_test_b"))))
        await asyncio.sleep(0.3)
        waited = not write.done()
        fcntl.flock(other_worker, fcntl.LOCK_UN)
        await asyncio.wait_for(write, 5)
        return keys, waited

    try:
        keys, write_waited = run_async(scenario)
    finally:
        os.close(other_worker)
        store.close()
    assert [k.key_hash for k in keys] == [key_hash("sk_test_a")]
    assert write_waited
