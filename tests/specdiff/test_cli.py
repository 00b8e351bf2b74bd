"""``neuropay spec diff`` as a user runs it: files and git sources, formats, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from neuropay_contract.specdiff.render import REPORT_SCHEMA_PATH

from .conftest import Mutation
from .test_mutations import props, schema

NEUROPAY = [sys.executable, "-m", "neuropay_contract"]
SpecFile = Callable[[str, Mutation | None], Path]


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*NEUROPAY, "spec", "diff", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1"},
    )


def _breaking(d: dict[str, Any]) -> None:
    schema(d, "Checkout")["required"].remove("url")


def _warning(d: dict[str, Any]) -> None:
    props(d, "Checkout")["receipt_url"] = {"type": "string"}


def test_breaking_change_exits_1_in_every_format(spec_file: SpecFile) -> None:
    old, new = spec_file("old.yaml", None), spec_file("new.yaml", _breaking)
    text = run(old, new)
    assert text.returncode == 1, text.stderr
    assert "BREAKING client response-property-became-optional" in text.stdout
    assert "#/components/schemas/Checkout/properties/url" in text.stdout
    md = run(old, new, "--format", "md")
    assert md.returncode == 1
    assert "### Breaking (1)" in md.stdout and "`POST /checkout/capture, " in md.stdout
    js = run(old, new, "--format", "json")
    assert js.returncode == 1
    report = json.loads(js.stdout)
    Draft202012Validator(json.loads(REPORT_SCHEMA_PATH.read_text())).validate(report)
    assert report["summary"] == {"breaking": 1, "warning": 0, "safe": 0, "accepted": 0}
    (change,) = report["changes"]
    assert change["rule"] == "response-property-became-optional"
    assert len(change["operations"]) >= 7


def test_fail_on_and_side(spec_file: SpecFile) -> None:
    old, warn, breaking = (
        spec_file("old.yaml", None),
        spec_file("w.yaml", _warning),
        spec_file("b.yaml", _breaking),
    )
    assert run(old, warn).returncode == 0
    assert run(old, warn, "--fail-on", "warning").returncode == 1
    # A client-side break does not concern someone who only implements servers.
    server_view = run(old, breaking, "--side", "server", "--format", "json")
    assert server_view.returncode == 0
    assert json.loads(server_view.stdout)["changes"] == []
    assert run(old, breaking, "--side", "client").returncode == 1


def test_rules_table_lists_every_rule() -> None:
    from neuropay_contract.specdiff import RULES

    text = run("--rules")
    assert text.returncode == 0
    assert {line.split()[0] for line in text.stdout.splitlines()} == set(RULES)
    md = run("--rules", "--format", "md")
    assert md.stdout.startswith("| Rule | Area | Severity | Side | Change |")
    server = run("--rules", "--side", "server")
    assert "operation-removed" not in server.stdout and "operation-added" in server.stdout


def test_json_schema_is_published() -> None:
    done = run("--json-schema")
    assert done.returncode == 0
    Draft202012Validator.check_schema(json.loads(done.stdout))


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, timeout=60)


@pytest.fixture
def repo(tmp_path: Path, spec_file: SpecFile) -> Path:
    root = tmp_path / "repo"
    (root / "spec").mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.email", "t@example.com")
    _git(root, "config", "user.name", "t")
    (root / "spec" / "openapi.yaml").write_text(spec_file("a.yaml", None).read_text())
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "one")
    (root / "spec" / "openapi.yaml").write_text(spec_file("b.yaml", _breaking).read_text())
    _git(root, "commit", "-qam", "two")
    return root


def test_git_sources(repo: Path) -> None:
    done = run("git:HEAD~1", "spec/openapi.yaml", cwd=repo)
    assert done.returncode == 1, done.stderr
    assert "response-property-became-optional" in done.stdout
    assert run("git:HEAD~1:spec/openapi.yaml", "git:HEAD", cwd=repo).returncode == 1
    # A path relative to a subdirectory is read relative to it.
    assert run("git:HEAD~1:openapi.yaml", "openapi.yaml", cwd=repo / "spec").returncode == 1
    assert run("git:HEAD", "spec/openapi.yaml", cwd=repo).returncode == 0


def _one_error_line(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("neuropay: error: "), done.stderr
    assert "Traceback" not in done.stderr
    for needle in needles:
        assert needle in lines[0]


def test_bad_input_exits_2_with_one_line(repo: Path, tmp_path: Path) -> None:
    spec = repo / "spec" / "openapi.yaml"
    _one_error_line(run(tmp_path / "missing.yaml", spec), "missing.yaml", "does not exist")
    _one_error_line(run("git:no-such-ref", spec, cwd=repo), "no-such-ref")
    _one_error_line(run("git:HEAD:nope.yaml", spec, cwd=repo), "nope.yaml")
    _one_error_line(run("git:HEAD", spec, cwd=tmp_path), "git")
    notes = tmp_path / "notes.json"
    notes.write_text('{"hello": "world"}')
    _one_error_line(run(notes, spec), "not an OpenAPI document")
    garbage = tmp_path / "garbage.yaml"
    garbage.write_text("openapi: [unclosed\n")
    _one_error_line(run(garbage, spec), "not valid YAML or JSON")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\nx-deep: " + "[" * 20000 + "]" * 20000
    )
    _one_error_line(run(bomb, spec), "bomb.yaml")
    _one_error_line(run(spec), "needs OLD and NEW")


def test_allow_major_bump_and_fail_on_never(spec_file: SpecFile) -> None:
    old = spec_file("old.yaml", None)
    same_major = spec_file("b.yaml", _breaking)
    bumped = spec_file("b2.yaml", lambda d: (_breaking(d), d["info"].update(version="2.0.0")))
    assert run(old, same_major, "--allow-major-bump").returncode == 1
    done = run(old, bumped, "--allow-major-bump")
    assert done.returncode == 0
    assert "new major version" in done.stderr
    assert run(old, bumped).returncode == 1
    assert run(old, same_major, "--fail-on", "never").returncode == 0


def test_readme_shows_the_current_rule_table() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert run("--rules", "--format", "md").stdout.strip() in readme


def test_git_head_parent_in_this_checkout() -> None:
    root = Path(__file__).resolve().parents[2]
    has_parent = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--verify", "-q", "HEAD~1"],
        capture_output=True,
        timeout=60,
    )
    if has_parent.returncode != 0:
        pytest.skip("not a git checkout with history")
    done = run("git:HEAD~1", "spec/openapi.yaml", cwd=root)
    assert done.returncode in (0, 1), done.stderr
    assert done.stdout.splitlines()[-1].startswith("git:HEAD~1 (")


def test_accept_file(spec_file: SpecFile, tmp_path: Path) -> None:
    old, new = spec_file("old.yaml", None), spec_file("new.yaml", _breaking)
    accept = tmp_path / "accepted.txt"
    accept.write_text(
        "# reviewed in PR 12\nresponse-property-became-optional #/components/schemas/Checkout\n"
    )
    done = run(old, new, "--accept", accept, "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["changes"] == [] and report["summary"]["accepted"] == 1
    accept.write_text("response-property-became-optional #/components/schemas/Customer\n")
    assert run(old, new, "--accept", accept).returncode == 1
    accept.write_text("response-property-became-optional  # any of them\n")
    assert run(old, new, "--accept", accept).returncode == 0
    accept.write_text("response-propety-became-optional\n")
    _one_error_line(run(old, new, "--accept", accept), "unknown rule")


@pytest.mark.parametrize(
    "ref",
    [
        "--output=written.txt",
        "--output=written.txt:spec/openapi.yaml",
        "--output=written:notes.yaml",
        "-owritten:notes.yaml",
        "-owritten.txt",
        "--textconv",
        "--ext-diff",
        "-p --output=written.txt",
        "HEAD\x1b[2J",
        "HEAD --output=written.txt",
        "-",
    ],
)
def test_git_refs_are_never_options(repo: Path, ref: str) -> None:
    """Whatever a git: source holds, git never reads it as an option: one error line, no file
    written, nothing but the user's files in the repository."""
    before = sorted(p.name for p in repo.rglob("*") if ".git" not in p.parts)
    _one_error_line(run(f"git:{ref}", "spec/openapi.yaml", cwd=repo), "git")
    assert sorted(p.name for p in repo.rglob("*") if ".git" not in p.parts) == before
    assert not (repo / "written.txt").exists()
