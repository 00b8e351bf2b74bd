"""Plain `schemathesis run` with its default checks finds nothing wrong with the reference server."""

from __future__ import annotations

from neuropay_contract.benchmarks.fuzz import run_plain_schemathesis


def test_plain_schemathesis_reports_no_failure() -> None:
    proc = run_plain_schemathesis(max_examples=25, seed=7)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "passed" in proc.stdout
    assert "failed" not in proc.stdout.split("SUMMARY")[-1].lower().replace("0 failed", "")
    assert "sk_test_" not in proc.stdout
