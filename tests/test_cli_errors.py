"""Every verb, given bad input, fails the same way: the documented exit code, exactly one line on
stderr starting ``neuropay: error:``, no traceback, and no file of the user's changed."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from .reports.test_reports import results as reports_fixture

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "spec" / "openapi.yaml"
DEPTH = 50_000


@dataclass
class Case:
    args: list[str]
    code: int = 2
    env: dict[str, str] = field(default_factory=dict)
    says: str = ""  # a piece of the one error line
    within: float = 120.0  # seconds: a refusal must come early, not after the damage
    took: float = 0.0


def files(tmp: Path) -> dict[str, str]:
    """A hash of every file under ``tmp`` (the user's files, as the command found them)."""
    return {
        str(p.relative_to(tmp)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(tmp.rglob("*"))
        if p.is_file()
    }


def workspace(tmp: Path) -> dict[str, str]:
    """The user's files the cases point at, by name."""
    deep_json = tmp / "deep.json"
    deep_json.write_text("[" * DEPTH + "]" * DEPTH)
    deep_yaml = tmp / "deep.yaml"
    deep_yaml.write_text("a: " + "[" * DEPTH + "]" * DEPTH + "\n")
    no_test_mode = tmp / "no-test-mode.yaml"
    document = yaml.safe_load(SPEC.read_text())
    del document["x-test-mode"]
    no_test_mode.write_text(yaml.safe_dump(document))
    garbage = tmp / "garbage.json"
    garbage.write_text("{not json")
    a_file = tmp / "notes.txt"
    a_file.write_text("my precious notes\n")
    a_folder = tmp / "folder"
    a_folder.mkdir()
    (a_folder / "kept.txt").write_text("kept\n")
    existing = tmp / "existing.json"
    existing.write_text('{"mine": true}\n')
    # A billion nodes from 90 lines: each level a list of ten aliases of the one above.
    bomb = tmp / "alias-bomb.yaml"
    levels = ["openapi: 3.1.0", "a0: &a0 [" + ", ".join(["lol"] * 10) + "]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    bomb.write_text("\n".join(levels) + "\n")
    # OpenAPI documents whose parts have the wrong types, where the tools walk them.
    info = 'openapi: 3.1.0\ninfo: {title: t, version: "1"}\n'
    broken = {
        "paths_list": "openapi: 3.1.0\npaths: [1, 2]\n",
        "responses_number": info + 'paths: {"/x": {"get": {"responses": 5, "parameters": 7}}}\n',
        "content_number": info + 'paths: {"/x": {"post": {"requestBody": {"content": 5}, '
        '"responses": {"200": 5}}}}\ncomponents: {schemas: 5, securitySchemes: [1]}\n',
    }
    for name, text in broken.items():
        (tmp / f"broken_{name}.yaml").write_text(text)
    results = tmp / "results.json"
    results.write_text(json.dumps(reports_fixture().to_dict(), default=str))
    return {
        "deep_json": str(deep_json),
        "deep_yaml": str(deep_yaml),
        "no_test_mode": str(no_test_mode),
        "garbage": str(garbage),
        "file": str(a_file),
        "folder": str(a_folder),
        "under_file": str(a_file / "out.json"),
        "proc": "/proc/neuropay-out.json",
        "existing": str(existing),
        "results": str(results),
        "spec": str(SPEC),
        "bomb": str(bomb),
        **{f"broken_{name}": str(tmp / f"broken_{name}.yaml") for name in broken},
        "endless": "/dev/zero",
    }


# Each case: a builder of its arguments from the workspace's paths.
CASES: dict[str, Callable[[dict[str, str]], Case]] = {
    # usage errors from click, as one line with the hint
    "unknown verb": lambda w: Case(["frobnicate"], says="No such command 'frobnicate'"),
    "unknown sub-verb": lambda w: Case(["spec", "frob"], says="(see 'neuropay spec --help')"),
    "test --format xml": lambda w: Case(["test", "--format", "xml"], says="'--format'"),
    "test --profile xyz": lambda w: Case(["test", "--profile", "xyz"], says="'--profile'"),
    "mock --port 70000": lambda w: Case(["mock", "--port", "70000"], says="'--port'"),
    "report --md with no value": lambda w: Case(["report", w["existing"], "--md"]),
    # documents nested 50,000 deep, to every verb that reads one
    "spec lint deep yaml": lambda w: Case(["spec", "lint", w["deep_yaml"]]),
    "spec lint deep json": lambda w: Case(["spec", "lint", w["deep_json"]]),
    "spec diff deep json": lambda w: Case(["spec", "diff", w["deep_json"], w["spec"]]),
    "mock --spec deep yaml": lambda w: Case(["mock", "--port", "0", "--spec", w["deep_yaml"]]),
    "test --spec deep json": lambda w: Case(["test", "--spec", w["deep_json"]]),
    "docs --spec deep yaml": lambda w: Case(
        ["docs", "--spec", w["deep_yaml"], "--out", w["folder"]]
    ),
    "postman export --spec deep": lambda w: Case(
        ["postman", "export", "--spec", w["deep_json"], "--out", w["folder"]]
    ),
    "postman convert deep yaml": lambda w: Case(
        ["postman", "convert", w["deep_yaml"], "-o", w["existing"]]
    ),
    "postman diff deep json": lambda w: Case(["postman", "diff", w["deep_json"]]),
    "report deep json": lambda w: Case(["report", w["deep_json"], "--html", w["existing"]]),
    "audit deep json": lambda w: Case(["audit", w["deep_json"], "--report-dir", w["folder"]]),
    "proxy --spec deep": lambda w: Case(
        ["proxy", "--target", "http://127.0.0.1:9", "--port", "0", "--spec", w["deep_yaml"]]
    ),
    "load --spec deep": lambda w: Case(
        [
            "load",
            "--target-url",
            "http://127.0.0.1:9",
            "--api-key",
            "sk_test_x",
            "-t",
            "5s",
            "--spec",
            w["deep_yaml"],
            "--report-dir",
            w["folder"],
        ]
    ),
    "load without --run-time": lambda w: Case(
        ["load", "--target-url", "http://127.0.0.1:9", "--api-key", "sk_test_x"],
        says="--run-time is required",
    ),
    # endless inputs: every verb that reads a file stops at the size cap, not at memory's end
    "spec lint endless": lambda w: Case(["spec", "lint", w["endless"]], says="larger than"),
    "spec diff endless": lambda w: Case(["spec", "diff", w["spec"], w["endless"]], says="larger"),
    "spec diff --accept endless": lambda w: Case(
        ["spec", "diff", w["spec"], w["spec"], "--accept", w["endless"]], says="larger than"
    ),
    "test --spec endless": lambda w: Case(["test", "--spec", w["endless"]], says="larger than"),
    "mock --spec endless": lambda w: Case(
        ["mock", "--port", "0", "--spec", w["endless"]], says="larger than"
    ),
    "mock --api-key-file endless": lambda w: Case(
        ["mock", "--port", "0", "--api-key-file", w["endless"]], says="larger than"
    ),
    "docs --spec endless": lambda w: Case(
        ["docs", "--spec", w["endless"], "--out", w["folder"]], says="larger than"
    ),
    "postman convert endless": lambda w: Case(
        ["postman", "convert", w["endless"], "-o", w["existing"]], says="larger than"
    ),
    "postman diff endless": lambda w: Case(["postman", "diff", w["endless"]], says="larger"),
    "report endless": lambda w: Case(
        ["report", w["endless"], "--html", w["existing"]], says="larger than"
    ),
    "audit endless": lambda w: Case(
        ["audit", w["endless"], "--report-dir", w["folder"]], says="larger than"
    ),
    # YAML alias bombs: refused after a bounded walk, not after expanding a billion nodes
    "spec lint alias bomb": lambda w: Case(
        ["spec", "lint", w["bomb"]], says="YAML aliases", within=20
    ),
    "spec diff alias bomb": lambda w: Case(
        ["spec", "diff", w["spec"], w["bomb"]], says="aliases", within=20
    ),
    "docs alias bomb": lambda w: Case(
        ["docs", "--spec", w["bomb"], "--out", w["folder"]], says="YAML aliases", within=20
    ),
    # structurally invalid specs: one line naming the first problem, never "internal error"
    **{
        f"{verb} {shape}": (
            lambda w, verb=verb, shape=shape: Case(
                ["docs", "--spec", w[f"broken_{shape}"], "--out", w["folder"]]
                if verb == "docs"
                else ["postman", "convert", w[f"broken_{shape}"], "-o", w["existing"]],
                says="not a structurally valid OpenAPI document",
            )
        )
        for verb in ("docs", "postman convert")
        for shape in ("paths_list", "responses_number", "content_number")
    },
    "mock --host unresolvable": lambda w: Case(
        ["mock", "--port", "0", "--db", ":memory:", "--host", "no-such-host.invalid"],
        says="--host 'no-such-host.invalid'",
    ),
    "mock keys list --db :memory:": lambda w: Case(
        ["mock", "keys", "list", "--db", ":memory:"], says=":memory:"
    ),
    "mock keys add --db :memory:": lambda w: Case(
        ["mock", "keys", "add", "--db", ":memory:"], says=":memory:"
    ),
    "mock --db :memory: keys add": lambda w: Case(
        ["mock", "--db", ":memory:", "keys", "add"], says=":memory:"
    ),
    "report garbage": lambda w: Case(["report", w["garbage"], "--html", w["existing"]]),
    # a spec without x-test-mode
    "test without x-test-mode": lambda w: Case(
        ["test", "--spec", w["no_test_mode"]], says="x-test-mode"
    ),
    "mock without x-test-mode": lambda w: Case(
        ["mock", "--port", "0", "--db", ":memory:", "--spec", w["no_test_mode"]],
        says="x-test-mode",
    ),
    # test's own inputs
    "test -k syntax error": lambda w: Case(["test", "-k", "fuzz and ("], says="-k 'fuzz and ('"),
    "NEUROPAY_TIMEOUT not a number": lambda w: Case(
        ["test"], env={"NEUROPAY_TIMEOUT": "soon"}, says="$NEUROPAY_TIMEOUT 'soon' is not a number"
    ),
    # output paths that cannot be written
    "convert -o a folder": lambda w: Case(
        ["postman", "convert", w["spec"], "-o", w["folder"]], says="it is a folder"
    ),
    "convert -o under a file": lambda w: Case(
        ["postman", "convert", w["spec"], "-o", w["under_file"]]
    ),
    "convert -o /proc": lambda w: Case(["postman", "convert", w["spec"], "-o", w["proc"]]),
    "export --out a file": lambda w: Case(
        ["postman", "export", "--out", w["file"]], says="it is a file"
    ),
    "export --out /proc": lambda w: Case(["postman", "export", "--out", "/proc/neuropay"]),
    "report --html a folder": lambda w: Case(
        ["report", w["results"], "--html", w["folder"]], says="it is a folder"
    ),
    "report --md under /proc": lambda w: Case(["report", w["results"], "--md", w["proc"]]),
    "report --junit under a file": lambda w: Case(
        ["report", w["results"], "--junit", w["under_file"]]
    ),
    "docs --out a file": lambda w: Case(["docs", "--out", w["file"]], says="it is a file"),
    "test --report-dir a file": lambda w: Case(["test", "--report-dir", w["file"]]),
    "mock --db a folder": lambda w: Case(["mock", "--port", "0", "--db", w["folder"]]),
    "mock --api-key-file missing": lambda w: Case(
        ["mock", "--port", "0", "--api-key-file", w["folder"] + "/none.txt"]
    ),
}


def run(case: Case, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "neuropay_contract", *case.args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, "PYTHONWARNINGS": "ignore", **case.env},
    )


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Case, Any, bool]]:
    """Every case run once, two at a time, each in a workspace of its own."""

    def one(name: str) -> tuple[Case, subprocess.CompletedProcess[str], bool]:
        tmp = tmp_path_factory.mktemp(name.replace(" ", "-").replace("/", "_")[:40])
        case = CASES[name](workspace(tmp))
        before = files(tmp)
        started = time.monotonic()
        result = run(case, tmp)
        case.took = time.monotonic() - started
        return case, result, files(tmp) == before

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(CASES, pool.map(one, CASES), strict=True))


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_one_line_and_an_exit_code(
    outcomes: dict[str, tuple[Case, Any, bool]], name: str
) -> None:
    case, result, unchanged = outcomes[name]
    lines = result.stderr.splitlines()
    assert "Traceback" not in result.stderr, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("neuropay: error: "), lines[0]
    assert "internal error" not in lines[0]
    assert case.says in lines[0]
    assert result.returncode == case.code, (result.returncode, lines[0])
    assert unchanged, "a file of the user's changed"
    assert case.took < case.within, f"refused after {case.took:.1f} s"


def test_every_verb_is_driven() -> None:
    from neuropay_contract.cli import _COMMANDS

    any_path: dict[str, str] = defaultdict(lambda: "path")
    assert set(_COMMANDS) <= {case(any_path).args[0] for case in CASES.values()}
