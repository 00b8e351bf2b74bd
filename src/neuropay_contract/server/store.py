"""SQLite storage of the reference server.

Every call runs on one dedicated thread holding one connection, so each state change is a single
serialized transaction: concurrent refunds of one checkout cannot interleave, and ``:memory:``
works. WAL with ``synchronous=FULL``: a write is on disk before it is acknowledged.

Group commit: the calls that queue up while one commit is being fsync'd run together next, each
in its own savepoint inside one transaction, and share one ``COMMIT`` (one fsync). A call's
future is resolved only after that ``COMMIT`` returned, so an answer still means "on disk". A
call that fails rolls back to its savepoint and leaves the others of its batch untouched.
Several processes may share one file (``neuropay mock --workers N``): ``BEGIN IMMEDIATE`` makes
their transactions take turns. They queue for those turns on an ``flock`` of the database file:
SQLite's own wait for a busy database polls with sleeps of up to 100 ms, which under load made the
tail latency of two workers several times that of one; a blocked ``flock`` wakes as soon as the
other process's commit is done. (``flock`` locks are independent of SQLite's POSIX locks, and
the descriptor is closed only after the connection.)
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from ..errors import NeuropayError
from .jsoncodec import dumps_text, loads
from .keys import StoredKey, display_prefix, key_hash
from .records import CheckoutRecord, CustomerRecord
from .storage import IdempotencyRecord, KeyConflict, Storage, Tables

T = TypeVar("T")

# PRAGMA application_id of our databases ("NPAY"): tells them from other programs' SQLite files.
APPLICATION_ID = 0x4E504159
OUR_TABLES = frozenset({"api_keys", "checkouts", "customers", "idempotency"})
# At most this many calls share one commit: bounds how long the first of them waits.
MAX_BATCH = 64
# Expired idempotency records are swept at most this often (not on every keyed request).
SWEEP_EVERY_S = 60.0

# Keys are stored as SHA-256 hex (the same digest scopes idempotency records) and a display
# prefix; the key itself never reaches the file.
_KEYS_TABLE = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_hash TEXT PRIMARY KEY,
    prefix TEXT NOT NULL,
    merchant TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('test', 'live')),
    created REAL NOT NULL
)"""

_SCHEMA = (
    _KEYS_TABLE
    + """;
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
)


class _Outcome(Protocol):
    """Where a call's result goes: a thread's Future, or an event loop's (:class:`_LoopFuture`)."""

    def set_running_or_notify_cancel(self) -> bool: ...

    def set_result(self, value: Any) -> None: ...

    def set_exception(self, exc: BaseException) -> None: ...


class _LoopFuture:
    """Resolves an asyncio future from the database thread with one ``call_soon_threadsafe``
    (a concurrent Future chained by ``wrap_future`` costs a lock, a condition and two hops)."""

    __slots__ = ("_future", "_loop")

    def __init__(self, future: asyncio.Future[Any]) -> None:
        self._future = future
        self._loop = future.get_loop()

    def set_running_or_notify_cancel(self) -> bool:
        return not self._future.done()  # a waiter that went away (cancelled) needs no run

    def set_result(self, value: Any) -> None:
        self._loop.call_soon_threadsafe(_settle, self._future, value, None)

    def set_exception(self, exc: BaseException) -> None:
        self._loop.call_soon_threadsafe(_settle, self._future, None, exc)


def _settle(future: asyncio.Future[Any], value: Any, exc: BaseException | None) -> None:
    if not future.done():
        if exc is None:
            future.set_result(value)
        else:
            future.set_exception(exc)


@dataclass
class _Call:
    fn: Callable[[Store], Any]
    future: _Outcome
    transaction: bool = True
    read_only: bool = False  # writes nothing: may run without the write lock


class Store(Storage, Tables):
    """The server's SQLite database. Use :meth:`run` to execute a function inside one
    transaction; the function gets the store itself (one connection, one thread)."""

    def __init__(self, db_path: str | Path) -> None:
        self.db_path = str(db_path)
        self.description = self.db_path
        if self.db_path != ":memory:":
            _create_private(Path(self.db_path))
        self._conn: sqlite3.Connection | None = None
        self._turns: int | None = None  # descriptor of the database file, for flock
        self._calls: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._swept = 0.0
        self._thread = threading.Thread(target=self._serve, name="neuropay-db", daemon=True)
        self._thread.start()
        try:
            self._direct(self._open).result()
        except sqlite3.DatabaseError as exc:
            self._stop()
            hint = "" if "not a database" in str(exc) else "; choose a --db this user can write"
            raise NeuropayError(f"cannot open database {self.db_path}: {exc}{hint}") from None
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
        # Deleted rows (a revoked key, the plain keys of an old schema) are overwritten, not
        # left readable in free pages.
        conn.execute("PRAGMA secure_delete=ON")
        _hash_plain_keys(conn)
        conn.executescript(_SCHEMA)
        # A read-only file opens and reads fine, then fails every write: find out now, at start,
        # not as a 500 on the first request.
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(f"PRAGMA user_version = {int(version)}")
            conn.execute("COMMIT")
        except sqlite3.DatabaseError:
            conn.execute("ROLLBACK")
            conn.close()
            raise
        self._conn = conn
        if self.db_path != ":memory:":
            self._turns = os.open(self.db_path, os.O_RDONLY | os.O_CLOEXEC)

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

    async def call(self, fn: Callable[[Store], T], read_only: bool = False) -> T:
        """:meth:`submit` for a coroutine on an event loop: resolved by the database thread
        directly on the loop. A batch of ``read_only`` calls only is a plain read transaction:
        it does not queue for the write turn another worker process may hold."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._calls.put(_Call(fn, _LoopFuture(future), read_only=read_only))
        return await future

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
        if all(call.read_only for call in batch):  # a WAL snapshot: no turn, no fsync
            self._run_batch(conn, batch, outcomes, "BEGIN")
            return
        if self._turns is not None:
            fcntl.flock(self._turns, fcntl.LOCK_EX)
        try:
            self._run_batch(conn, batch, outcomes)
        finally:
            if self._turns is not None:
                fcntl.flock(self._turns, fcntl.LOCK_UN)

    def _run_batch(
        self,
        conn: sqlite3.Connection,
        batch: list[_Call],
        outcomes: list[tuple[bool, Any]],
        begin: str = "BEGIN IMMEDIATE",
    ) -> None:
        try:
            conn.execute(begin)
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
            if self._turns is not None:
                os.close(self._turns)
                self._turns = None

        self._direct(_close).result()
        self._stop()

    def _stop(self) -> None:
        self._calls.put(None)
        self._thread.join(timeout=30)

    # -- keys (call inside run) ------------------------------------------------------------
    def api_keys(self) -> list[StoredKey]:
        rows = self.conn.execute(
            "SELECT key_hash, prefix, merchant, mode, created FROM api_keys ORDER BY rowid"
        ).fetchall()
        return [StoredKey(*row) for row in rows]

    def add_key(self, key: StoredKey) -> bool:
        """Store ``key``; False when it is already stored as it is. A key stored for another
        merchant or mode raises :class:`KeyConflict` (never silently moved)."""
        row = self.conn.execute(
            "SELECT merchant, mode FROM api_keys WHERE key_hash = ?", (key.key_hash,)
        ).fetchone()
        if row is not None:
            if (row["merchant"], row["mode"]) != (key.merchant, key.mode):
                raise KeyConflict(
                    f"the key {key.prefix}… is already the {row['mode']} key of"
                    f" {row['merchant']}; revoke it first (neuropay mock keys revoke) or use"
                    " another key"
                )
            return False
        self.conn.execute(
            "INSERT INTO api_keys (key_hash, prefix, merchant, mode, created) "
            "VALUES (?, ?, ?, ?, ?)",
            (key.key_hash, key.prefix, key.merchant, key.mode, key.created or time.time()),
        )
        return True

    def remove_key(self, hashed: str) -> bool:
        """Forget the key with this hash; False when there was none."""
        cursor = self.conn.execute("DELETE FROM api_keys WHERE key_hash = ?", (hashed,))
        return cursor.rowcount > 0

    # -- checkouts -------------------------------------------------------------------------
    def get_checkout(
        self, checkout_id: str, merchant: str | None, mode: str | None
    ) -> CheckoutRecord | None:
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

    def put_checkout(self, checkout: CheckoutRecord, merchant: str, mode: str) -> None:
        self.conn.execute(
            "INSERT INTO checkouts (id, merchant, mode, data) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET data = excluded.data",
            (checkout["checkout_id"], merchant, mode, dumps_text(checkout, finite=True)),
        )

    # -- customers -------------------------------------------------------------------------
    def get_customer(
        self,
        customer_id: str,
        merchant: str | None,
        mode: str | None,
        include_deleted: bool = False,
    ) -> tuple[CustomerRecord, str, str, str] | None:
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
        self, customer: CustomerRecord, merchant: str, mode: str, token: str, deleted: bool = False
    ) -> None:
        self.conn.execute(
            "INSERT INTO customers (id, merchant, mode, token, deleted, data) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(id) DO UPDATE SET data = excluded.data, deleted = excluded.deleted",
            (
                customer["customer_id"],
                merchant,
                mode,
                token,
                int(deleted),
                dumps_text(customer, finite=True),
            ),
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
                dumps_text(record.response, finite=True),
                now,
            ),
        )


def _attempt(fn: Callable[[Store], Any], store: Store) -> tuple[bool, Any]:
    try:
        return True, fn(store)
    except Exception as exc:
        return False, exc


def _resolve(future: _Outcome, fn: Callable[[Store], Any], store: Store) -> None:
    if future.set_running_or_notify_cancel():
        ok, value = _attempt(fn, store)
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


def _create_private(path: Path) -> None:
    """Create the database file readable by its owner only (it holds every checkout and
    customer); an existing file keeps the permissions its owner gave it."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        raise NeuropayError(
            f"cannot create database {path}: {exc.strerror}; choose a --db this user can write"
        ) from None


def _hash_plain_keys(conn: sqlite3.Connection) -> None:
    """Databases made before keys were hashed stored them in plain text: hash them in place."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(api_keys)")}
    if "key" not in columns:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        plain = conn.execute("SELECT key, merchant, mode FROM api_keys ORDER BY rowid").fetchall()
        conn.execute("DROP TABLE api_keys")
        conn.execute(_KEYS_TABLE)
        now = time.time()
        for key, merchant, mode in plain:
            conn.execute(
                "INSERT INTO api_keys (key_hash, prefix, merchant, mode, created) "
                "VALUES (?, ?, ?, ?, ?)",
                (key_hash(key), display_prefix(key), merchant, mode, now),
            )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # no copy of the plain keys left in the WAL
