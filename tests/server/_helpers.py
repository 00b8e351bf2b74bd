"""Helpers for the server tests."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from neuropay_contract.contract import create_body


def api(url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=10)


def create(client: httpx.Client, **extra: Any) -> dict[str, Any]:
    resp = client.post("/checkout/create", json=create_body(**extra))
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


def start_mock(
    db: Path | str, *extra: str, new_keys: int = 4, printed: list[str] | None = None
) -> tuple[subprocess.Popen[str], str, list[str]]:
    """`neuropay mock` on a free port: the process, its URL and the keys it printed (the
    ``new_keys`` it generated; none on a database that has keys, none when keys are given)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "neuropay_contract", "mock", "--port", "0", "--db", str(db), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    url, keys = "", []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if printed is not None:
            printed.append(line)
        if match := re.search(r"(http://127\.0\.0\.1:\d+)", line):
            url = match.group(1)
        if match := re.search(r"key of [\w-]+: (sk_\w+)$", line.rstrip()):
            keys.append(match.group(1))
        if line.startswith("  try:"):
            break
    assert url
    assert len(keys) == new_keys, keys
    return proc, url, keys


def run_async(scenario: Callable[[], Awaitable[Any]], timeout: float = 60) -> Any:
    """Run ``scenario()`` on an event loop of its own thread: the test's thread may already run
    one (another test's), where ``asyncio.run`` refuses to start."""
    result: list[Any] = []
    failure: list[BaseException] = []

    def main() -> None:
        try:
            result.append(asyncio.run(scenario()))  # type: ignore[arg-type]
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=main)
    thread.start()
    thread.join(timeout)
    if failure:
        raise failure[0]
    assert result, "the scenario did not finish"
    return result[0]
