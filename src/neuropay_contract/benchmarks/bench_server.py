"""`make bench-server`: the reference server vs `prism mock` of the same spec, under the same wrk
load (a create / retrieve / refund mix with bearer auth), side by side and as ratios: Prism, the
server on SQLite with 1 and N workers, and on PostgreSQL with 1 and 2 instances over one database.

Every target runs as its own process(es) for the whole benchmark; they are measured in turns,
round after round (Prism, then each of ours, then Prism again), so a busy machine slows them
alike, and each ratio is the median of the per-round ratios. Two PostgreSQL instances are loaded
by two wrk runs at once (half the connections each): requests/s is their sum, each percentile
the worse of the two.

Where the time went (py-spy at 200 Hz on `neuropay mock -q` under this load, 2 shared cores):
- One fsync per write: the database thread spent ~85% of its samples in ``COMMIT`` and served
  every request, reads included, one transaction at a time. Fixed by group commit (the calls
  queued behind a commit share the next one, each answered after it; see ``server/store.py``):
  the same load went from 531 to 1,739 requests/s under the profiler.
- Request validation: jsonschema's walk with its ``$ref`` lookups was ~35% of the event loop's
  samples (0.6 ms per create), plus a ``json.dumps`` of the schema per request to find the cached
  validator. Fixed: validators built once per operation, bodies first checked by jsonschema-rs
  (3 us), jsonschema only to word a refusal (``server/validation.py``).
- JSON encoding: ~3% (stdlib ``json.dumps`` of answers and stored rows): orjson now.
- Statements: one ``DELETE`` of expired idempotency records per keyed request: now once a minute.
- Logging: one synchronous stderr write per request on the event loop (and a full pipe stopped
  the server): now a bounded queue written by its own thread (``server/console.py``).
- Refuted: SQLite reads (~4%) and the lifecycle decision (<2%) are not worth caching.
- Workers: SQLite's wait for a database another process holds polls with sleeps of up to
  100 ms; two workers had a p99 several times one worker's. They now queue on an flock of the
  file (five alternating 5 s runs of `--workers 2`: median p99 215 ms vs 386 ms, p90 62 vs
  140 ms, same requests/s within noise; machine load average 10-14).
Second pass (py-spy ``--gil`` at 200 Hz, and the server's CPU time per request from /proc under
the same wrk mix; the GIL is the limit, so every microsecond of Python counts):
- Two sends per answer: uvicorn writes the head and the body separately (two syscalls, two TCP
  segments for the client to read). The head is now held until the body (``server/protocol.py``).
- Starlette's router and exception middleware around every API call (~20% of GIL samples):
  API paths are now answered directly (``SandboxApp``); pages and documents keep Starlette.
- Three ``asyncio.timeout`` per body read (the body is nearly always in memory already): the
  protocol now tells the app when it is, and only a body still arriving is timed.
- Reading stored rows with the standard library (~8%) and a regular expression guarding orjson
  against >64-bit integers (100 us on a checkout with 60 refunds, ~15%!): orjson, guarded by a
  byte translation (10 us).
- A walk of every answer looking for NaN (~6%): numbers beyond a double are refused at parsing
  (I-JSON), so records and answers cannot hold one; integral floats become integers there too.
- The thread hop: a concurrent Future (a condition, a lock) chained by ``wrap_future``: the
  database thread now resolves the loop's own future with one ``call_soon_threadsafe``.
- Small ones: a JSON decoder built per request, a body hash for requests without an
  Idempotency-Key, a timer armed and cancelled per request for the head timeout, a scan of the
  lifecycle's transitions per move, a ``State`` and a URL object built per request.
Server CPU per request went from ~390 to ~220 us under this mix. What is left is mostly the
kernel's socket work, httptools' parsing and the stored checkout's JSON (it grows with its
refunds), on one core per process: ``--workers N`` spreads that over processes.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .._resources import checkout_root, default_spec_path
from ..contract import create_body

DURATION = os.environ.get("BENCH_DURATION", "5s")
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
WORKERS = int(os.environ.get("BENCH_WORKERS", str(max(2, os.cpu_count() or 2))))
PERCENTILES = ("p50_ms", "p90_ms", "p99_ms")

LUA = r"""
local ids = {%(ids)s}
local key = "%(key)s"
local create = '%(create)s'
local n = 0
request = function()
  n = n + 1
  local id = ids[(n %% #ids) + 1]
  local headers = {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"}
  local r = n %% 10
  if r < 3 then
    return wrk.format("POST", "/checkout/create", headers, create)
  elseif r < 8 then
    return wrk.format("POST", "/checkout/retrieve", headers, '{"checkout_id": "' .. id .. '"}')
  else
    return wrk.format("POST", "/checkout/refund", headers, '{"checkout_id": "' .. id .. '", "amount": 1}')
  end
end
"""


@dataclass
class Target:
    """One column: the URLs wrk loads (several: one wrk each, at once) and its wrk script."""

    name: str
    urls: list[str]
    script: Path
    durability: str
    runs: list[dict[str, float]] = field(default_factory=list)


def _wrk(url: str, script: Path, connections: int = CONNECTIONS) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{DURATION}", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for pct in ("50", "90", "99"):
        match = re.search(rf"\s{pct}%\s+([\d.]+)(us|ms|s)", out)
        if match:
            value, unit = float(match.group(1)), match.group(2)
            figures[f"p{pct}_ms"] = (
                value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
            )
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    figures["non_2xx"] = float(non2xx.group(1)) if non2xx else 0.0
    return figures


def measure(target: Target) -> dict[str, float]:
    """One wrk run over the target's URLs at once (the connections split between them)."""
    share = max(2, CONNECTIONS // len(target.urls))
    with ThreadPoolExecutor(len(target.urls)) as pool:
        parts = list(pool.map(lambda url: _wrk(url, target.script, share), target.urls))
    combined = {"rps": sum(p["rps"] for p in parts), "non_2xx": sum(p["non_2xx"] for p in parts)}
    for pct in PERCENTILES:
        if all(pct in p for p in parts):
            combined[pct] = max(p[pct] for p in parts)
    return combined


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _script(ids: list[str], key: str, directory: Path, name: str = "mix.lua") -> Path:
    import json

    path = directory / name
    body = json.dumps(create_body(amount=100_000)).replace("'", "\\'")
    path.write_text(LUA % {"ids": ", ".join(f'"{i}"' for i in ids), "key": key, "create": body})
    return path


def _wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.post(f"{url}/checkout/retrieve", json={}, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


@contextmanager
def neuropay_mock(db: str, *extra: str) -> Iterator[tuple[str, list[str]]]:
    """`neuropay mock -q` on a free port: its URL and the keys it printed."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "neuropay_contract",
            "mock",
            "-q",
            "--port",
            str(port),
            "--db",
            db,
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        keys: list[str] = []
        assert proc.stdout is not None
        for line in proc.stdout:
            if match := re.search(r"key of [\w-]+: (sk_\w+)$", line.rstrip()):
                keys.append(match.group(1))
            if line.startswith("  try:"):
                break
        url = f"http://127.0.0.1:{port}"
        _wait_for(url)
        yield url, keys
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _seed(url: str, key: str) -> list[str]:
    """A hundred paid checkouts to retrieve and refund."""
    ids = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as client:
        for _ in range(100):
            checkout = client.post("/checkout/create", json=create_body(amount=100_000)).json()
            client.post("/checkout/test/pay", json={"checkout_id": checkout["checkout_id"]})
            ids.append(checkout["checkout_id"])
    return ids


@contextmanager
def prism(root: Path) -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen(
        [
            str(root / "node_modules" / ".bin" / "prism"),
            "mock",
            str(default_spec_path()),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "--errors",
            "false",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_for(url)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _pg_durability(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as conn:
        fsync = conn.execute("SHOW fsync").fetchone()
        level = conn.execute("SHOW wal_sync_method").fetchone()
    return (
        f"PostgreSQL synchronous_commit=on, fsync={fsync[0] if fsync else '?'}"
        f" ({level[0] if level else '?'})"
    )


def main() -> int:
    if shutil.which("wrk") is None:
        print("bench-server: wrk is missing (make setup installs it)")
        return 2
    from ..server.pgserver import postgres_bin, running_postgres

    if postgres_bin() is None:
        print("bench-server: PostgreSQL is missing (make setup installs it)")
        return 2
    root = checkout_root() or Path.cwd()
    sqlite_durability = "SQLite WAL, synchronous=FULL, group commit"
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        folder = Path(tmp)
        pg = stack.enter_context(running_postgres())
        targets = [
            Target("prism mock", [stack.enter_context(prism(root))], folder / "prism.lua", "none (stateless)"),
        ]  # fmt: skip
        ours: list[tuple[str, str, tuple[str, ...], int, str]] = [
            ("sqlite, 1 worker", str(folder / "one.sqlite3"), (), 1, sqlite_durability),
            (
                f"sqlite, {WORKERS} workers",
                str(folder / "n.sqlite3"),
                ("--workers", str(WORKERS)),
                1,
                sqlite_durability,
            ),
        ]
        pg_one, pg_two = pg.new_database(), pg.new_database()
        durability = _pg_durability(pg_one)
        ours += [
            ("postgresql, 1 instance", pg_one, (), 1, durability),
            ("postgresql, 2 instances", pg_two, (), 2, durability),
        ]
        for name, db, extra, instances, how in ours:
            urls: list[str] = []
            keys: list[str] = []
            for _ in range(instances):
                url, printed = stack.enter_context(neuropay_mock(db, *extra))
                urls.append(url)
                keys = keys or printed
            ids = _seed(urls[0], keys[0])
            script = _script(ids, keys[0], folder, f"{len(targets)}.lua")
            targets.append(Target(name, urls, script, how))
        _script(_seed_ids_for_prism(), "sk_test_" + "0" * 32, folder, targets[0].script.name)
        for round_number in range(ROUNDS):
            print(f"round {round_number + 1}/{ROUNDS}", file=sys.stderr, flush=True)
            for target in targets:
                target.runs.append(measure(target))
    report(targets)
    return 0


def _seed_ids_for_prism() -> list[str]:
    """Prism keeps nothing: any well-formed ids do (it answers its examples)."""
    return [f"{i:032x}" for i in range(100)]


def report(targets: list[Target]) -> None:
    prism_runs = targets[0].runs
    print(
        f"load: wrk -t2 -c{CONNECTIONS} -d{DURATION} x {ROUNDS} rounds, targets in turns;"
        " 30% create / 50% retrieve / 20% refund, bearer auth"
    )
    width = 26
    print(f"{'':18}" + "".join(f"{t.name:>{width}}" for t in targets))
    rows = [("requests/s", "rps", "{:.0f}")] + [(f"latency {p}", p, "{:.1f}") for p in PERCENTILES]
    for label, key, fmt in rows:
        cells = []
        for target in targets:
            values = [run[key] for run in target.runs if key in run]
            cells.append(fmt.format(statistics.median(values)) if values else "-")
        print(f"{label:18}" + "".join(f"{c:>{width}}" for c in cells))
    # Each ratio is the median of the per-round ratios (a round measures every target in turn).
    for label, key, ours_over_prism in (
        ("rps vs prism", "rps", True),
        ("p99 faster by", "p99_ms", False),
    ):
        cells = []
        for target in targets:
            per_round = [
                (ours[key] / theirs[key]) if ours_over_prism else (theirs[key] / ours[key])
                for ours, theirs in zip(target.runs, prism_runs, strict=True)
                if key in ours and key in theirs
            ]
            cells.append(f"{statistics.median(per_round):.2f}x" if per_round else "-")
        print(f"{label:18}" + "".join(f"{c:>{width}}" for c in cells))
    non2xx = [f"{sum(r['non_2xx'] for r in t.runs):.0f}" for t in targets]
    print(f"{'non-2xx answers':18}" + "".join(f"{n:>{width}}" for n in non2xx))
    print("durability:")
    for target in targets:
        print(f"  {target.name}: {target.durability}")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    raise SystemExit(main())
