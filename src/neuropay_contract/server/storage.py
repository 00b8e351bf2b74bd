"""What the reference server needs from a database, whichever it is: SQLite (:class:`Store`, one
file, one or more processes) or PostgreSQL (:class:`PgStore`, shared by several instances).

:class:`Storage` runs a function in one transaction; the function gets :class:`Tables`, the
reads and writes of stored objects. Both backends promise the same: a transaction's writes are
durable before its function's result is returned, and transactions on the same checkout,
customer or idempotency key take turns.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from ..errors import NeuropayError
from .keys import StoredKey
from .records import CheckoutRecord, CustomerRecord

T = TypeVar("T")

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class KeyConflict(NeuropayError):
    """A key given for one merchant or mode is already stored for another."""


@dataclass(frozen=True)
class IdempotencyRecord:
    operation: str
    body_hash: str
    status: int
    response: Mapping[str, Any]


class Tables(ABC):
    """Stored objects, read and written inside one transaction (see :meth:`Storage.run`)."""

    @abstractmethod
    def api_keys(self) -> list[StoredKey]:
        """The stored keys (hashes and display prefixes), oldest first."""

    @abstractmethod
    def add_key(self, key: StoredKey) -> bool:
        """Store ``key``; False when it is already stored as it is. A key stored for another
        merchant or mode raises :class:`KeyConflict` (never silently moved)."""

    @abstractmethod
    def remove_key(self, hashed: str) -> bool:
        """Forget the key with this hash; False when there was none."""

    @abstractmethod
    def get_checkout(
        self, checkout_id: str, merchant: str | None, mode: str | None
    ) -> CheckoutRecord | None:
        """The checkout, if it exists (and belongs to ``merchant`` in ``mode`` when given)."""

    @abstractmethod
    def checkout_owner(self, checkout_id: str) -> tuple[str, str] | None: ...

    @abstractmethod
    def put_checkout(self, checkout: CheckoutRecord, merchant: str, mode: str) -> None: ...

    @abstractmethod
    def get_customer(
        self,
        customer_id: str,
        merchant: str | None,
        mode: str | None,
        include_deleted: bool = False,
    ) -> tuple[CustomerRecord, str, str, str] | None:
        """The customer's data, token, merchant and mode."""

    @abstractmethod
    def put_customer(
        self, customer: CustomerRecord, merchant: str, mode: str, token: str, deleted: bool = False
    ) -> None: ...

    @abstractmethod
    def get_idempotency(
        self, api_key_hash: str, idem_key: str, not_before: float
    ) -> IdempotencyRecord | None:
        """The record of a keyed request; until the transaction ends, other transactions asking
        for the same key wait (so simultaneous retries run one after the other)."""

    @abstractmethod
    def put_idempotency(
        self,
        api_key_hash: str,
        idem_key: str,
        record: IdempotencyRecord,
        now: float,
        retention_s: float,
    ) -> None: ...


class Storage(ABC):
    """A database of the reference server."""

    #: What to show for it (a file path, or a URL without its password).
    description: str

    @abstractmethod
    def submit(self, fn: Callable[[Tables], T]) -> Future[T]:
        """Run ``fn`` in one transaction; the future resolves once it is committed (or with the
        error that rolled it back)."""

    async def call(self, fn: Callable[[Tables], T], read_only: bool = False) -> T:
        """:meth:`submit`, awaited on the running event loop. ``read_only``: ``fn`` writes
        nothing (a backend may then skip what only writes need)."""
        return await asyncio.wrap_future(self.submit(fn))

    def run(self, fn: Callable[[Tables], T]) -> T:
        return self.submit(fn).result()

    @abstractmethod
    def close(self) -> None: ...


def is_postgres_url(db: str) -> bool:
    return db.startswith(POSTGRES_SCHEMES)


def open_storage(db: str) -> Storage:
    """The storage ``db`` names: a PostgreSQL URL, else an SQLite file (or ``:memory:``)."""
    if is_postgres_url(db):
        from .pgstore import PgStore

        return PgStore(db)
    from .store import Store

    return Store(db)
