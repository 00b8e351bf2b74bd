"""`spec diff --format sarif|junit|github`: the annotations and JUnit oasdiff users know, valid
against the SARIF 2.1.0 JSON Schema and the JUnit XSD shipped in tests/fixtures/ci, each change on
the line of its node in the file a reviewer reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from ..lint.test_ci_formats import junit_schema, sarif_errors

PETSTORE = Path(__file__).resolve().parents[1] / "fixtures" / "realspecs" / "oai-v3.0-petstore.yaml"


def _pair(tmp_path: Path) -> tuple[Path, Path, dict[str, Any]]:
    old = tmp_path / "old.yaml"
    old.write_text(PETSTORE.read_text())
    document = yaml.safe_load(PETSTORE.read_text())
    del document["paths"]["/pets"]["post"]  # breaking for clients
    document["components"]["schemas"]["Pet"]["required"].append("tag")  # a warning
    new = tmp_path / "new.yaml"
    new.write_text(yaml.safe_dump(document, sort_keys=False))
    return old, new, document


def _diff(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "neuropay_contract", "spec", "diff", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_diff_sarif_validates_and_points_at_lines(tmp_path: Path) -> None:
    old, new, _ = _pair(tmp_path)
    done = _diff(old, new, "--format", "sarif", cwd=tmp_path)
    assert done.returncode == 1
    log = json.loads(done.stdout)
    assert sarif_errors(log) == []
    results = {r["ruleId"]: r for r in log["runs"][0]["results"]}
    removed = results["operation-removed"]
    assert removed["level"] == "error"
    where = removed["locations"][0]["physicalLocation"]
    assert where["artifactLocation"]["uri"] == "old.yaml"  # a removal is read in the old file
    line = old.read_text().splitlines()[where["region"]["startLine"] - 1]
    assert line.strip() == "post:"
    required = results["response-property-became-required"]
    assert required["level"] == "warning"
    assert required["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "new.yaml"


def test_diff_junit_validates_and_fails_per_fail_on(tmp_path: Path) -> None:
    old, new, _ = _pair(tmp_path)
    schema = junit_schema()
    breaking = _diff(old, new, "--format", "junit", cwd=tmp_path)
    schema.validate(breaking.stdout)
    suite = schema.to_dict(breaking.stdout)["testsuite"][0]
    failed = [c["@name"].split(":")[0] for c in suite["testcase"] if "failure" in c]
    assert failed == ["operation-removed"]
    assert int(suite["@tests"]) > 50  # every rule of the table is a test case
    warnings = _diff(old, new, "--format", "junit", "--fail-on", "warning", cwd=tmp_path)
    suite = schema.to_dict(warnings.stdout)["testsuite"][0]
    assert int(suite["@failures"]) == 2
    never = _diff(old, new, "--format", "junit", "--fail-on", "never", cwd=tmp_path)
    assert never.returncode == 0
    assert int(schema.to_dict(never.stdout)["testsuite"][0]["@failures"]) == 0


def test_diff_github_annotations(tmp_path: Path) -> None:
    old, new, _ = _pair(tmp_path)
    done = _diff(old, new, "--format", "github", cwd=tmp_path)
    lines = done.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("::error file=old.yaml,line=")
    assert "title=operation-removed::breaking for client (POST /pets)" in lines[0]
    assert lines[1].startswith("::warning file=new.yaml,line=")
