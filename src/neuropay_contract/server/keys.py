"""API keys of the reference server: each belongs to a merchant and a mode (test or live).

The server stores only a key's SHA-256 and a short display prefix: a copied database file or a
``keys list`` gives nobody a key that works. The full key exists only where it was made (printed
once) or where the operator keeps it."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..documents import DocumentError, read_text
from ..errors import UsageError
from ..spec import DEFAULT_KEY_PREFIXES

PREFIXES = dict(DEFAULT_KEY_PREFIXES)
DEFAULT_MERCHANT = "merchant-1"


@dataclass(frozen=True)
class ApiKey:
    """A key the server accepts. ``repr`` hides the key so it never lands in a log by accident."""

    key: str
    merchant: str
    mode: str

    def __repr__(self) -> str:
        return f"ApiKey(key='{self.key[:8]}…', merchant={self.merchant!r}, mode={self.mode!r})"


@dataclass(frozen=True)
class StoredKey:
    """A key as the database holds it: its hash and display prefix, never the key itself."""

    key_hash: str
    prefix: str
    merchant: str
    mode: str
    created: float = 0.0

    @property
    def shown(self) -> str:
        return f"{self.prefix}…"


def key_hash(key: str) -> str:
    """The stored form of a key (also what idempotency records are scoped by)."""
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()


def display_prefix(key: str) -> str:
    """Enough of ``key`` to tell keys apart in a list: the ``sk_test_``/``sk_live_`` marker and
    four more characters, never more than a third of the key."""
    marker = next((p for p in PREFIXES.values() if key.startswith(p)), "")
    return key[: min(len(marker) + 4, len(key) // 3)]


def stored(key: ApiKey, created: float = 0.0) -> StoredKey:
    return StoredKey(key_hash(key.key), display_prefix(key.key), key.merchant, key.mode, created)


def make_key(mode: str) -> str:
    return PREFIXES[mode] + secrets.token_hex(16)


def default_keys() -> list[ApiKey]:
    """A test key and a live key of one merchant, a test key of a second merchant, and a second
    test key of the first merchant (as after a key rotation: objects belong to the merchant, so
    it sees what the first key made)."""
    return [
        ApiKey(make_key("test"), "merchant-1", "test"),
        ApiKey(make_key("test"), "merchant-2", "test"),
        ApiKey(make_key("live"), "merchant-1", "live"),
        ApiKey(make_key("test"), "merchant-1", "test"),
    ]


def parse_key_option(value: str) -> ApiKey:
    """``KEY[:test|live][@MERCHANT]``; the mode defaults from the key's prefix, else test."""
    merchant = DEFAULT_MERCHANT
    if "@" in value:
        value, merchant = value.rsplit("@", 1)
    mode = "live" if value.startswith(PREFIXES["live"]) else "test"
    if ":" in value:
        value, mode = value.rsplit(":", 1)
    if mode not in PREFIXES:
        raise UsageError(f"--api-key mode must be 'test' or 'live', not {mode!r}")
    if not value or any(c.isspace() for c in value) or not merchant:
        raise UsageError("--api-key needs KEY[:test|live][@MERCHANT] with a key without spaces")
    return ApiKey(value, merchant, mode)


def read_key_file(path: Path) -> list[ApiKey]:
    """Keys from a file, one ``KEY[:test|live][@MERCHANT]`` a line; blank lines and ``#``
    comments are skipped. Keeps keys out of the command line (and so out of ``ps``)."""
    try:
        text = read_text(path, "--api-key-file", limit=1 << 20)
    except DocumentError as exc:
        raise UsageError(str(exc)) from None
    keys = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if line and not line.startswith("#"):
            try:
                keys.append(parse_key_option(line))
            except UsageError as exc:
                raise UsageError(f"{path} line {number}: {exc}") from None
    if not keys:
        raise UsageError(f"--api-key-file {path} holds no key")
    return keys


class KeyRing:
    """Finds the stored key a request presents, by hash (a dictionary lookup on a SHA-256
    digest: how long it takes says nothing about how close a guess was)."""

    def __init__(self, keys: Iterable[StoredKey]) -> None:
        self._keys = {k.key_hash: k for k in keys}

    def find(self, presented: str) -> StoredKey | None:
        return self._keys.get(key_hash(presented))


def same_merchant_key(keys: Iterable[ApiKey]) -> str | None:
    """Another test key of the merchant of :func:`key_triplet`'s first key (None when there is
    none): the suite tells with it whether objects belong to the merchant or to the key."""
    listed = list(keys)
    first = next(k for k in listed if k.mode == "test")
    return next(
        (
            k.key
            for k in listed
            if k is not first and k.mode == "test" and k.merchant == first.merchant
        ),
        None,
    )


def key_triplet(keys: Iterable[ApiKey]) -> tuple[str, str, str]:
    """(test key, another merchant's test key, live key of the first merchant) from a key list."""
    listed = list(keys)
    first = next(k for k in listed if k.mode == "test")
    second = next(k for k in listed if k.mode == "test" and k.merchant != first.merchant)
    live = next(k for k in listed if k.mode == "live" and k.merchant == first.merchant)
    return first.key, second.key, live.key
