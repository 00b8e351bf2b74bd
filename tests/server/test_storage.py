"""The store interface on both backends (SQLite file, PostgreSQL database): the same reads and
writes give the same results; PostgreSQL's start (migrations, refusals, bad URLs)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from neuropay_contract.errors import NeuropayError
from neuropay_contract.server.keys import ApiKey, stored
from neuropay_contract.server.pgserver import PostgresServer
from neuropay_contract.server.pgstore import MIGRATIONS, PgStore, redact
from neuropay_contract.server.storage import (
    IdempotencyRecord,
    KeyConflict,
    Storage,
    Tables,
    open_storage,
)

# With the shared-sandbox tests on one xdist worker: one PostgreSQL server for all of them.
pytestmark = pytest.mark.xdist_group("shared-sandbox")

CHECKOUT = {"checkout_id": "c" * 32, "status": "created", "amount": 2**70}


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=[pytest.mark.postgres])],
)
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    if request.param == "sqlite":
        opened = open_storage(str(tmp_path / "db.sqlite3"))
    else:
        opened = open_storage(request.getfixturevalue("postgres").new_database())
    try:
        yield opened
    finally:
        opened.close()


def test_keys_are_stored_hashed_in_insertion_order(storage: Storage) -> None:
    b, a = (
        stored(ApiKey("sk_test_" + "b" * 32, "m1", "test")),
        stored(ApiKey("sk_test_" + "a" * 32, "m2", "test")),
    )
    assert storage.run(lambda t: t.add_key(b)) is True
    assert storage.run(lambda t: t.add_key(a)) is True
    assert storage.run(lambda t: t.add_key(b)) is False  # already stored as it is
    with pytest.raises(KeyConflict, match="already the test key of m1"):
        storage.run(lambda t: t.add_key(stored(ApiKey("sk_test_" + "b" * 32, "m3", "live"))))
    keys = storage.run(lambda t: t.api_keys())
    assert [(k.key_hash, k.prefix, k.merchant, k.mode) for k in keys] == [
        (b.key_hash, b.prefix, "m1", "test"),
        (a.key_hash, a.prefix, "m2", "test"),
    ]
    assert "b" * 32 not in repr(keys)
    assert storage.run(lambda t: t.remove_key(b.key_hash)) is True
    assert storage.run(lambda t: t.remove_key(b.key_hash)) is False
    assert [k.merchant for k in storage.run(lambda t: t.api_keys())] == ["m2"]


def test_checkouts_belong_to_their_merchant_and_mode(storage: Storage) -> None:
    storage.run(lambda t: t.put_checkout(dict(CHECKOUT), "m1", "test"))
    assert storage.run(lambda t: t.get_checkout("c" * 32, "m1", "test")) == CHECKOUT
    assert storage.run(lambda t: t.get_checkout("c" * 32, "m2", "test")) is None
    assert storage.run(lambda t: t.get_checkout("c" * 32, "m1", "live")) is None
    assert storage.run(lambda t: t.get_checkout("c" * 32, None, None)) == CHECKOUT
    assert storage.run(lambda t: t.checkout_owner("c" * 32)) == ("m1", "test")
    storage.run(lambda t: t.put_checkout({**CHECKOUT, "status": "paid"}, "m1", "test"))
    assert storage.run(lambda t: t.get_checkout("c" * 32, "m1", "test"))["status"] == "paid"


def test_deleted_customers_are_found_only_when_asked(storage: Storage) -> None:
    customer = {"customer_id": "u" * 32, "savedCards": []}
    storage.run(lambda t: t.put_customer(customer, "m1", "test", "tok", deleted=True))
    assert storage.run(lambda t: t.get_customer("u" * 32, "m1", "test")) is None
    found = storage.run(lambda t: t.get_customer("u" * 32, "m1", "test", include_deleted=True))
    assert found == (customer, "tok", "m1", "test")
    assert storage.run(lambda t: t.get_customer("u" * 32, "m2", "test", True)) is None


def test_idempotency_records_expire(storage: Storage) -> None:
    record = IdempotencyRecord("refundCheckout", "h", 200, {"ok": True})
    now = time.time()
    storage.run(lambda t: t.put_idempotency("kh", "k1", record, now - 100, 3600))
    assert storage.run(lambda t: t.get_idempotency("kh", "k1", now - 3600)) == record
    assert storage.run(lambda t: t.get_idempotency("kh", "k1", now - 50)) is None
    assert storage.run(lambda t: t.get_idempotency("other", "k1", now - 3600)) is None


def test_a_failing_transaction_leaves_nothing(storage: Storage) -> None:
    def fails(t: Tables) -> None:
        t.put_checkout(dict(CHECKOUT), "m1", "test")
        raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        storage.run(fails)
    assert storage.run(lambda t: t.get_checkout("c" * 32, None, None)) is None


@pytest.mark.postgres
def test_migrations_run_once_and_record_the_schema_version(postgres: PostgresServer) -> None:
    url = postgres.new_database()
    PgStore(url).close()
    PgStore(url).close()  # a second start finds the schema current
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT version FROM neuropay_schema").fetchall() == [
            (len(MIGRATIONS),)
        ]


@pytest.mark.postgres
def test_another_programs_database_is_refused_untouched(postgres: PostgresServer) -> None:
    url = postgres.new_database()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    with pytest.raises(NeuropayError, match=r"another program \(tables: invoices\)"):
        PgStore(url)
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    assert tables == [("invoices",)]


def test_an_unreachable_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    with socket_closed_port() as port:
        url = f"postgresql://neuropay:s3cret@127.0.0.1:{port}/sandbox"
        proc = subprocess.run(
            [sys.executable, "-m", "neuropay_contract", "mock", "--port", "0", "--db", url],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 2
    lines = proc.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        f"neuropay: error: cannot connect to PostgreSQL at postgresql://neuropay@127.0.0.1:{port}/sandbox: "
    )
    assert "s3cret" not in proc.stderr + proc.stdout


def test_redact_keeps_everything_but_the_password() -> None:
    assert (
        redact("postgresql://u:p@h:5/db?sslmode=require") == "postgresql://u@h:5/db?sslmode=require"
    )
    assert redact("postgresql://h/db") == "postgresql://h/db"


class socket_closed_port:
    """A loopback port nobody listens on (bound, then released)."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        return None


@pytest.mark.postgres
def test_keys_commands_manage_a_postgresql_sandbox(postgres: PostgresServer) -> None:
    url = postgres.new_database()

    def keys(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "neuropay_contract", "mock", "keys", *args, "--db", url],
            capture_output=True,
            text=True,
            timeout=60,
        )

    added = keys("add", "sk_test_" + "d" * 32 + "@team-a")
    assert added.returncode == 0, added.stderr
    listed = keys("list")
    assert listed.returncode == 0 and "team-a" in listed.stdout
    assert "d" * 32 not in listed.stdout  # only the display prefix
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT merchant FROM api_keys").fetchall()
    assert rows == [("team-a",)]
    assert keys("revoke", "sk_test_" + "d" * 32).returncode == 0
    assert "team-a" not in keys("list").stdout
