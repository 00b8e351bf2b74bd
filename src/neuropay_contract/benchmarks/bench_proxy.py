"""`make bench-proxy`: requests/s of the same wrk load sent to the reference server directly,
through `neuropay proxy` and through `prism proxy` (which validates each message against the
schemas but follows no object), side by side with each proxy's cost as a ratio of direct."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from .._resources import checkout_root, default_spec_path
from ..contract import create_body
from ..server import start_server
from .bench_server import CONNECTIONS, DURATION, _free_port, _script, _wrk


def _wait(url: str, proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            httpx.get(f"{url}/", timeout=1)  # any answer: not an API call, so no finding
            return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError(f"{what} did not start")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main() -> int:
    if shutil.which("wrk") is None:
        print("bench-proxy: wrk is missing (make setup installs it)")
        return 2
    root = checkout_root() or Path.cwd()
    prism = root / "node_modules" / ".bin" / "prism"
    with tempfile.TemporaryDirectory() as tmp, start_server(db_path=Path(tmp) / "b.db") as server:
        with httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {server.test_key}"}
        ) as client:
            ids = []
            for _ in range(100):
                checkout = client.post("/checkout/create", json=create_body(amount=100_000)).json()
                client.post("/checkout/test/pay", json={"checkout_id": checkout["checkout_id"]})
                ids.append(checkout["checkout_id"])
        script = _script(ids, server.test_key, Path(tmp))
        direct = _wrk(server.url, script)
        port = _free_port()
        ours_proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "neuropay_contract",
                "proxy",
                "--target",
                server.url,
                "--port",
                str(port),
                "--quiet",
                "--report-dir",
                str(Path(tmp) / "reports"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait(f"http://127.0.0.1:{port}", ours_proc, "neuropay proxy")
            ours = _wrk(f"http://127.0.0.1:{port}", script)
        finally:
            _stop(ours_proc)
        results = json.loads((Path(tmp) / "reports" / "results.json").read_text())
        failed = [c["failure"]["rule"] for c in results["checks"] if c["outcome"] == "failed"]
        findings = len(failed)
        by_rule = ", ".join(f"{rule} {failed.count(rule)}" for rule in sorted(set(failed)))
        port = _free_port()
        prism_proc = subprocess.Popen(
            [
                str(prism),
                "proxy",
                str(default_spec_path()),
                server.url,
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "--errors",
                "false",
                "-v",
                "error",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait(f"http://127.0.0.1:{port}", prism_proc, "prism proxy")
            theirs = _wrk(f"http://127.0.0.1:{port}", script)
        finally:
            _stop(prism_proc)
    print(
        f"load: wrk -t2 -c{CONNECTIONS} -d{DURATION}, 30% create / 50% retrieve / 20% refund, "
        "bearer auth, to the reference server (SQLite)"
    )
    print(f"{'':24}{'direct':>12}{'neuropay proxy':>16}{'prism proxy':>14}")
    print(f"{'requests/s':24}{direct['rps']:>12.0f}{ours['rps']:>16.0f}{theirs['rps']:>14.0f}")
    print(
        f"{'share of direct':24}{'1.00':>12}{ours['rps'] / direct['rps']:>16.2f}"
        f"{theirs['rps'] / direct['rps']:>14.2f}"
    )
    for pct in ("p50_ms", "p99_ms"):
        if pct in direct and pct in ours and pct in theirs:
            print(
                f"{'latency ' + pct:24}{direct[pct]:>12.2f}{ours[pct]:>16.2f}{theirs[pct]:>14.2f}"
            )
    print(
        f"neuropay proxy / prism proxy: {ours['rps'] / theirs['rps']:.2f}x the requests/s; "
        f"neuropay also followed every checkout ({findings} finding(s) in the load's traffic"
        + (f": {by_rule})" if by_rule else ")")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
