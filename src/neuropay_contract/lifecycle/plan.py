"""The way to a status: the shortest list of transitions from creation, for anyone who drives a
checkout (the contract suite against a target, the Postman scenarios in a collection)."""

from __future__ import annotations

from collections import deque

from .guards import capture_allows
from .model import Lifecycle, Transition


def plan(
    lifecycle: Lifecycle, target: str, capture: bool | None = None
) -> list[tuple[Transition, bool]]:
    """The shortest list of transitions (with the capture flag) from creation to ``target``."""
    starts = [capture] if capture is not None else [True, False]
    queue: deque[tuple[str, bool, list[tuple[Transition, bool]]]] = deque()
    seen: set[tuple[str, bool]] = set()
    for flag in starts:
        for t in lifecycle.transitions:
            if t.source is None and capture_allows(t.guard, flag):
                queue.append((t.target, flag, [(t, flag)]))
    while queue:
        status, flag, path = queue.popleft()
        if status == target:
            return path
        if (status, flag) in seen:
            continue
        seen.add((status, flag))
        for t in lifecycle.transitions:
            if t.source == status and capture_allows(t.guard, flag) and t.target != status:
                queue.append((t.target, flag, [*path, (t, flag)]))
    raise ValueError(f"x-lifecycle has no path to {target!r}")
