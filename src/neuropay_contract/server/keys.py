"""API keys of the reference server: each belongs to a merchant and a mode (test or live)."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import UsageError

PREFIXES = {"test": "sk_test_", "live": "sk_live_"}
DEFAULT_MERCHANT = "merchant-1"


@dataclass(frozen=True)
class ApiKey:
    """A key the server accepts. ``repr`` hides the key so it never lands in a log by accident."""

    key: str
    merchant: str
    mode: str

    def __repr__(self) -> str:
        return f"ApiKey(key='{self.key[:8]}…', merchant={self.merchant!r}, mode={self.mode!r})"


def make_key(mode: str) -> str:
    return PREFIXES[mode] + secrets.token_hex(16)


def default_keys() -> list[ApiKey]:
    """A test key and a live key of one merchant, and a test key of a second merchant."""
    return [
        ApiKey(make_key("test"), "merchant-1", "test"),
        ApiKey(make_key("test"), "merchant-2", "test"),
        ApiKey(make_key("live"), "merchant-1", "live"),
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


class KeyRing:
    """Looks keys up in constant time with respect to the presented value."""

    def __init__(self, keys: Iterable[ApiKey]) -> None:
        self._keys = [(k.key.encode(), k) for k in keys]

    def find(self, presented: str) -> ApiKey | None:
        candidate = presented.encode()
        found: ApiKey | None = None
        for raw, key in self._keys:  # no early exit: every key is compared
            if hmac.compare_digest(raw, candidate):
                found = key
        return found


def key_triplet(keys: Iterable[ApiKey]) -> tuple[str, str, str]:
    """(test key, another merchant's test key, live key of the first merchant) from a key list."""
    listed = list(keys)
    first = next(k for k in listed if k.mode == "test")
    second = next(k for k in listed if k.mode == "test" and k.merchant != first.merchant)
    live = next(k for k in listed if k.mode == "live" and k.merchant == first.merchant)
    return first.key, second.key, live.key
