"""`make bench-server`: the reference server vs `prism mock` of the same spec, under the same wrk
load (a create / retrieve / refund mix with bearer auth), side by side and as ratios.

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
What is left is uvicorn/Starlette's per-request work and the socket writes, on one core per
process: ``--workers N`` spreads that over processes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from .._resources import checkout_root, default_spec_path
from ..contract import create_body
from ..server import start_server

DURATION = os.environ.get("BENCH_DURATION", "10s")
CONNECTIONS = os.environ.get("BENCH_CONNECTIONS", "32")

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


def _wrk(url: str, script: Path) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency", "-s", str(script), url],
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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _script(ids: list[str], key: str, directory: Path) -> Path:
    path = directory / "mix.lua"
    body = json.dumps(create_body(amount=100_000)).replace("'", "\\'")
    path.write_text(LUA % {"ids": ", ".join(f'"{i}"' for i in ids), "key": key, "create": body})
    return path


def main() -> int:
    if shutil.which("wrk") is None:
        print("bench-server: wrk is missing (make setup installs it)")
        return 2
    root = checkout_root() or Path.cwd()
    prism = root / "node_modules" / ".bin" / "prism"
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite3"
        with (
            start_server(db_path=db) as server,
            httpx.Client(
                base_url=server.url, headers={"Authorization": f"Bearer {server.test_key}"}
            ) as client,
        ):
            ids = []
            for _ in range(100):
                checkout = client.post("/checkout/create", json=create_body(amount=100_000)).json()
                client.post("/checkout/test/pay", json={"checkout_id": checkout["checkout_id"]})
                ids.append(checkout["checkout_id"])
            ours = _wrk(server.url, _script(ids, server.test_key, Path(tmp)))
        port = _free_port()
        proc = subprocess.Popen(
            [
                str(prism),
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
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    httpx.post(f"http://127.0.0.1:{port}/checkout/retrieve", json={}, timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.5)
            theirs = _wrk(
                f"http://127.0.0.1:{port}", _script(ids, "sk_test_" + "0" * 32, Path(tmp))
            )
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    print(
        f"load: wrk -t2 -c{CONNECTIONS} -d{DURATION}, 30% create / 50% retrieve / 20% refund, bearer auth"
    )
    print(f"{'':28}{'neuropay mock':>16}{'prism mock':>16}{'ratio':>10}")
    print(
        f"{'requests/s':28}{ours['rps']:>16.0f}{theirs['rps']:>16.0f}{ours['rps'] / theirs['rps']:>9.2f}x"
    )
    for pct in ("p50_ms", "p90_ms", "p99_ms"):
        if pct in ours and pct in theirs:
            print(
                f"{'latency ' + pct:28}{ours[pct]:>16.2f}{theirs[pct]:>16.2f}{theirs[pct] / ours[pct]:>9.2f}x faster"
            )
    print(f"{'non-2xx answers':28}{ours['non_2xx']:>16.0f}{theirs['non_2xx']:>16.0f}")
    print(
        "neuropay mock keeps state in SQLite (WAL, synchronous=FULL); prism answers examples and keeps none."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
