"""`spec lint --format sarif|junit|github` and the project's ruleset: the SARIF validates against
the SARIF 2.1.0 JSON Schema, the JUnit against a JUnit XSD (both shipped in tests/fixtures/ci),
the annotations are GitHub's workflow commands, and the ruleset turns rules off or changes them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import xmlschema

from neuropay_contract import ci_formats
from neuropay_contract.errors import UsageError
from neuropay_contract.linting import SEVERITIES, lint_spec
from neuropay_contract.linting.output import render_lint
from neuropay_contract.linting.ruleset import read_ruleset
from neuropay_contract.project_config import read_project_config, read_project_config_file

from .._fixtures import REALSPECS_DIR

CI = Path(__file__).resolve().parents[1] / "fixtures" / "ci"
PETSTORE = REALSPECS_DIR / "oai-v3.0-petstore.yaml"


def sarif_errors(log: Any) -> list[str]:
    schema = json.loads((CI / "sarif-schema-2.1.0.json").read_text())
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]


def junit_schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(CI / "junit-10.xsd"))


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "neuropay_contract", "spec", "lint", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def test_sarif_validates_and_holds_every_finding() -> None:
    report = lint_spec(PETSTORE)
    assert report.findings, "the petstore has findings to report"
    log = json.loads(render_lint(report, "sarif", "warning"))
    assert sarif_errors(log) == []
    run = log["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert rule_ids == sorted(SEVERITIES)
    assert len(run["results"]) == len(report.findings)
    for result, finding in zip(run["results"], report.findings, strict=True):
        assert result["ruleId"] == finding.rule
        assert rule_ids[result["ruleIndex"]] == finding.rule
        assert result["level"] == {"info": "note"}.get(finding.severity, finding.severity)
        location = result["locations"][0]
        assert location["physicalLocation"]["region"]["startLine"] == finding.line
        assert location["logicalLocations"][0]["fullyQualifiedName"] == finding.pointer


def test_sarif_of_a_clean_spec_validates_with_no_results() -> None:
    log = json.loads(render_lint(lint_spec(), "sarif", "warning"))
    assert sarif_errors(log) == []
    assert log["runs"][0]["results"] == []


def test_the_sarif_schema_fixture_rejects_a_broken_log() -> None:
    """The validation above can fail: a log without its version does not pass."""
    log = json.loads(render_lint(lint_spec(PETSTORE), "sarif", "warning"))
    del log["version"]
    log["runs"][0]["results"][0]["level"] = "fatal"
    assert len(sarif_errors(log)) >= 2


def test_junit_validates_and_fails_only_the_rules_at_fail_on() -> None:
    report = lint_spec(PETSTORE)
    text = render_lint(report, "junit", "warning", 0.5)
    schema = junit_schema()
    schema.validate(text)
    document = schema.to_dict(text)
    suite = document["testsuite"][0]
    assert int(suite["@tests"]) == len(SEVERITIES)
    failed = {case["@name"].split(":")[0] for case in suite["testcase"] if "failure" in case}
    assert failed == {f.rule for f in report.findings if f.severity != "info"}
    # info findings (NP002) are reported, but as output of a passing test case
    np002 = next(case for case in suite["testcase"] if case["@name"].startswith("NP002"))
    assert "failure" not in np002 and "examples" in np002["system-out"][0]
    strict = schema.to_dict(render_lint(report, "junit", "info"))["testsuite"][0]
    assert int(strict["@failures"]) == len({f.rule for f in report.findings})


def test_github_annotations_name_file_line_and_rule() -> None:
    report = lint_spec(PETSTORE)
    lines = render_lint(report, "github", "warning").splitlines()
    assert len(lines) == len(report.findings)
    first = report.findings[0]
    level = {"info": "notice"}.get(first.severity, first.severity)
    assert lines[0].startswith(f"::{level} file=")
    assert f",line={first.line},title={first.rule}::" in lines[0]
    assert PETSTORE.name in lines[0]


def test_github_annotations_escape_what_would_end_a_command() -> None:
    found = [ci_formats.Annotation("R1", "error", "50% off\nsecond line", "a,b:c.yaml", 3, "#/x")]
    line = ci_formats.github(found)
    assert line == "::error file=a%2Cb%3Ac.yaml,line=3,title=R1::50%25 off%0Asecond line (#/x)"
    assert "\n" not in line


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder / name


def test_pyproject_ruleset_turns_np001_off(tmp_path: Path) -> None:
    spec = tmp_path / "petstore.yaml"
    spec.write_text(PETSTORE.read_text())
    before = _cli(str(spec), cwd=tmp_path)
    assert " NP001 " in before.stdout and before.returncode == 1
    _write(tmp_path, "pyproject.toml", '[tool.neuropay.lint.rules]\nNP001 = "off"\n')
    after = _cli(str(spec), "--format", "json", cwd=tmp_path)
    rules = {f["rule"] for f in json.loads(after.stdout)["findings"]}
    assert "NP001" not in rules and "NP002" in rules
    assert after.returncode == 0  # what is left is info


def test_neuropay_toml_changes_a_severity(tmp_path: Path) -> None:
    spec = tmp_path / "specs" / "petstore.yaml"
    _write(spec.parent, spec.name, PETSTORE.read_text())
    _write(tmp_path, "neuropay.toml", '[lint.rules]\nNP002 = "error"\nNP001 = "off"\n')
    done = _cli(str(spec), "--fail-on", "error", cwd=tmp_path)
    assert done.returncode == 1
    assert all(" error NP002 " in line for line in done.stdout.splitlines()[:-1])


def test_overrides_apply_per_file_and_per_node(tmp_path: Path) -> None:
    legacy = _write(tmp_path / "legacy", "petstore.yaml", PETSTORE.read_text())
    current = _write(tmp_path / "current", "petstore.yaml", PETSTORE.read_text())
    config = _write(
        tmp_path,
        "pyproject.toml",
        '[tool.neuropay.lint.rules]\nNP002 = "off"\n'
        '[[tool.neuropay.lint.overrides]]\nfiles = ["legacy/*.yaml"]\nrules = { NP001 = "off" }\n'
        "[[tool.neuropay.lint.overrides]]\n"
        'files = ["current/petstore.yaml#/paths/~1pets"]\nrules = { NP001 = "info" }\n',
    )
    ruleset = read_ruleset(read_project_config_file("lint", config), SEVERITIES)
    assert [f.rule for f in lint_spec(legacy, ruleset=ruleset).findings] == []
    findings = lint_spec(current, ruleset=ruleset).findings
    by_pointer = {f.pointer: f.severity for f in findings}
    assert by_pointer == {
        "#/paths/~1pets/get": "info",
        "#/paths/~1pets/post": "info",
        "#/paths/~1pets~1{petId}/get": "warning",
    }


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('[tool.neuropay.lint.rules]\nNP999 = "off"\n', "unknown rule 'NP999'"),
        ('[tool.neuropay.lint.rules]\nNP001 = "fatal"\n', "use one of off, info, warning, error"),
        ("[tool.neuropay.lint]\nrule = {}\n", "unknown key 'rule'"),
        ("[tool.neuropay.lint.rules\n", "cannot read"),
        ('[[tool.neuropay.lint.overrides]]\nrules = { NP001 = "off" }\n', "'files' must be"),
    ],
)
def test_a_bad_ruleset_is_one_line_and_exit_2(tmp_path: Path, text: str, needle: str) -> None:
    config = _write(tmp_path, "pyproject.toml", text)
    with pytest.raises(UsageError, match=needle.replace("(", r"\(")):
        read_ruleset(read_project_config("lint", tmp_path), SEVERITIES)
    done = _cli(str(PETSTORE), "--config", str(config))
    assert done.returncode == 2
    assert done.stderr.startswith("neuropay: error: ") and done.stderr.count("\n") == 1
    assert needle in done.stderr


def test_a_neuropay_toml_without_a_lint_table_leaves_it_to_pyproject(tmp_path: Path) -> None:
    _write(tmp_path, "pyproject.toml", '[tool.neuropay.lint.rules]\nNP001 = "off"\n')
    _write(tmp_path, "neuropay.toml", '[test]\nprofile = "dev"\n')
    config = read_project_config("lint", tmp_path)
    assert config.path == tmp_path / "pyproject.toml"
    assert read_ruleset(config, SEVERITIES).rules == {"NP001": "off"}
