"""Untrusted documents (specs, Postman collections, results files): libyaml, one parse with source
lines, and depth or alias bombs refused by every reader with exit 2 and one line."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from neuropay_contract import documents
from neuropay_contract.documents import MAX_DEPTH, DocumentError, parse_document
from neuropay_contract.spec import load_spec

PETSTORE = Path(__file__).parent / "fixtures" / "realspecs" / "oai-v3.0-petstore.yaml"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "neuropay_contract", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"a": value}
    return value


def _spec_with_example(example: Any) -> dict[str, Any]:
    document = yaml.safe_load(PETSTORE.read_text())
    media = document["paths"]["/pets"]["get"]["responses"]["200"]["content"]["application/json"]
    media["example"] = example
    return document


def test_libyaml_is_the_loader() -> None:
    assert yaml.__with_libyaml__ and documents._LOADER is yaml.CSafeLoader


def test_positions_come_from_the_same_parse() -> None:
    spec = load_spec(PETSTORE, positions=True)
    lines = PETSTORE.read_text().splitlines()
    assert lines[spec.line_of("#/paths/~1pets/get") - 1].strip() == "get:"  # type: ignore[operator]
    assert (
        "operationId: showPetById"
        in lines[spec.line_of("#/paths/~1pets~1{petId}/get/operationId") - 1]
    )  # type: ignore[operator]


@pytest.mark.parametrize("form", ["json", "yaml-flow", "yaml-block", "yaml-dashes"])
def test_parse_refuses_depth_bombs(form: str) -> None:
    depth = MAX_DEPTH + 5
    text = {
        "json": "[" * 50_000 + "]" * 50_000,
        "yaml-flow": "a: " + "[" * depth + "]" * depth,
        "yaml-block": "".join(" " * i + "k:\n" for i in range(depth)) + " " * depth + "v\n",
        "yaml-dashes": "- " * depth + "x\n",
    }[form]
    with pytest.raises(DocumentError, match=f"nested deeper than {MAX_DEPTH} levels"):
        parse_document(text, "doc")


def test_parse_refuses_alias_bombs() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    with pytest.raises(DocumentError, match="YAML aliases"):
        parse_document("\n".join(lines), "doc")


def test_a_document_at_the_limit_is_processed(tmp_path: Path) -> None:
    """Every tool still works just below the limit: no RecursionError anywhere downstream."""
    spec = tmp_path / "deep.json"
    spec.write_text(json.dumps(_spec_with_example(_nested(MAX_DEPTH - 10))))
    assert _cli("spec", "lint", str(spec)).returncode in (0, 1)
    out = tmp_path / "out.json"
    converted = _cli("postman", "convert", str(spec), "-o", str(out))
    assert converted.returncode == 0, converted.stderr
    assert _cli("postman", "diff", str(out), "--spec", str(spec)).returncode in (0, 1)
    docs = _cli("docs", "--spec", str(spec), "--out", str(tmp_path / "docs"))
    assert docs.returncode == 0, docs.stderr


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_every_reader_refuses_a_depth_bomb(tmp_path: Path, suffix: str) -> None:
    # JSON: 5,000 levels (beyond Python's recursion limit); YAML: libyaml itself stops at 1,000
    depth = 5_000 if suffix == ".json" else MAX_DEPTH + 1
    bomb = '{"a": ' * depth + '"leaf"' + "}" * depth
    spec = tmp_path / f"spec{suffix}"
    text = json.dumps(_spec_with_example("BOMB")).replace('"BOMB"', bomb)
    spec.write_text(text if suffix == ".json" else "# YAML\n" + text.replace("{", "{ "))
    collection = tmp_path / "collection.json"
    collection.write_text('{"info": {"name": "x"}, "item": [' + bomb + "]}")
    results = tmp_path / "results.json"
    results.write_text("[" * 100_000 + "]" * 100_000)
    runs = [
        _cli("spec", "lint", str(spec)),
        _cli("postman", "convert", str(spec), "-o", str(tmp_path / "o.json")),
        _cli("docs", "--spec", str(spec), "--out", str(tmp_path / "docs")),
        _cli("postman", "diff", str(collection), "--spec", str(PETSTORE)),
        _cli("report", str(results)),
    ]
    for proc in runs:
        assert proc.returncode == 2, proc.args
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("neuropay: error:")
        assert "nested deeper than" in proc.stderr and "Recursion" not in proc.stderr


def test_a_deep_raw_body_in_a_collection_is_drift_not_a_crash(tmp_path: Path) -> None:
    from neuropay_contract.postman import diff_collection

    spec = load_spec()
    raw = "[" * 5_000 + "]" * 5_000
    request = {
        "method": "POST",
        "url": "{{baseUrl}}/checkout/create",
        "body": {"mode": "raw", "raw": raw},
    }
    drifts = diff_collection(
        spec, {"auth": {"type": "bearer"}, "item": [{"name": "c", "request": request}]}
    )
    assert any("nested deeper than" in d.message for d in drifts)


def test_convert_and_docs_never_follow_external_refs(tmp_path: Path) -> None:
    """Like the linter, the converter and the docs read nothing but the spec: an external
    $ref to a FIFO would block them forever if they opened it."""
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    document = yaml.safe_load(PETSTORE.read_text())
    document["components"]["schemas"]["Pet"] = {"$ref": f"file://{fifo}"}
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(document))
    converted = _cli("postman", "convert", str(spec), "-o", str(tmp_path / "o.json"))
    assert converted.returncode == 2 and converted.stderr.count("\n") == 1, converted.stderr
    assert f"file://{fifo}" in converted.stderr
    # The docs show the schema as an unresolved reference; finishing at all proves no read.
    docs = _cli("docs", "--spec", str(spec), "--out", str(tmp_path / "docs"))
    assert docs.returncode == 0, docs.stderr


def test_endless_inputs_stop_at_the_size_cap(tmp_path: Path) -> None:
    """A device or a pipe that never ends is refused after ``limit`` bytes, not read to OOM."""
    from neuropay_contract.documents import read_text

    with pytest.raises(DocumentError, match="larger than 1 MB"):
        read_text(Path("/dev/zero"), "spec file", limit=1 << 20)
    fine = tmp_path / "crlf.yaml"
    fine.write_bytes(b"a: 1\r\nb: 2\r\n")
    assert read_text(fine, "spec file") == "a: 1\nb: 2\n"  # newlines as Path.read_text gives


def test_alias_bombs_of_scalars_are_counted() -> None:
    """Scalars behind aliases count: ten aliases of ten lists of ten scalars, nine levels deep,
    is refused in a bounded walk."""
    lines = ["a0: &a0 [" + ", ".join(["lol"] * 10) + "]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
    with pytest.raises(DocumentError, match="YAML aliases"):
        parse_document("\n".join(lines), "doc")


def test_a_tree_built_with_the_collector_paused_is_not_walked_at_once_afterwards() -> None:
    """Leaving gc_paused moves the new objects to the oldest generation unscanned: re-enabling
    the collector as is would walk all of them at the next allocation (a third of loading
    Stripe's YAML), and nothing stays frozen."""
    assert gc.isenabled() and gc.get_freeze_count() == 0
    with documents.gc_paused():
        assert not gc.isenabled()
        tree = [{"type": "string", "n": [i]} for i in range(50_000)]
    assert gc.isenabled() and gc.get_freeze_count() == 0
    # straight to the oldest generation; without the move a young collection walks the whole
    # tree first and leaves it in the middle one
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert id(tree[0]) in oldest and id(tree[-1]["n"]) in oldest
    assert len(tree) == 50_000
