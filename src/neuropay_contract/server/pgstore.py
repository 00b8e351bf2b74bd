"""PostgreSQL storage of the reference server (``neuropay mock --db postgresql://...``), for a
sandbox served by several instances over one database.

Each transaction runs on one of a few connections (one per database thread). The promises are
those of the SQLite store, kept by PostgreSQL:
- Durability: ``synchronous_commit=on`` on every connection, so a commit returns after its WAL
  is flushed (PostgreSQL's own group commit lets simultaneous commits share the flush).
- Money paths: every checkout or customer read in a transaction locks its row
  (``SELECT ... FOR UPDATE``) until the commit, so two refunds of one checkout, from any
  instance, run one after the other and the second sees the first's amount.
- Idempotency: looking a key up takes a transaction-level advisory lock on it, so simultaneous
  retries with one key wait for the first and then read its stored answer.
- Schema: migrations numbered in ``neuropay_schema``, applied at start under an advisory lock
  (instances starting together apply each once). A database with other tables and no
  ``neuropay_schema`` is another program's and is refused.
A transaction that PostgreSQL aborts as a deadlock or serialization failure is retried.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import errors as pg_errors

from ..errors import NeuropayError
from .jsoncodec import dumps_text, loads
from .keys import StoredKey
from .records import CheckoutRecord, CustomerRecord
from .storage import IdempotencyRecord, KeyConflict, Storage, Tables
from .store import OUR_TABLES, SWEEP_EVERY_S

T = TypeVar("T")

# Database threads (and connections) per instance: requests waiting on a row lock must not
# keep every other request waiting too.
CONNECTIONS = 8
RETRIES = 5
# pg_advisory_lock key of schema migrations ("NPAY").
MIGRATION_LOCK = 0x4E504159

MIGRATIONS: list[str] = [
    # 1: the tables of the SQLite store, with the same columns (keys as SHA-256 hex and a
    # display prefix: the key itself never reaches the database).
    """
    CREATE TABLE api_keys (
        seq BIGSERIAL,
        key_hash TEXT PRIMARY KEY,
        prefix TEXT NOT NULL,
        merchant TEXT NOT NULL,
        mode TEXT NOT NULL CHECK (mode IN ('test', 'live')),
        created DOUBLE PRECISION NOT NULL
    );
    CREATE TABLE checkouts (
        id TEXT PRIMARY KEY,
        merchant TEXT NOT NULL,
        mode TEXT NOT NULL,
        data TEXT NOT NULL
    );
    CREATE TABLE customers (
        id TEXT PRIMARY KEY,
        merchant TEXT NOT NULL,
        mode TEXT NOT NULL,
        token TEXT NOT NULL,
        deleted BOOLEAN NOT NULL DEFAULT FALSE,
        data TEXT NOT NULL
    );
    CREATE TABLE idempotency (
        api_key_hash TEXT NOT NULL,
        idem_key TEXT NOT NULL,
        operation TEXT NOT NULL,
        body_hash TEXT NOT NULL,
        status INTEGER NOT NULL,
        response TEXT NOT NULL,
        created DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (api_key_hash, idem_key)
    );
    CREATE INDEX idempotency_created ON idempotency (created);
    """,
]


def redact(url: str) -> str:
    """``url`` without its password, given in the authority or as a ``password`` query
    parameter (libpq reads both): for the banner and every error message."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    kept = [(k, v) for k, v in query if k.lower() != "password"]
    if parts.password is None and len(kept) == len(query):
        return url
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=f"{user}{host}", query=urlencode(kept)))


def _passwords(url: str) -> list[str]:
    parts = urlsplit(url)
    found = [v for k, v in parse_qsl(parts.query) if k.lower() == "password"]
    if parts.password:
        found += [parts.password, unquote(parts.password)]
    return [p for p in found if p]


class StorageUnavailable(NeuropayError):
    """The database stopped answering mid-run (an outage): one line, no traceback."""


class PgTables(Tables):
    """The stored objects over one connection, inside its current transaction."""

    def __init__(self, conn: psycopg.Connection[Any], store: PgStore) -> None:
        self.conn = conn
        self._store = store

    def _one(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        return self.conn.execute(sql, params).fetchone()

    # -- keys --------------------------------------------------------------------------------
    def api_keys(self) -> list[StoredKey]:
        rows = self.conn.execute(
            "SELECT key_hash, prefix, merchant, mode, created FROM api_keys ORDER BY seq"
        ).fetchall()
        return [StoredKey(*row) for row in rows]

    def add_key(self, key: StoredKey) -> bool:
        # Instances starting together on a new database must not both add default keys, nor
        # two `keys add` race on one key.
        self.conn.execute("LOCK TABLE api_keys IN SHARE ROW EXCLUSIVE MODE")
        row = self._one("SELECT merchant, mode FROM api_keys WHERE key_hash = %s", (key.key_hash,))
        if row is not None:
            if (row[0], row[1]) != (key.merchant, key.mode):
                raise KeyConflict(
                    f"the key {key.prefix}… is already the {row[1]} key of {row[0]}; revoke it"
                    " first (neuropay mock keys revoke) or use another key"
                )
            return False
        self.conn.execute(
            "INSERT INTO api_keys (key_hash, prefix, merchant, mode, created) "
            "VALUES (%s, %s, %s, %s, %s)",
            (key.key_hash, key.prefix, key.merchant, key.mode, key.created or time.time()),
        )
        return True

    def remove_key(self, hashed: str) -> bool:
        return self.conn.execute("DELETE FROM api_keys WHERE key_hash = %s", (hashed,)).rowcount > 0

    # -- checkouts ---------------------------------------------------------------------------
    def get_checkout(
        self, checkout_id: str, merchant: str | None, mode: str | None
    ) -> CheckoutRecord | None:
        if merchant is None:
            row = self._one("SELECT data FROM checkouts WHERE id = %s FOR UPDATE", (checkout_id,))
        else:
            row = self._one(
                "SELECT data FROM checkouts WHERE id = %s AND merchant = %s AND mode = %s "
                "FOR UPDATE",
                (checkout_id, merchant, mode),
            )
        return loads(row[0]) if row else None

    def checkout_owner(self, checkout_id: str) -> tuple[str, str] | None:
        row = self._one(
            "SELECT merchant, mode FROM checkouts WHERE id = %s FOR UPDATE", (checkout_id,)
        )
        return (row[0], row[1]) if row else None

    def put_checkout(self, checkout: CheckoutRecord, merchant: str, mode: str) -> None:
        self.conn.execute(
            "INSERT INTO checkouts (id, merchant, mode, data) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET data = excluded.data",
            (checkout["checkout_id"], merchant, mode, dumps_text(checkout, finite=True)),
        )

    # -- customers ---------------------------------------------------------------------------
    def get_customer(
        self,
        customer_id: str,
        merchant: str | None,
        mode: str | None,
        include_deleted: bool = False,
    ) -> tuple[CustomerRecord, str, str, str] | None:
        row = self._one(
            "SELECT data, token, merchant, mode, deleted FROM customers WHERE id = %s FOR UPDATE",
            (customer_id,),
        )
        if row is None or (row[4] and not include_deleted):
            return None
        if merchant is not None and (row[2], row[3]) != (merchant, mode):
            return None
        return loads(row[0]), row[1], row[2], row[3]

    def put_customer(
        self, customer: CustomerRecord, merchant: str, mode: str, token: str, deleted: bool = False
    ) -> None:
        self.conn.execute(
            "INSERT INTO customers (id, merchant, mode, token, deleted, data) "
            "VALUES (%s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET data = excluded.data, deleted = excluded.deleted",
            (
                customer["customer_id"],
                merchant,
                mode,
                token,
                deleted,
                dumps_text(customer, finite=True),
            ),
        )

    # -- idempotency -------------------------------------------------------------------------
    def get_idempotency(
        self, api_key_hash: str, idem_key: str, not_before: float
    ) -> IdempotencyRecord | None:
        self.conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            (f"{api_key_hash}:{idem_key}",),
        )
        row = self._one(
            "SELECT operation, body_hash, status, response FROM idempotency "
            "WHERE api_key_hash = %s AND idem_key = %s AND created >= %s",
            (api_key_hash, idem_key, not_before),
        )
        return IdempotencyRecord(row[0], row[1], row[2], loads(row[3])) if row else None

    def put_idempotency(
        self,
        api_key_hash: str,
        idem_key: str,
        record: IdempotencyRecord,
        now: float,
        retention_s: float,
    ) -> None:
        if self._store.sweep_due(now):
            self.conn.execute("DELETE FROM idempotency WHERE created < %s", (now - retention_s,))
        self.conn.execute(
            "INSERT INTO idempotency "
            "(api_key_hash, idem_key, operation, body_hash, status, response, created) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (api_key_hash, idem_key) DO UPDATE SET operation = excluded.operation, "
            "body_hash = excluded.body_hash, status = excluded.status, "
            "response = excluded.response, created = excluded.created",
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


class PgStore(Storage):
    """The server's PostgreSQL database: :meth:`run` executes a function in one transaction on
    one of :data:`CONNECTIONS` connections."""

    def __init__(self, url: str, connections: int = CONNECTIONS) -> None:
        self.url = url
        self.description = redact(url)
        self._passwords = _passwords(url)
        self._local = threading.local()
        self._connections: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()
        self._swept = 0.0
        self._executor = ThreadPoolExecutor(connections, thread_name_prefix="neuropay-pg")
        try:
            conn = self._connection()
            self._migrate(conn)
        except BaseException:
            self.close()
            raise

    def _scrub(self, text: str) -> str:
        """A driver's message without the password, should it quote the connection string."""
        for password in self._passwords:
            text = text.replace(password, "***")
        return text

    def _connection(self) -> psycopg.Connection[Any]:
        conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if conn is not None and not conn.closed:
            return conn
        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        except psycopg.Error as exc:
            reason = self._scrub(" ".join(str(exc).split()) or type(exc).__name__)
            raise NeuropayError(
                f"cannot connect to PostgreSQL at {self.description}: {reason}"
            ) from None
        conn.execute("SET synchronous_commit = on")
        self._local.conn = conn
        with self._lock:
            self._connections.append(conn)
        return conn

    def _migrate(self, conn: psycopg.Connection[Any]) -> None:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            tables = {
                row[0]
                for row in conn.execute(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_schema = current_schema()"
                )
            }
            if "neuropay_schema" not in tables:
                if tables - OUR_TABLES:
                    raise NeuropayError(
                        f"{self.description} is a database of another program"
                        f" (tables: {', '.join(sorted(tables))}); choose another --db"
                    )
                conn.execute("CREATE TABLE neuropay_schema (version INTEGER NOT NULL)")
                conn.execute("INSERT INTO neuropay_schema VALUES (0)")
            row = conn.execute("SELECT version FROM neuropay_schema").fetchone()
            version = int(row[0]) if row else 0
            if version > len(MIGRATIONS):
                raise NeuropayError(
                    f"{self.description} was written by a newer neuropay (schema {version});"
                    " upgrade neuropay-contract"
                )
            for number, sql in enumerate(MIGRATIONS[version:], start=version + 1):
                conn.execute(sql)
                conn.execute("UPDATE neuropay_schema SET version = %s", (number,))

    def sweep_due(self, now: float) -> bool:
        with self._lock:
            if now - self._swept < SWEEP_EVERY_S:
                return False
            self._swept = now
            return True

    def submit(self, fn: Callable[[Tables], T]) -> Future[T]:
        return self._executor.submit(self._transaction, fn)

    def _transaction(self, fn: Callable[[Tables], T]) -> T:
        for attempt in range(RETRIES):
            conn = self._connection()
            try:
                with conn.transaction():
                    return fn(PgTables(conn, self))
            except (pg_errors.DeadlockDetected, pg_errors.SerializationFailure):
                if attempt == RETRIES - 1:
                    raise
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                reason = self._scrub(" ".join(str(exc).split()) or type(exc).__name__)
                raise StorageUnavailable(
                    f"PostgreSQL at {self.description} failed: {reason[:300]}"
                ) from None
            # Not retried: a connection lost during COMMIT may have committed (the next call
            # opens a new connection).
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
