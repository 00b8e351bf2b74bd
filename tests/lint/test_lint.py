"""The spec linter: the real spec is clean, each rule fires on its broken fixture, and odd input
gets a one-line error with exit 2."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from neuropay_contract._resources import default_spec_path
from neuropay_contract.linting import RULES, lint_spec

from .._fixtures import REALSPECS

FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("NP*.yaml"))


def _apply(document: Any, patch: list[dict[str, Any]]) -> Any:
    """A minimal JSON Patch (add, remove, replace) for the fixtures."""
    doc = copy.deepcopy(document)
    for step in patch:
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in step["path"].split("/")[1:]]
        parent = doc
        for token in tokens[:-1]:
            parent = parent[int(token)] if isinstance(parent, list) else parent[token]
        last = tokens[-1]
        if step["op"] == "remove":
            del parent[int(last) if isinstance(parent, list) else last]
        elif isinstance(parent, list):
            parent.append(step["value"]) if last == "-" else parent.insert(int(last), step["value"])
        else:
            parent[last] = step["value"]
    return doc


def _broken_text(text: str, fixture: Path) -> str:
    """The spec broken by a fixture: a JSON Patch (a list) applied to the parsed document, or
    ``{replace_lines: [{key, text}]}`` replacing the text of the line that starts with ``key``
    (for defects that live in the YAML text itself, such as an unquoted comma)."""
    patch = yaml.safe_load(fixture.read_text())
    if isinstance(patch, list):
        return yaml.safe_dump(_apply(yaml.safe_load(text), patch), sort_keys=False)
    lines = text.splitlines(keepends=True)
    for change in patch["replace_lines"]:
        index = next(i for i, line in enumerate(lines) if line.lstrip().startswith(change["key"]))
        indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
        lines[index] = f"{indent}{change['text']}\n"
    return "".join(lines)


def test_the_spec_is_clean() -> None:
    report = lint_spec(default_spec_path())
    assert report.findings == []


@pytest.mark.parametrize("fixture", FIXTURES, ids=[f.stem for f in FIXTURES])
def test_each_rule_fires_on_its_fixture(fixture: Path, tmp_path: Path) -> None:
    broken = tmp_path / "openapi.yaml"
    broken.write_text(_broken_text(default_spec_path().read_text(), fixture))
    report = lint_spec(broken)
    rule = fixture.stem.split("-")[0]
    fired = {f.rule for f in report.findings}
    assert rule in fired, f"{rule} did not fire; got {fired}"
    finding = next(f for f in report.findings if f.rule == rule)
    assert finding.line is not None
    assert finding.line >= 1
    assert finding.pointer.startswith("#")


def test_the_flow_mapping_defect_is_found_on_its_old_text(tmp_path: Path) -> None:
    """The text the spec once had: the comma made 'unknown or revoked.' a key of its own."""
    broken = tmp_path / "openapi.yaml"
    fixture = Path(__file__).parent / "fixtures" / "NP011-flow-mapping-comma.yaml"
    broken.write_text(_broken_text(default_spec_path().read_text(), fixture))
    found = [f for f in lint_spec(broken).findings if f.rule == "NP011"]
    assert [f.pointer for f in found] == [
        "#/components/schemas/ErrorCode/x-error-codes/invalid_api_key"
    ]
    assert "'unknown or revoked.'" in found[0].message
    assert "quote" in found[0].message
    assert (
        found[0].line
        == broken.read_text()
        .splitlines()
        .index(
            next(line for line in broken.read_text().splitlines() if "invalid_api_key: {" in line)
        )
        + 1
    )


@pytest.mark.parametrize(
    ("patch", "pointer"),
    [
        ([{"op": "add", "path": "/x-limits/max_body_kb", "value": 64}], "#/x-limits"),
        (
            [{"op": "replace", "path": "/x-test-mode/unknown_card_outcome", "value": "maybe"}],
            "#/x-test-mode/unknown_card_outcome",
        ),
        (
            [{"op": "add", "path": "/x-lifecycle/forbidden/0/guard", "value": "x"}],
            "#/x-lifecycle/forbidden/0",
        ),
        (
            [
                {
                    "op": "replace",
                    "path": "/paths/~1checkout~1test~1pay/post/x-test-only",
                    "value": "yes",
                }
            ],
            "#/paths/~1checkout~1test~1pay/post/x-test-only",
        ),
        ([{"op": "remove", "path": "/x-idempotency/conflict"}], "#/x-idempotency"),
    ],
    ids=[
        "limits-extra-key",
        "test-mode-enum",
        "lifecycle-extra-key",
        "test-only-type",
        "idem-required",
    ],
)
def test_extension_schemas_catch_each_extension(
    tmp_path: Path, patch: list[dict[str, Any]], pointer: str
) -> None:
    broken = tmp_path / "openapi.yaml"
    document = _apply(yaml.safe_load(default_spec_path().read_text()), patch)
    broken.write_text(yaml.safe_dump(document, sort_keys=False))
    found = [f for f in lint_spec(broken).findings if f.rule == "NP011"]
    assert [f.pointer for f in found] == [pointer]


def test_every_rule_has_a_fixture() -> None:
    covered = {f.stem.split("-")[0] for f in FIXTURES}
    assert {"NP000", *RULES} <= covered


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "neuropay_contract", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_exit_codes_and_output(tmp_path: Path) -> None:
    clean = _cli("spec", "lint")
    assert clean.returncode == 0
    assert "clean" in clean.stdout
    document = yaml.safe_load(default_spec_path().read_text())
    del document["paths"]["/checkout/capture"]["post"]["summary"]
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(document, sort_keys=False))
    found = _cli("spec", "lint", str(broken), "--format", "text")
    assert found.returncode == 1
    line = next(row for row in found.stdout.splitlines() if " NP001 " in row)
    assert line.startswith(f"{broken}:")
    assert "/checkout/capture" in line.replace("~1", "/")
    as_json = json.loads(_cli("spec", "lint", str(broken), "--format", "json").stdout)
    assert as_json["findings"][0]["rule"] == "NP001"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("garbage.yaml", b"openapi: [\n"),
        ("binary.yaml", bytes(range(256))),
        ("list.yaml", b"- 1\n- 2\n"),
        ("empty.yaml", b""),
    ],
)
def test_unreadable_files_exit_2_with_one_line(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    proc = _cli("spec", "lint", str(path))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("neuropay: error:")
    assert "Traceback" not in proc.stderr


def test_missing_file_exits_2() -> None:
    proc = _cli("spec", "lint", "/no/such/spec.yaml")
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr


@pytest.mark.parametrize("path", REALSPECS, ids=[p.name for p in REALSPECS])
def test_other_peoples_documents_do_not_crash(path: Path) -> None:
    report = lint_spec(path)
    assert all(f.rule for f in report.findings)
    assert not any("could not run" in f.message for f in report.findings)


@pytest.mark.node
def test_spectral_oas_ruleset_finds_no_error() -> None:
    root = Path(__file__).resolve().parents[2]
    spectral = root / "node_modules" / ".bin" / "spectral"
    proc = subprocess.run(
        [
            str(spectral),
            "lint",
            "--fail-severity=error",
            "--ruleset",
            str(root / ".spectral.yaml"),
            str(root / "spec" / "openapi.yaml"),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_extension_of_the_spec_has_a_shipped_schema() -> None:
    """A new x- extension in the spec needs its JSON Schema (linting/extensions/x-NAME.json)."""
    from neuropay_contract.linting.extension_schemas import extension_validators

    found: set[str] = set()
    stack: list[Any] = [yaml.safe_load(default_spec_path().read_text())]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found |= {k for k in node if isinstance(k, str) and k.startswith("x-")}
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    assert found
    assert found <= set(extension_validators()), found - set(extension_validators())


@pytest.mark.parametrize(
    ("patch", "pointer", "words"),
    [
        (
            [{"op": "move", "from": "/x-precedence/6", "path": "/x-precedence/3"}],
            "#/x-precedence",
            "body_size must come before json",
        ),
        (
            [{"op": "replace", "path": "/x-precedence/2/http", "value": 403}],
            "#/x-precedence/2",
            "is HTTP 401 in x-error-codes, not 403",
        ),
        (
            [{"op": "replace", "path": "/x-idempotency/conflict/http", "value": 422}],
            "#/x-idempotency/conflict",
            "disagrees with x-precedence's idempotency step",
        ),
        (
            [{"op": "replace", "path": "/x-test-mode/live_key_answer/code", "value": "not_found"}],
            "#/x-test-mode/live_key_answer",
            "disagrees with x-precedence's test_mode_only step",
        ),
        (
            [{"op": "replace", "path": "/x-idempotency/invalid_key/http", "value": 409}],
            "#/x-idempotency/invalid_key",
            "disagrees with x-precedence's idempotency_key step",
        ),
    ],
    ids=[
        "order-cannot-run",
        "http-disagrees",
        "conflict-restated-otherwise",
        "live-key-answer-restated-otherwise",
        "invalid-key-restated-otherwise",
    ],
)
def test_precedence_is_checked_beyond_its_schema(
    tmp_path: Path, patch: list[dict[str, Any]], pointer: str, words: str
) -> None:
    document = yaml.safe_load(default_spec_path().read_text())
    for step in patch:
        if step["op"] == "move":
            steps = document["x-precedence"]
            steps.insert(
                int(step["path"].rsplit("/", 1)[1]), steps.pop(int(step["from"].rsplit("/", 1)[1]))
            )
    document = _apply(document, [p for p in patch if p["op"] != "move"])
    broken = tmp_path / "openapi.yaml"
    broken.write_text(yaml.safe_dump(document, sort_keys=False))
    found = [f for f in lint_spec(broken).findings if f.rule == "NP011"]
    assert any(f.pointer == pointer and words in f.message for f in found), found


@pytest.mark.parametrize(
    ("patch", "pointer", "words"),
    [
        (
            [
                {
                    "op": "add",
                    "path": "/components/schemas/Amount/x-decides",
                    "value": ["expiry.durations"],
                }
            ],
            "#/x-implementation-defined/5",
            "x-decides names it at #/components/schemas/Amount",
        ),
        (
            [
                {
                    "op": "add",
                    "path": "/x-implementation-defined/0/where/-",
                    "value": "#/components/schemas/CreateCheckoutRequest/properties/capture",
                }
            ],
            "#/x-implementation-defined/0/where/2",
            "decides it with default",
        ),
        (
            [
                {
                    "op": "add",
                    "path": "/x-implementation-defined/0/where/-",
                    "value": "#/components/schemas/Checkout/properties/object",
                }
            ],
            "#/x-implementation-defined/0/where/2",
            "decides it with const",
        ),
        (
            [
                {
                    "op": "add",
                    "path": "/x-implementation-defined/0/where/-",
                    "value": "#/components/schemas/NoSuchSchema",
                }
            ],
            "#/x-implementation-defined/0/where/2",
            "points at nothing",
        ),
        (
            [
                {
                    "op": "replace",
                    "path": "/x-implementation-defined/1/id",
                    "value": "hosted-page.form",
                }
            ],
            "#/x-implementation-defined/1/id",
            "listed twice",
        ),
        (
            [
                {
                    "op": "add",
                    "path": "/x-implementation-defined/3/answers",
                    "value": [{"operations": ["retrieveCheckout", "voidCheckout"], "body": "/url"}],
                }
            ],
            "#/x-implementation-defined/3/answers/0/operations",
            "unknown operation 'voidCheckout'",
        ),
    ],
    ids=["also-decided", "where-default", "where-const", "where-dangling", "id-twice", "op"],
)
def test_implementation_defined_is_checked_beyond_its_schema(
    tmp_path: Path, patch: list[dict[str, Any]], pointer: str, words: str
) -> None:
    """NP018: ids unique, `where` resolves and decides nothing, answer operations exist, and no
    free point is also named by an x-decides marker."""
    broken = tmp_path / "openapi.yaml"
    document = _apply(yaml.safe_load(default_spec_path().read_text()), patch)
    broken.write_text(yaml.safe_dump(document, sort_keys=False))
    found = [f for f in lint_spec(broken).findings if f.rule == "NP018"]
    assert [f.pointer for f in found] == [pointer], found
    assert words in found[0].message


def test_the_spec_decides_the_points_it_marks() -> None:
    """x-decides markers are read from anywhere in the document, with where they stand."""
    from neuropay_contract.spec import load_spec

    decided = load_spec(default_spec_path()).decided_points
    assert decided["emails.syntax"] == (
        "#/components/schemas/CreateCustomerRequest/properties/email",
        "#/components/schemas/Customer/properties/email",
    )
    assert "scope.objects" in decided
    free = {p.id for p in load_spec(default_spec_path()).implementation_defined}
    assert free and not free & set(decided)
