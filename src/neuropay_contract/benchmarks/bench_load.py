"""`make bench-load`: requests/s that `neuropay load` drives against the reference server with one
process, side by side with a plain Locust file sending the same journeys without any check (goal:
at least 0.8x), alternating rounds; then the figures of `neuropay load --processes 2` (on 2 cores
the target shares the CPU, so no ratio is asked there).

NEUROPAY_BENCH_SECONDS (default 20) and NEUROPAY_BENCH_USERS (default 16) size each round."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from .bench_server import _free_port

KEY = "sk_test_benchloadkey000000000000000000"
PLAIN = Path(__file__).with_name("plain_locustfile.py")
GOAL = 0.8


def _start_mock(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "neuropay_contract",
            "mock",
            "--port",
            str(port),
            "--db",
            ":memory:",
            "--api-key",
            f"{KEY}:test@bench",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("the reference server did not start")


def _plain(url: str, users: int, seconds: int, out: Path) -> float:
    env = {**os.environ, "NEUROPAY_API_KEY": KEY}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(PLAIN),
            "--host",
            url,
            "--headless",
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{seconds}s",
            "--only-summary",
            "--loglevel",
            "ERROR",
            "--csv",
            str(out / "plain"),
        ],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with (out / "plain_stats.csv").open() as f:
        total = next(r for r in csv.DictReader(f) if r["Name"] == "Aggregated")
    return float(total["Requests/s"])


def _ours(url: str, users: int, seconds: int, out: Path, processes: int = 1) -> dict[str, float]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "neuropay_contract",
            "load",
            "--target-url",
            url,
            "--api-key",
            KEY,
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{seconds}s",
            "--quiet",
            "--processes",
            str(processes),
            "--report-dir",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    data = json.loads((out / "load.json").read_text())
    total = data["stats"]["total"]
    return {
        "rps": float(total["rps"]),
        "p99": float(total["p99_ms"]),
        "findings": float(data["total_findings"]),
        "exit": float(proc.returncode),
    }


def main() -> int:
    seconds = int(os.environ.get("NEUROPAY_BENCH_SECONDS", "20"))
    users = int(os.environ.get("NEUROPAY_BENCH_USERS", "16"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = _start_mock(port)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            plain: list[float] = []
            ours: list[dict[str, float]] = []
            for n in range(2):  # alternate, so drift on a shared machine hits both
                (root / f"p{n}").mkdir()
                plain.append(_plain(url, users, seconds, root / f"p{n}"))
                ours.append(_ours(url, users, seconds, root / f"o{n}"))
            two = _ours(url, users, seconds, root / "two", processes=2)
    finally:
        server.terminate()
        server.wait(timeout=30)
    plain_rps = sum(plain) / len(plain)
    ours_rps = sum(o["rps"] for o in ours) / len(ours)
    ratio = ours_rps / plain_rps if plain_rps else 0.0
    print(f"bench-load: {users} users, {seconds} s per round, reference server (SQLite :memory:)")
    print(f"{'run':<44} {'req/s':>10}")
    for n, (p, o) in enumerate(zip(plain, ours, strict=True), start=1):
        print(f"{'plain Locust, same journeys, no checks #' + str(n):<44} {p:>10.1f}")
        print(f"{'neuropay load --processes 1 #' + str(n):<44} {o['rps']:>10.1f}")
        print(f"{'  ratio of round #' + str(n):<44} {o['rps'] / p if p else 0.0:>10.2f}")
    print(f"{'neuropay load --processes 2':<44} {two['rps']:>10.1f}")
    print(
        f"ratio neuropay load / plain Locust (1 process): {ratio:.2f}x "
        f"(goal >= {GOAL}x: {'met' if ratio >= GOAL else 'NOT met'})"
    )
    print(
        f"--processes 2: {two['rps']:.1f} req/s, p99 {two['p99']:.0f} ms, "
        f"{two['findings']:.0f} finding(s), exit {two['exit']:.0f}"
    )
    findings = sum(o["findings"] for o in ours) + two["findings"]
    return 0 if ratio >= GOAL and findings == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
