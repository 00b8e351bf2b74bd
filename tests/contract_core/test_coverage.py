"""The coverage map: which declared responses, error codes and lifecycle cells a run exercised;
unreachable cells listed with the reason and never counted; the --fail-under gate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from neuropay_contract.contract.cli import run_suite_subprocess
from neuropay_contract.coverage import Seen, build_coverage, categories, gate
from neuropay_contract.results import RESULTS_SCHEMA, RunResults
from neuropay_contract.server import create_app, key_triplet, serve_app
from neuropay_contract.spec import load_spec

from ..catalog.partial import PATHS, _without
from ._cli import run

SPEC = load_spec()


def test_nothing_seen_covers_nothing_and_unreachable_cells_are_not_counted() -> None:
    coverage = build_coverage(SPEC, Seen())
    assert coverage["percent"] == 0.0 and coverage["covered"] == 0
    cells = {u["cell"]: u["reason"] for u in coverage["unreachable"]}
    # refund codes documented on a shared 409 of capture: x-lifecycle never answers them there
    assert "only to refundCheckout" in cells["captureCheckout refund_exceeds_remaining"]
    lifecycle_cells = len(coverage["lifecycle"])
    assert coverage["reachable"] > lifecycle_cells  # responses and codes count too
    assert (
        gate(coverage, 100) is not None
        and gate(coverage, 0) is None
        and gate(coverage, None) is None
    )


def test_answers_and_moves_seen_are_covered() -> None:
    seen = Seen()
    seen.answer("captureCheckout", 200, {"status": "paid"})
    seen.answer("captureCheckout", 409, {"error": {"code": "invalid_status"}})
    seen.moves[("paid", "captureCheckout")] = "409 invalid_status"
    coverage = build_coverage(SPEC, seen)
    capture = coverage["operations"]["captureCheckout"]
    assert "200" in capture["responses"]["seen"] and "409" in capture["responses"]["seen"]
    assert "404" in capture["responses"]["not_seen"]
    assert capture["error_codes"]["seen"] == ["invalid_status"]
    row = next(
        r
        for r in coverage["lifecycle"]
        if (r["status"], r["operation"]) == ("paid", "captureCheckout")
    )
    assert row["covered"] and row["answer"] == "409 invalid_status" and row["kind"] == "forbidden"
    assert coverage["covered"] == 4  # two statuses, one code, one cell
    names = [name for name, _hit, _total in categories(coverage)]
    assert names[:2] == ["declared responses", "error codes"]
    # the map travels through results.json and back
    again = Seen.from_dict(coverage["seen"])
    assert build_coverage(SPEC, again) == coverage


def _results(tmp_path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((tmp_path / "results.json").read_text())
    from jsonschema import Draft202012Validator

    assert not list(Draft202012Validator(RESULTS_SCHEMA).iter_errors(data))
    RunResults.read(tmp_path / "results.json")
    return data


@pytest.mark.slow
def test_the_reference_server_at_ci_covers_every_reachable_cell(tmp_path: Path) -> None:
    proc = run(
        "test",
        "--profile",
        "ci",
        "--seed",
        "3",
        "--report-dir",
        str(tmp_path),
        "--fail-under",
        "100",
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    coverage = _results(tmp_path)["coverage"]
    assert coverage["percent"] == 100.0 and coverage["covered"] == coverage["reachable"] > 200
    assert all(u["reason"] for u in coverage["unreachable"])
    assert all(r["covered"] for r in coverage["lifecycle"] if not r["unreachable"])
    md = (tmp_path / "report.md").read_text()
    assert "**Contract coverage: 100.0%**" in md and "- lifecycle forbidden pairs: 45/45" in md
    html = (tmp_path / "report.html").read_text()
    assert 'class="matrix coverage-grid"' in html and "coverage-operations" in html


@pytest.mark.slow
def test_a_server_without_refunds_is_not_covered_and_fails_under_100(tmp_path: Path) -> None:
    app = create_app()
    keys = key_triplet(app.state.keys)
    others = [op for op in PATHS if op != "refundCheckout"]
    with serve_app(_without(app, {"refundCheckout"})) as url:
        proc = run_suite_subprocess(
            url,
            keys,
            tmp_path,
            "dev",
            1,
            extra=("--operations", ",".join(others), "--fail-under", "100"),
        )
    app.state.store.close()
    results = _results(tmp_path)
    # the certified subset is conformant: the gate alone turns the exit to 1
    assert results["verdict"] == "conformant"
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "is below --fail-under 100%" in proc.stdout
    coverage = results["coverage"]
    refund = coverage["operations"]["refundCheckout"]
    assert refund["responses"]["seen"] == [] and refund["responses"]["not_seen"]
    refund_cells = [r for r in coverage["lifecycle"] if r["operation"] == "refundCheckout"]
    assert refund_cells and not any(r["covered"] for r in refund_cells)
    assert coverage["percent"] < 100
