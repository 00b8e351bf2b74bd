"""Storage: acknowledged writes survive kill -9; concurrent refunds never over-refund."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from neuropay_contract.server import RunningServer
from neuropay_contract.server.keys import ApiKey, key_hash, stored
from neuropay_contract.server.store import APPLICATION_ID, Store

from ._helpers import api, create, start_mock


def test_acknowledged_writes_survive_kill_9(tmp_path: Path) -> None:
    db = tmp_path / "mock.sqlite3"
    proc, url, keys = start_mock(db)
    try:
        with api(url, keys[0]) as client:
            made = [create(client, capture=False) for _ in range(20)]
            for checkout in made[:10]:
                assert (
                    client.post(
                        "/checkout/test/pay", json={"checkout_id": checkout["checkout_id"]}
                    ).status_code
                    == 200
                )
            assert (
                client.post(
                    "/checkout/capture", json={"checkout_id": made[0]["checkout_id"]}
                ).status_code
                == 200
            )
            refund = client.post(
                "/checkout/refund", json={"checkout_id": made[0]["checkout_id"], "amount": 100}
            )
            assert refund.status_code == 200
            customer = client.post(
                "/checkout/create-customer",
                json={"first_name": "K", "last_name": "L", "email": "k@l.se"},
            ).json()
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=10)
    proc, url, keys2 = start_mock(db, new_keys=0)
    try:
        assert keys2 == []  # keys are stored with the data, and printed only when made
        with api(url, keys[0]) as client:
            for index, checkout in enumerate(made):
                again = client.post(
                    "/checkout/retrieve", json={"checkout_id": checkout["checkout_id"]}
                ).json()
                expected = (
                    "partialRefund" if index == 0 else "reserved" if index < 10 else "created"
                )
                assert again["status"] == expected
            assert (
                client.post(
                    "/checkout/retrieve", json={"checkout_id": made[0]["checkout_id"]}
                ).json()["refunded_amount"]
                == 100
            )
            assert (
                client.post(
                    "/checkout/retrieve-customer", json={"customer_id": customer["customer_id"]}
                ).status_code
                == 200
            )
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=10)
    for key in keys:
        assert key not in err  # never logged


def test_hundred_concurrent_partial_refunds(server: RunningServer) -> None:
    with api(server.url, server.test_key) as client:
        checkout = create(client, amount=5000)
        client.post("/checkout/test/pay", json={"checkout_id": checkout["checkout_id"]})
    cid = checkout["checkout_id"]

    def refund(_: int) -> int:
        with api(server.url, server.test_key) as own:
            return own.post("/checkout/refund", json={"checkout_id": cid, "amount": 73}).status_code

    with ThreadPoolExecutor(max_workers=32) as pool:
        statuses = list(pool.map(refund, range(100)))
    with api(server.url, server.test_key) as client:
        final = client.post("/checkout/retrieve", json={"checkout_id": cid}).json()
    accepted = statuses.count(200)
    assert set(statuses) <= {200, 409}
    assert accepted == 5000 // 73 == len(final["refunds"])
    assert (
        final["refunded_amount"]
        == sum(r["amount"] for r in final["refunds"])
        == accepted * 73
        <= 5000
    )
    assert final["status"] == "partialRefund"


def test_hundred_concurrent_idempotent_retries_refund_once(server: RunningServer) -> None:
    with api(server.url, server.test_key) as client:
        checkout = create(client)
        client.post("/checkout/test/pay", json={"checkout_id": checkout["checkout_id"]})
    body = {"checkout_id": checkout["checkout_id"], "amount": 10}

    def retry(_: int) -> tuple[int, str]:
        with httpx.Client(
            base_url=server.url,
            headers={"Authorization": f"Bearer {server.test_key}", "Idempotency-Key": "same"},
        ) as own:
            resp = own.post("/checkout/refund", json=body)
            return resp.status_code, resp.text

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(retry, range(100)))
    assert {status for status, _ in answers} == {200}
    assert len({text for _, text in answers}) == 1
    with api(server.url, server.test_key) as client:
        final = client.post(
            "/checkout/retrieve", json={"checkout_id": checkout["checkout_id"]}
        ).json()
    assert final["refunded_amount"] == 10
    assert len(final["refunds"]) == 1


def test_mock_refuses_files_that_are_not_its_databases(tmp_path: Path) -> None:
    """--db pointing at a text file or at another program's SQLite database: one line, exit 2,
    and the file is left exactly as it was (no tables of ours written into it)."""
    notes = tmp_path / "notes.txt"
    notes.write_text("my precious notes\n" * 100)
    other = tmp_path / "other.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER)")
        conn.execute("INSERT INTO invoices (total) VALUES (42)")
    conn.close()
    before = {path: path.read_bytes() for path in (notes, other)}
    for path, reason in (
        (notes, f"cannot open database {notes}: file is not a database"),
        (
            other,
            f"{other} is a database of another program (tables: invoices); choose another --db",
        ),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "neuropay_contract", "mock", "--port", "0", "--db", str(path)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert proc.returncode == 2
        assert proc.stderr.splitlines() == [f"neuropay: error: {reason}"]
        assert path.read_bytes() == before[path]


def test_a_database_from_before_the_marker_is_still_ours(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    key = ApiKey("sk_test_" + "1" * 32, "merchant-1", "test")
    store = Store(db)
    store.run(lambda s: s.add_key(stored(key)))
    store.close()
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA application_id = 0")  # as written by an earlier version
    conn.close()
    store = Store(db)
    try:
        assert [k.key_hash for k in store.run(lambda s: s.api_keys())] == [key_hash(key.key)]
    finally:
        store.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    conn.close()
