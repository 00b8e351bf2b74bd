"""SQLite storage of the reference server.

Every call runs on one dedicated thread holding one connection, so each state change is a single
serialized transaction: concurrent refunds of one checkout cannot interleave, and ``:memory:``
works. WAL with ``synchronous=FULL``: a write is on disk before it is acknowledged.

Group commit: the calls that queue up while one commit is being fsync'd run together next, each
in its own savepoint inside one transaction, and share one ``COMMIT`` (one fsync). A call's
future is resolved only after that ``COMMIT`` returned, so an answer still means "on disk". A
call that fails rolls back to its savepoint and leaves the others of its batch untouched.
Several processes may share one file (``neuropay mock --workers N``): ``BEGIN IMMEDIATE`` makes
their transactions take turns.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ..errors import NeuropayError
from .jsoncodec import dumps_text, loads

T = TypeVar("T")

# PRAGMA application_id of our databases ("NPAY"): tells them from other programs' SQLite files.
APPLICATION_ID = 0x4E504159
OUR_TABLES = frozenset({"api_keys", "checkouts", "customers", "idempotency"})
# At most this many calls share one commit: bounds how long the first of them waits.
MAX_BATCH = 64
# Expired idempotency records are swept at most this often (not on every keyed request).
SWEEP_EVERY_S = 60.0

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


@dataclass
class _Call:
    fn: Callable[[Store], Any]
    future: Future[Any]
    transaction: bool = True


class Store:
    """The server's database. Use :meth:`run` to execute a function inside one transaction."""

    def __init__(self, db_path: str | Path) -> None:
        self.db_path = str(db_path)
        if self.db_path != ":memory:":
            Path(self.db_path).parent.mkdir(parents=True, exist_ok=True)
        self._conn: sqlite3.Connection | None = None
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._swept = 0.0
        self._thread = threading.Thread(target=self._serve, name="neuropay-db", daemon=True)
        self._thread.start()
        try:
            self._direct(self._open).result()
        except sqlite3.DatabaseError as exc:
            self._stop()
            raise NeuropayError(f"cannot open database {self.db_path}: {exc}") from None
        except BaseException:
            self._stop()
            raise

    def _open(self, _: Store) -> None:
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
        return self.submit(fn).result()

    def submit(self, fn: Callable[[Store], T]) -> Future[T]:
        """Like :meth:`run` but returns the future (for asyncio ``wrap_future``); it resolves
        once the transaction is committed."""
        future: Future[T] = Future()
        self._calls.put(_Call(fn, future))
        return future

    def _direct(self, fn: Callable[[Store], T]) -> Future[T]:
        """Run ``fn`` on the database thread outside any transaction (open, close)."""
        future: Future[T] = Future()
        self._calls.put(_Call(fn, future, transaction=False))
        return future

    def _serve(self) -> None:
        """The database thread: takes the calls waiting and commits them as one batch."""
        while True:
            call = self._calls.get()
            if call is None:
                return
            batch = [call]
            while len(batch) < MAX_BATCH and batch[-1].transaction:
                try:
                    following = self._calls.get_nowait()
                except queue.Empty:
                    break
                if following is None or not following.transaction:
                    self._calls.put(following)  # runs after this batch, on its own
                    break
                batch.append(following)
            if not call.transaction:
                _resolve(call.future, call.fn, self)
            else:
                self._commit_batch([c for c in batch if c.future.set_running_or_notify_cancel()])

    def _commit_batch(self, batch: list[_Call]) -> None:
        if not batch:
            return
        conn = self.conn
        outcomes: list[tuple[bool, Any]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            if len(batch) == 1:
                outcomes.append(_attempt(batch[0].fn, self))
                if not outcomes[0][0]:
                    conn.execute("ROLLBACK")
                    batch[0].future.set_exception(outcomes[0][1])
                    return
            else:
                for call in batch:
                    conn.execute("SAVEPOINT call")
                    outcome = _attempt(call.fn, self)
                    if not outcome[0]:
                        conn.execute("ROLLBACK TO call")
                    conn.execute("RELEASE call")
                    outcomes.append(outcome)
            conn.execute("COMMIT")
        except BaseException as exc:
            # Also when COMMIT itself fails (disk full, read-only file): nothing of the batch is
            # stored, so every call fails and its "nothing changed" is true.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for call in batch:
                call.future.set_exception(exc)
            return
        for call, (ok, value) in zip(batch, outcomes, strict=True):
            if ok:
                call.future.set_result(value)
            else:
                call.future.set_exception(value)

    def close(self) -> None:
        def _close(_: Store) -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        self._direct(_close).result()
        self._stop()

    def _stop(self) -> None:
        self._calls.put(None)
        self._thread.join(timeout=30)

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
        return loads(row["data"]) if row else None

    def checkout_owner(self, checkout_id: str) -> tuple[str, str] | None:
        row = self.conn.execute(
            "SELECT merchant, mode FROM checkouts WHERE id = ?", (checkout_id,)
        ).fetchone()
        return (row["merchant"], row["mode"]) if row else None

    def put_checkout(self, checkout: dict[str, Any], merchant: str, mode: str) -> None:
        self.conn.execute(
            "INSERT INTO checkouts (id, merchant, mode, data) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET data = excluded.data",
            (checkout["checkout_id"], merchant, mode, dumps_text(checkout)),
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
        return loads(row["data"]), row["token"], row["merchant"], row["mode"]

    def put_customer(
        self, customer: dict[str, Any], merchant: str, mode: str, token: str, deleted: bool = False
    ) -> None:
        self.conn.execute(
            "INSERT INTO customers (id, merchant, mode, token, deleted, data) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET data = excluded.data, deleted = excluded.deleted",
            (customer["customer_id"], merchant, mode, token, int(deleted), dumps_text(customer)),
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
            row["operation"], row["body_hash"], row["status"], loads(row["response"])
        )

    def put_idempotency(
        self,
        api_key_hash: str,
        idem_key: str,
        record: IdempotencyRecord,
        now: float,
        retention_s: float,
    ) -> None:
        if now - self._swept >= SWEEP_EVERY_S:  # lookups ignore expired rows; sweep rarely
            self.conn.execute("DELETE FROM idempotency WHERE created < ?", (now - retention_s,))
            self._swept = now
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
                dumps_text(record.response),
                now,
            ),
        )


def _attempt(fn: Callable[[Store], Any], store: Store) -> tuple[bool, Any]:
    try:
        return True, fn(store)
    except Exception as exc:
        return False, exc


def _resolve(future: Future[Any], fn: Callable[[Store], Any], store: Store) -> None:
    if future.set_running_or_notify_cancel():
        ok, value = _attempt(fn, store)
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)
