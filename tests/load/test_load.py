"""`neuropay load` against real servers on loopback: the reference server passes (its model
check too), servers that break only under load are caught where the sequential suite passes, a
slow server fails its latency gate, and a run that cannot start exits 2 before any load.

Runs are a few seconds each: the 60-second runs of the README are for people, not CI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from neuropay_contract.server import create_app, key_triplet, serve_app

from .._net import free_port
from ..catalog.test_catalog import run_suite
from ..server._helpers import start_mock
from .servers import LOAD_FAULTS, LoadFault, slowed

pytestmark = pytest.mark.slow  # each runs Locust for a few seconds

# A run: a few seconds, enough users that the faults' "busy" threshold is crossed.
RUN = ["--users", "24", "--spawn-rate", "100", "--run-time", "3s", "--quiet"]


def neuropay_load(
    url: str, key: str, report_dir: Path, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "neuropay_contract",
            "load",
            "--target-url",
            url,
            "--api-key",
            key,
            "--report-dir",
            str(report_dir),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={k: v for k, v in os.environ.items() if not k.startswith("NEUROPAY_")},
    )


def outcome(report_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((report_dir / "load.json").read_text())
    return data


@dataclass
class Served:
    """A reference app served on loopback: its URL, its (test, other merchant's test, live) keys
    and what serves it (the app, or a wrapper of it)."""

    url: str
    keys: tuple[str, str, str]
    server: Any


@contextmanager
def served(wrap: Callable[[Any], Any] | None = None) -> Iterator[Served]:
    """A fresh reference app (``wrap``-ped: a load fault, a slowed server) on a loopback port."""
    app = create_app()
    server = wrap(app) if wrap else app
    try:
        with serve_app(server) as url:
            yield Served(url, key_triplet(app.state.keys), server)
    finally:
        app.state.store.close()


@contextmanager
def reference() -> Iterator[tuple[str, str]]:
    with served() as s:
        yield s.url, s.keys[0]


def assert_no_key(report_dir: Path, key: str, *outputs: str) -> None:
    for path in report_dir.rglob("*"):
        if path.is_file():
            assert key not in path.read_text(errors="replace"), path
    for text in outputs:
        assert key not in text


def test_reference_server_two_processes_passes(tmp_path: Path) -> None:
    with served() as s:
        url, key, other = s.url, s.keys[0], s.keys[1]
        # Longer than the others: a Locust worker takes seconds to take its spawn order on a
        # busy machine (it builds its argument parser once per option the master sends).
        proc = neuropay_load(
            url,
            key,
            tmp_path,
            *RUN,
            "--run-time",
            "8s",
            "--processes",
            "2",
            "--p99-ms",
            "5000",
            "--second-api-key",
            other,
        )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = outcome(tmp_path)
    assert data["verdict"] == "passed" and data["total_findings"] == 0
    assert data["processes"] == 2
    model = data["model"]
    assert model["compared"] > 5 and model.get("failed", 0) == 0, model
    assert set(data["journeys"]) == {
        "refunds",
        "finals",
        "metadata",
        "retries",
        "forbidden",
        "race",
    }
    assert data["stats"]["total"]["requests"] > 50
    # Whether the checks kept up is reported (every exchange waits in the queue a moment).
    assert data["checking"]["peak_queued"] >= 1 and data["checking"]["users_waited_s"] >= 0
    # The second merchant read the journeys' checkouts and got 404 each time (Locust counts
    # any other answer failed).
    foreign = [e for e in data["stats"]["entries"] if e["name"].endswith("by another merchant")]
    assert foreign and sum(e["requests"] for e in foreign) > 5
    assert sum(e["failures"] for e in foreign) == 0
    for name in ("locust.html", "locust_stats.csv", "locust_stats_history.csv", "load.html"):
        assert (tmp_path / name).stat().st_size > 0, name
    html = (tmp_path / "load.html").read_text()
    assert html.count("<polyline") == 5 and "<h3>race</h3>" in html
    assert "http://" not in html.replace(url, "").replace("http://www.w3.org/2000/svg", "")
    assert_no_key(tmp_path, key, proc.stdout, proc.stderr)
    assert_no_key(tmp_path, other, proc.stdout, proc.stderr)


@contextmanager
def mock(db: str, *extra: str) -> Iterator[tuple[str, str]]:
    """`neuropay mock` in a process of its own (its URL, a test key it printed)."""
    proc, url, keys = start_mock(db, *extra)
    try:
        yield url, next(k for k in keys if k.startswith("sk_test_"))
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def reference_passes(url: str, key: str, report_dir: Path) -> None:
    proc = neuropay_load(url, key, report_dir, *RUN)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = outcome(report_dir)
    assert data["verdict"] == "passed" and data["model"]["compared"] > 10, data["model"]


def test_reference_server_with_two_workers_passes(tmp_path: Path) -> None:
    with mock(str(tmp_path / "sandbox.sqlite3"), "--workers", "2", "--quiet") as (url, key):
        reference_passes(url, key, tmp_path / "load")


@pytest.mark.postgres
def test_reference_server_on_postgresql_passes(tmp_path: Path) -> None:
    from neuropay_contract.server.pgserver import running_postgres

    with running_postgres() as pg, mock(pg.new_database(), "--quiet") as (url, key):
        reference_passes(url, key, tmp_path)


def test_master_and_two_workers_on_loopback(tmp_path: Path) -> None:
    port = free_port()
    with reference() as (url, key):
        workers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "neuropay_contract",
                    "load",
                    "--worker",
                    "--master-port",
                    str(port),
                    "--target-url",
                    url,
                    "--api-key",
                    key,
                    "--quiet",
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for _ in range(2)
        ]
        try:
            proc = neuropay_load(
                url,
                key,
                tmp_path,
                *RUN,
                "--run-time",
                "8s",
                "--master",
                "--expect-workers",
                "2",
                "--master-port",
                str(port),
            )
        finally:
            for w in workers:
                w.communicate(timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = outcome(tmp_path)
    assert data["verdict"] == "passed" and data["processes"] == 2
    assert len(list((tmp_path / "parts").glob("part-*.json"))) == 2
    assert data["model"]["compared"] > 10
    assert all(w.returncode == 0 for w in workers)


@pytest.mark.parametrize("fault", LOAD_FAULTS, ids=[f.name for f in LOAD_FAULTS])
def test_load_finds_what_the_sequential_suite_misses(fault: LoadFault, tmp_path: Path) -> None:
    with served(fault.apply) as s:
        suite = run_suite(s.url, list(s.keys), tmp_path / "suite", select=fault.select)
        assert s.server.peak < s.server.threshold  # the suite never loads it
        proc = neuropay_load(
            s.url,
            s.keys[0],
            tmp_path / "load",
            *RUN,
            "--mix",
            "race=1,refunds=1",
            "--second-api-key",
            s.keys[1],
        )
    assert suite.returncode == 0, suite.stdout[-3000:]
    assert proc.returncode == 1, proc.stdout + proc.stderr
    data = outcome(tmp_path / "load")
    rules = {f["rule"] for f in data["findings"]}
    assert rules & set(fault.rules), rules
    found = next(f for f in data["findings"] if f["rule"] in fault.rules)
    assert found["object_id"]
    html = (tmp_path / "load" / "load.html").read_text()
    assert f"Timeline of {found['object_id']}" in html
    assert html.index('id="findings"') < html.index('id="gates"')


def test_slow_server_fails_the_p99_gate(tmp_path: Path) -> None:
    with served(lambda app: slowed(app, 0.05)) as s:
        proc = neuropay_load(
            s.url,
            s.keys[0],
            tmp_path,
            "--users",
            "4",
            "--run-time",
            "3s",
            "--quiet",
            "--mix",
            "finals=1",
            "--p99-ms",
            "40",
            "--max-error-rate",
            "0.01",
        )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    data = outcome(tmp_path)
    assert data["verdict"] == "slo-failed" and data["total_findings"] == 0
    gates = {g["option"]: g for g in data["gates"]}
    assert not gates["--p99-ms"]["holds"] and gates["--p99-ms"]["value"] >= 50
    assert gates["--max-error-rate"]["holds"]
    assert "gate --p99-ms 40.0" in proc.stdout and "FAILS" in proc.stdout


def test_sigterm_ends_the_run_and_still_writes_reports(tmp_path: Path) -> None:
    with reference() as (url, key):
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "neuropay_contract",
                "load",
                "--target-url",
                url,
                "--api-key",
                key,
                "--report-dir",
                str(tmp_path),
                "-u",
                "4",
                "-t",
                "5m",
                "--quiet",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while not (tmp_path / "locust_stats.csv").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, out + err
    data = outcome(tmp_path)
    assert data["interrupted"] is True and data["verdict"] == "passed"
    assert data["model"]["compared"] > 0
    assert (tmp_path / "locust.html").exists() and (tmp_path / "load.html").exists()


def test_ui_serves_locust_web_ui_on_loopback_during_the_run(tmp_path: Path) -> None:
    import httpx

    port = free_port()
    with reference() as (url, key):
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "neuropay_contract",
                "load",
                "--target-url",
                url,
                "--api-key",
                key,
                "--report-dir",
                str(tmp_path),
                "-u",
                "2",
                "-t",
                "20s",
                "--ui",
                "--ui-port",
                str(port),
                "--quiet",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        stats: dict[str, Any] = {}
        deadline = time.monotonic() + 40
        while not stats and time.monotonic() < deadline:
            try:
                stats = httpx.get(f"http://127.0.0.1:{port}/stats/requests", timeout=2).json()
            except httpx.HTTPError:
                time.sleep(0.5)
        out, err = process.communicate(timeout=90)
    assert "current_rps" in stats and "user_count" in stats
    assert process.returncode == 0, out + err
    assert outcome(tmp_path)["verdict"] == "passed"


def test_wrong_key_and_unreachable_target_exit_2_before_load(tmp_path: Path) -> None:
    with reference() as (url, key):
        wrong = neuropay_load(url, "sk_test_" + "x" * 32, tmp_path, "-t", "5s")
    assert wrong.returncode == 2
    assert wrong.stderr.startswith("neuropay: error: the target") and "refuses" in wrong.stderr
    assert wrong.stderr.count("\n") == 1 and "Traceback" not in wrong.stderr
    assert not (tmp_path / "load.json").exists()
    closed = neuropay_load(f"http://127.0.0.1:{free_port()}", key, tmp_path, "-t", "5s")
    assert closed.returncode == 2 and "does not answer" in closed.stderr


def test_the_cli_never_imports_locust() -> None:
    """Locust patches the standard library with gevent on import: only its own processes may."""
    code = (
        "import sys; from neuropay_contract.cli import cli; "
        "import neuropay_contract.load.cli, neuropay_contract.load.run, "
        "neuropay_contract.load.report, neuropay_contract.load.journeys; "
        "print(sorted(m for m in ('locust', 'gevent') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
