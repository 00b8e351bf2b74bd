"""Certifying a stateless mock: `prism mock` of the very same spec answers every request with a
schema-valid example, which generic checks accept. The suite must test it (no preflight refusal:
it answers JSON and takes the key), find the broken lifecycle, money and auth rules, exit 1, and
never crash on such a target."""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from neuropay_contract._resources import default_spec_path

from .._net import free_port
from ._cli import run

PRISM = Path(__file__).resolve().parents[2] / "node_modules" / ".bin" / "prism"


@pytest.fixture(scope="module")
def prism_url() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [str(PRISM), "mock", str(default_spec_path()), "-h", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.post(f"{url}/checkout/retrieve", json={}, timeout=1)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "prism did not start"
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_a_stateless_mock_is_tested_and_fails_the_domain_rules(
    prism_url: str, tmp_path: Path
) -> None:
    key = "sk_test_" + "7" * 32
    proc = run(
        "test",
        "--target-url",
        prism_url,
        "--profile",
        "dev",
        # prism mock 5.14.2 dies on some fuzzed and 5,000-deep bodies: the domain rules are
        # what this test is about, so they run on a live prism
        "-k",
        "not test_fuzz and not deep",
        "--report-dir",
        str(tmp_path),
        env={"NEUROPAY_API_KEY": key},
    )
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    outcomes = Counter((c["category"], c["outcome"]) for c in results["checks"])
    assert not [c for c in results["checks"] if c["outcome"] == "error"]
    # prism answers the same example for every checkout: what was sent is not what comes back,
    # forbidden moves answer 200, a wrong key is accepted
    for category in ("lifecycle", "money", "metadata", "idempotency", "stateful", "auth"):
        # (or blocked: a check whose setup met prism's canned answer is blocked by that cause)
        assert outcomes[(category, "failed")] + outcomes[(category, "blocked")] >= 1, (
            category,
            outcomes,
        )
    rules = {c["failure"]["rule"] for c in results["checks"] if c["outcome"] == "failed"}
    assert {"auth.unknown-key", "checkouts.created-as-sent"} <= rules
    texts = [proc.stdout, proc.stderr] + [p.read_text() for p in tmp_path.iterdir() if p.is_file()]
    assert all(key not in text for text in texts)
