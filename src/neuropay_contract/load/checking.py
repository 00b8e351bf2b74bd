"""The checks of one Locust process, in a process of their own (as ``neuropay proxy`` does): the
load process only sends; each finished exchange goes down a pipe, framed and pickled, in the
order it completed, and this process feeds them to the :class:`TrafficChecker`. At the end it
answers with what it found, as JSON on stdout.

Run as ``python -m neuropay_contract.load.checking [SPEC]`` by ``load.locustfile`` only: the frames
are pickles of our own objects from our own parent, never input from anyone else.

The process runs at a lower CPU priority than the load: on a machine the load saturates, checks
fall behind during the run (bounded: users wait beyond ``MAX_QUEUED`` exchanges) and catch up at
its end, rather than taking CPU from the requests being measured."""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import struct
import sys
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any

HEADER = struct.Struct("!I")
READY = b"R"
# How many objects with findings the answer carries timelines for.
MAX_TIMELINES = 200
# Added to the checking process's nice value (see the module's docstring).
NICENESS = 10


def frame(kind: str, payload: Any) -> bytes:
    data = pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(data)) + data


def _read_exactly(stream: IO[bytes], size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def summary(checker: Any, named: set[str]) -> dict[str, Any]:
    """What the load report needs of a checker: findings, their exchanges, the timelines of the
    objects with findings (or named by the read-back), and the counts."""
    from ..traffic.results import exchange_step

    named = named | {f.object_id for f in checker.findings if f.object_id}
    return {
        "checked": checker.checked,
        "ignored": checker.ignored,
        "total_findings": checker.total_findings,
        "requests": dict(checker.requests),
        "findings": [f.to_dict() for f in checker.findings],
        "steps": {
            str(index): asdict(exchange_step(kept.exchange, kept.operation))
            for index, kept in checker.kept.items()
        },
        "timelines": [
            {
                "kind": o.kind,
                "object_id": o.object_id,
                "owner": o.owner,
                "events": [asdict(e) for e in o.timeline],
            }
            for o in checker.objects
            if o.object_id in named
        ][:MAX_TIMELINES],
    }


def _yield_the_cpu() -> None:
    """A lower CPU priority than the load and the target (not SCHED_IDLE: on a machine kept busy
    by others the checks must still catch up at the end of the run, within the master's wait)."""
    with contextlib.suppress(OSError):
        os.nice(NICENESS)


def main(argv: list[str]) -> int:
    from ..spec import load_spec
    from ..traffic.checker import TrafficChecker
    from .wire import exchange_of

    _yield_the_cpu()
    checker = TrafficChecker(load_spec(Path(argv[0]) if argv and argv[0] else None))
    # Ready: the load process waits for this byte, so that loading the spec and the checker's
    # imports (a second or two of CPU) never overlaps the run.
    sys.stdout.buffer.write(READY)
    sys.stdout.flush()
    stream = sys.stdin.buffer
    named: set[str] = set()
    while True:
        header = _read_exactly(stream, HEADER.size)
        if header is None:
            break
        body = _read_exactly(stream, HEADER.unpack(header)[0])
        if body is None:
            break
        kind, payload = pickle.loads(body)
        if kind == "exchange":
            checker.check(exchange_of(payload))
        elif kind == "end":
            named = set(payload)
            break
    sys.stdout.write(json.dumps(summary(checker, named), default=str))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
