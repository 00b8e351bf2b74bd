"""The proxy under hostile traffic and failures: never a false green, never a lost report, never
a crash on what a client or a server sends (deep, compressed, huge bodies; odd headers)."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from neuropay_contract.server import start_server

from ._traffic import RecordingClient
from .test_audit import misuse
from .test_proxy import _start_proxy


def _checking_process(proxy_pid: int) -> int:
    """The pid of the proxy's checking process (not multiprocessing's resource tracker)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{proxy_pid}/task/{proxy_pid}/children").read_text().split()
        for child in children:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"spawn_main" in command and b"resource_tracker" not in command:
                return int(child)
        time.sleep(0.1)
    raise AssertionError("the proxy started no checking process")


def _wait_for_findings(reports: Path, seconds: float = 30) -> None:
    """Until the checkpointed reports hold a finding (the checking process rewrites them every
    few seconds while it runs)."""
    deadline = time.monotonic() + seconds
    while True:
        assert time.monotonic() < deadline, "no report of the exchanges checked appeared"
        if all((reports / n).exists() for n in ("report.html", "report.md", "junit.xml")):
            results = json.loads((reports / "results.json").read_text())
            if any(c["outcome"] == "failed" for c in results["checks"]):
                return
        time.sleep(0.2)


@pytest.mark.parametrize("when", ["after checking", "before any exchange"])
def test_a_dead_checking_process_is_never_a_green_run(tmp_path: Path, when: str) -> None:
    """The checking process killed (OOM killer, kill -9): the proxy exits 2 with one line and
    leaves the reports of what was checked, marked incomplete; never exit 0 and no report."""
    reports = tmp_path / "r"
    with start_server() as server:
        proc, url = _start_proxy(server.url, "--report-dir", str(reports), "--quiet")
        worker = _checking_process(proc.pid)
        if when == "after checking":
            client = RecordingClient(url, server.test_key)
            misuse(client)
            client.close()
            _wait_for_findings(reports)
        os.kill(worker, signal.SIGKILL)
        time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("neuropay: error: "), err
    assert "checking process was killed by signal 9" in lines[0]
    results = json.loads((reports / "results.json").read_text())
    assert results["verdict"] == "error"
    for name in ("report.html", "report.md", "junit.xml"):
        assert (reports / name).exists()
    if when == "after checking":
        assert any(c["outcome"] == "failed" for c in results["checks"])
