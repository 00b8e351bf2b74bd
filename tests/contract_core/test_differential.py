"""`neuropay test --differential`: the reference server as an oracle for every request of the run.

Against the reference server itself (embedded twice, `neuropay mock --workers 2`, PostgreSQL)
the run is green with every exchange replayed; a server that differs only where
x-implementation-defined leaves a point open stays green, and goes red naming the answer part
once the point is removed from the spec."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from neuropay_contract._resources import default_spec_path
from neuropay_contract.contract.cli import run_suite_subprocess
from neuropay_contract.server import create_app, key_triplet, serve_app
from tests.catalog.faults import rewrite_json
from tests.server._helpers import start_mock

pytestmark = pytest.mark.slow


def _results(report_dir: Path) -> dict[str, Any]:
    return dict(json.loads((report_dir / "results.json").read_text()))


def _green(proc: subprocess.CompletedProcess[str], report_dir: Path) -> dict[str, Any]:
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    results = _results(report_dir)
    counts = results["differential"]
    assert counts["differences"] == 0 and counts["reference_bugs"] == 0
    return results


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()


def test_the_embedded_reference_against_a_fresh_one_is_green(tmp_path: Path) -> None:
    """No target: the embedded server is the target and another one the oracle; every check's
    requests are replayed, fuzz and stateful sequences included."""
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "neuropay_contract", "test", "--differential"),
            *("--profile", "dev", "--seed", "5", "--report-dir", str(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    results = _green(proc, tmp_path)
    assert results["summary"]["passed"] > 250
    # as many exchanges replayed as the run sent after its preflight
    assert results["differential"]["exchanges"] > 0.9 * results["summary"]["requests"]
    assert "differential: " in proc.stdout and " 0 differences" in proc.stdout


def test_mock_with_two_workers_is_green(tmp_path: Path) -> None:
    """Two processes on one SQLite file answer as the fresh in-process reference does."""
    mock, url, keys = start_mock(tmp_path / "db.sqlite3", "--quiet", "--workers", "2")
    try:
        proc = run_suite_subprocess(
            url, (keys[0], keys[1], keys[2]), tmp_path / "r", "dev", 7, extra=("--differential",)
        )
    finally:
        _stop(mock)
    assert _green(proc, tmp_path / "r")["differential"]["exchanges"] > 500


@pytest.mark.postgres
def test_mock_on_postgresql_is_green(tmp_path: Path) -> None:
    from neuropay_contract.server.pgserver import running_postgres

    with running_postgres() as postgres:
        mock, url, keys = start_mock(postgres.new_database(), "--quiet")
        try:
            proc = run_suite_subprocess(
                url, (keys[0], keys[1], keys[2]), tmp_path, "dev", 8, extra=("--differential",)
            )
        finally:
            _stop(mock)
    assert _green(proc, tmp_path)["differential"]["exchanges"] > 500


def _worded_otherwise(path: str, req: Any, status: int, resp: Any) -> Any:
    """Every error message in other words (error codes and params unchanged)."""
    error = resp.get("error") if isinstance(resp, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("message"), str):
        return None
    return status, {**resp, "error": {**error, "message": "Refused: " + error["message"]}}, {}


def _spec_copy(tmp_path: Path, name: str, declare: bool) -> Path:
    """The bundled spec with the error message's wording declared free (or nowhere free)."""
    document = yaml.safe_load(default_spec_path().read_text(encoding="utf-8"))
    points = [
        point
        for point in document.get("x-implementation-defined") or []
        if not any(
            str(part.get("body", "")).startswith("/error") for part in point.get("answers") or []
        )
    ]
    if declare:
        points.append(
            {
                "id": "errors.wording",
                "point": "The words of an error message.",
                "readings": ["any text"],
                "why": "Messages are for people; clients read the code and param.",
                "answers": [{"body": "/error/message"}],
            }
        )
    document["x-implementation-defined"] = points
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def test_a_difference_the_spec_leaves_open_is_green_and_red_once_it_is_not(
    tmp_path: Path,
) -> None:
    app = create_app()
    keys = key_triplet(app.state.keys)
    runs = {}
    with serve_app(rewrite_json(app, _worded_otherwise)) as url:
        for declare in (True, False):
            where = tmp_path / f"declared-{declare}"
            spec = _spec_copy(tmp_path, f"spec-{declare}.yaml", declare)
            proc = run_suite_subprocess(
                url,
                keys,
                where,
                "dev",
                3,
                select="test_auth",
                extra=("--differential", "--spec", str(spec)),
            )
            runs[declare] = (proc, where)
    app.state.store.close()
    _green(*runs[True])
    proc, where = runs[False]
    assert proc.returncode == 1, proc.stdout[-3000:]
    failures = [c["failure"] for c in _results(where)["checks"] if c["failure"]]
    assert failures and all(f["rule"] == "differential.body" for f in failures)
    assert all("/error/message" in f["title"] for f in failures), failures[0]["title"]
    # both answers side by side, a curl script for each server, no key anywhere
    first = failures[0]
    reference = first["expected"]["reference"]["body"]["error"]["message"]
    assert reference and not reference.startswith("Refused: ")
    assert first["received"]["target"]["body"]["error"]["message"].startswith("Refused: ")
    assert (
        "# ---- the target ----" in first["curl"] and "# ---- the reference server" in first["curl"]
    )
    for key in keys:
        assert key not in (where / "results.json").read_text()
        assert key not in proc.stdout + proc.stderr
