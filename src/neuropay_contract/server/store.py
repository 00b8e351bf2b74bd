"""SQLite storage of the reference server.

Every call runs on one dedicated thread holding one connection, so each state change is a single
serialized transaction: concurrent refunds of one checkout cannot interleave, and ``:memory:``
works. WAL with ``synchronous=FULL``: a write is on disk before it is acknowledged.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ..errors import NeuropayError

T = TypeVar("T")

# PRAGMA application_id of our databases ("NPAY"): tells them from other programs' SQLite files.
APPLICATION_ID = 0x4E504159
OUR_TABLES = frozenset({"api_keys", "checkouts", "customers", "idempotency"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key TEXT PRIMARY KEY,
    merchant TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('test', 'live'))
);
CREATE TABLE IF NOT EXISTS checkouts (
    id TEXT PRIMARY KEY,
    merchant TEXT NOT NULL,
    mode TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS customers (
    id TEXT PRIMARY KEY,
    merchant TEXT NOT NULL,
    mode TEXT NOT NULL,
    token TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    api_key_hash TEXT NOT NULL,
    idem_key TEXT NOT NULL,
    operation TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (api_key_hash, idem_key)
);
"""


@dataclass(frozen=True)
class StoredKey:
    key: str
    merchant: str
    mode: str


@dataclass(frozen=True)
class IdempotencyRecord:
    operation: str
    body_hash: str
    status: int
    response: dict[str, Any]


class Store:
    """The server's database. Use :meth:`run` to execute a function inside one transaction."""

    def __init__(self, db_path: str | Path) -> None:
        self.db_path = str(db_path)
        if self.db_path != ":memory:":
            Path(self.db_path).parent.mkdir(parents=True, exist_ok=True)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="neuropay-db")
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        try:
            self._executor.submit(self._open).result()
        except sqlite3.DatabaseError as exc:
            self._executor.shutdown(wait=True)
            raise NeuropayError(f"cannot open database {self.db_path}: {exc}") from None
        except NeuropayError:
            self._executor.shutdown(wait=True)
            raise

    def _open(self) -> None:
        conn = sqlite3.connect(self.db_path, isolation_level=None, check_same_thread=False)
        try:
            self._claim(conn)
        except BaseException:
            conn.close()
            raise
        conn.row_factory = sqlite3.Row
        if self.db_path != ":memory:":
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=10000")
        conn.executescript(_SCHEMA)
        self._conn = conn

    def _claim(self, conn: sqlite3.Connection) -> None:
        """Use only a new database or one of ours: a --db that points at another program's
        SQLite file must not get our tables written into it (nor be read as ours)."""
        application_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
        if application_id == APPLICATION_ID:
            return
        # No marker: a new file, or one written before the marker existed (only our tables).
        if application_id == 0 and tables <= OUR_TABLES:
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            return
        raise NeuropayError(
            f"{self.db_path} is a database of another program"
            f" (tables: {', '.join(sorted(tables)) or 'none'}); choose another --db"
        )

    @property
    def conn(self) -> sqlite3.Connection:
        assert self._conn is not None, "store is closed"
        return self._conn

    def run(self, fn: Callable[[Store], T]) -> T:
        """Run ``fn(self)`` on the database thread inside one transaction (rolled back on error)."""
        return self._executor.submit(self._transaction, fn).result()

    def submit(self, fn: Callable[[Store], T]) -> Any:
        """Like :meth:`run` but returns the future (for asyncio ``wrap_future``)."""
        return self._executor.submit(self._transaction, fn)

    def _transaction(self, fn: Callable[[Store], T]) -> T:
        with self._tx():
            return fn(self)

    @contextmanager
    def _tx(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            self.conn.execute("COMMIT")
        except BaseException:
            # Also when COMMIT itself fails (disk full, read-only file): the transaction is
            # undone, so the caller's "nothing changed" is true.
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        def _close() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        self._executor.submit(_close).result()
        self._executor.shutdown(wait=True)

    # -- keys (call inside run) ------------------------------------------------------------
    def api_keys(self) -> list[StoredKey]:
        rows = self.conn.execute(
            "SELECT key, merchant, mode FROM api_keys ORDER BY rowid"
        ).fetchall()
        return [StoredKey(r["key"], r["merchant"], r["mode"]) for r in rows]

    def add_key(self, key: str, merchant: str, mode: str) -> None:
        self.conn.execute(
            "INSERT INTO api_keys (key, merchant, mode) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET merchant = excluded.merchant, mode = excluded.mode",
            (key, merchant, mode),
        )

    # -- checkouts -------------------------------------------------------------------------
    def get_checkout(
        self, checkout_id: str, merchant: str | None, mode: str | None
    ) -> dict[str, Any] | None:
        if merchant is None:
            row = self.conn.execute(
                "SELECT data FROM checkouts WHERE id = ?", (checkout_id,)
            ).fetchone()
        else:
            row = self.conn.execute(
                "SELECT data FROM checkouts WHERE id = ? AND merchant = ? AND mode = ?",
                (checkout_id, merchant, mode),
            ).fetchone()
        return json.loads(row["data"]) if row else None

    def checkout_owner(self, checkout_id: str) -> tuple[str, str] | None:
        row = self.conn.execute(
            "SELECT merchant, mode FROM checkouts WHERE id = ?", (checkout_id,)
        ).fetchone()
        return (row["merchant"], row["mode"]) if row else None

    def put_checkout(self, checkout: dict[str, Any], merchant: str, mode: str) -> None:
        self.conn.execute(
            "INSERT INTO checkouts (id, merchant, mode, data) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET data = excluded.data",
            (checkout["checkout_id"], merchant, mode, json.dumps(checkout)),
        )

    # -- customers -------------------------------------------------------------------------
    def get_customer(
        self,
        customer_id: str,
        merchant: str | None,
        mode: str | None,
        include_deleted: bool = False,
    ) -> tuple[dict[str, Any], str, str, str] | None:
        """The customer's data, token, merchant and mode."""
        row = self.conn.execute(
            "SELECT data, token, merchant, mode, deleted FROM customers WHERE id = ?",
            (customer_id,),
        ).fetchone()
        if row is None or (row["deleted"] and not include_deleted):
            return None
        if merchant is not None and (row["merchant"], row["mode"]) != (merchant, mode):
            return None
        return json.loads(row["data"]), row["token"], row["merchant"], row["mode"]

    def put_customer(
        self, customer: dict[str, Any], merchant: str, mode: str, token: str, deleted: bool = False
    ) -> None:
        self.conn.execute(
            "INSERT INTO customers (id, merchant, mode, token, deleted, data) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET data = excluded.data, deleted = excluded.deleted",
            (customer["customer_id"], merchant, mode, token, int(deleted), json.dumps(customer)),
        )

    # -- idempotency -----------------------------------------------------------------------
    def get_idempotency(
        self, api_key_hash: str, idem_key: str, not_before: float
    ) -> IdempotencyRecord | None:
        row = self.conn.execute(
            "SELECT operation, body_hash, status, response FROM idempotency "
            "WHERE api_key_hash = ? AND idem_key = ? AND created >= ?",
            (api_key_hash, idem_key, not_before),
        ).fetchone()
        if row is None:
            return None
        return IdempotencyRecord(
            row["operation"], row["body_hash"], row["status"], json.loads(row["response"])
        )

    def put_idempotency(
        self,
        api_key_hash: str,
        idem_key: str,
        record: IdempotencyRecord,
        now: float,
        retention_s: float,
    ) -> None:
        self.conn.execute("DELETE FROM idempotency WHERE created < ?", (now - retention_s,))
        self.conn.execute(
            "INSERT OR REPLACE INTO idempotency "
            "(api_key_hash, idem_key, operation, body_hash, status, response, created) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                api_key_hash,
                idem_key,
                record.operation,
                record.body_hash,
                record.status,
                json.dumps(record.response),
                now,
            ),
        )
