"""``neuropay test --shard K/N``: a deterministic share of the checks for one machine of a CI
matrix. The checks are ranked by a hash of the run's seed and their id, and dealt round-robin:
every shard of one seed sees the same collection, so the N shares are disjoint, cover every
check and differ in size by at most one; another seed deals them otherwise."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Protocol, TypeVar


class _HasId(Protocol):
    @property
    def nodeid(self) -> str: ...


Item = TypeVar("Item", bound=_HasId)


def _rank(seed: int, check_id: str) -> str:
    return hashlib.sha256(f"{seed}\0{check_id}".encode()).hexdigest()


def shard_of(check_ids: Sequence[str], seed: int, shards: int) -> dict[str, int]:
    """Each check id's shard, from 1 to ``shards``."""
    ranked = sorted(check_ids, key=lambda check_id: (_rank(seed, check_id), check_id))
    return {check_id: index % shards + 1 for index, check_id in enumerate(ranked)}


def split_items(
    items: Sequence[Item], shard: tuple[int, int], seed: int
) -> tuple[list[Item], list[Item]]:
    """(this shard's items, the others), each in collection order."""
    k, n = shard
    owner = shard_of([item.nodeid for item in items], seed, n)
    kept = [item for item in items if owner[item.nodeid] == k]
    return kept, [item for item in items if owner[item.nodeid] != k]
