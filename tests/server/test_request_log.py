"""`neuropay mock` writes one line per API request to stderr (the sandbox's console): the status,
why a call was refused, who called (merchant and mode, never the key); --quiet turns it off."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import pytest

from neuropay_contract.contract import create_body
from neuropay_contract.server import start_server

from ._helpers import api, create, start_mock


def _session(db: Path, *extra: str) -> tuple[str, list[str]]:
    proc, url, keys = start_mock(db, *extra)
    try:
        with api(url, keys[0]) as client:
            checkout = create(client, capture=False)
            client.post("/checkout/capture", json={"checkout_id": checkout["checkout_id"]})
            client.post("/checkout/create", json={"amount": 0})
        with api(url, "sk_test_" + "0" * 32) as stranger:
            stranger.post("/checkout/retrieve", json={"checkout_id": checkout["checkout_id"]})
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=20)
    return stderr, keys


def test_each_request_is_logged_with_its_outcome_and_never_its_key(tmp_path: Path) -> None:
    stderr, keys = _session(tmp_path / "db.sqlite3")
    lines = [line.split(" ", 1)[1] for line in stderr.splitlines() if " /checkout/" in line]
    assert len(lines) == 4, stderr
    assert lines[0].startswith("POST /checkout/create 200 · merchant-1/test · ")
    assert lines[1].startswith("POST /checkout/capture 409 invalid_status: ") and lines[1].endswith(
        " ms"
    )
    assert lines[2].startswith("POST /checkout/create 400 invalid_request [")
    assert lines[3].startswith("POST /checkout/retrieve 401 invalid_api_key: ")
    assert " · - · " in lines[3]
    assert all(key not in stderr for key in keys) and "sk_test_" + "0" * 32 not in stderr


def test_quiet_mock_logs_no_requests(tmp_path: Path) -> None:
    stderr, _ = _session(tmp_path / "db.sqlite3", "--quiet")
    assert " /checkout/" not in stderr


def test_embedded_server_keeps_quiet_about_malformed_http(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Fuzzers send broken HTTP on purpose; the embedded target must not print uvicorn's
    warnings into the suite's (or a benchmark's) output."""
    with start_server() as running:
        host, port = running.url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=5) as raw:
            raw.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            raw.recv(1024)
    out, err = capfd.readouterr()
    assert "Invalid HTTP request" not in out + err


def test_a_console_nobody_reads_does_not_stop_the_server(tmp_path: Path) -> None:
    """Request lines are written off the event loop: with stderr a pipe nobody reads (full after
    64 KiB), requests are still answered; the lines that did not fit are counted, not lost
    silently, and the rest come out once stderr is read."""
    proc, url, keys = start_mock(tmp_path / "db.sqlite3")
    try:
        with api(url, keys[0]) as client:
            for _ in range(300):  # each refusal logs a ~500-character message: ~150 KiB
                body = {**create_body(), "message": "x" * 5000}
                resp = client.post("/checkout/create", json=body)
                assert resp.status_code == 400
                assert len(resp.json()["error"]["message"]) >= 500
    finally:
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=20)
    assert stderr.count("POST /checkout/create 400 invalid_request") >= 100
