"""`postman export --spec` of someone else's document: nothing of Neuro-Pay's (no production URL,
no `apiKey` if the spec has none, no lifecycle scenarios); its servers as environments, its
credential variables as empty secrets, and the converter's format-aware tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from neuropay_contract.postman import build_collection, convert
from neuropay_contract.postman.foreign import slug
from neuropay_contract.spec import load_spec

from .._fixtures import REALSPECS


@pytest.mark.parametrize("path", REALSPECS, ids=[p.name for p in REALSPECS])
def test_foreign_export(path: Path, tmp_path: Path) -> None:
    def export(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "neuropay_contract", "postman", "export", "--spec", str(path),
             "--out", str(tmp_path), *extra],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    assert export().returncode == 0
    assert export("--check").returncode == 0
    spec = load_spec(path)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert f"{slug(spec.title)}.postman_collection.json" in files
    text = "".join((tmp_path / name).read_text() for name in files)
    assert "Neuro-Pay" not in text and "paiwise" not in text and "neuropay-" not in "".join(files)
    environments = [json.loads((tmp_path / n).read_text()) for n in files if "environment" in n]
    urls = [s["url"].rstrip("/") for s in spec.servers] or ["http://localhost"]
    assert sorted(e["values"][0]["value"] for e in environments) == sorted(urls)
    collection = json.loads((tmp_path / f"{slug(spec.title)}.postman_collection.json").read_text())
    credentials = {v["key"] for v in collection["variable"] if "description" in v}
    for environment in environments:
        secrets = {v["key"] for v in environment["values"] if v["type"] == "secret"}
        assert secrets == credentials
        assert all(v["value"] == "" for v in environment["values"] if v["type"] == "secret")
    expected = convert(spec, tests=True)
    assert collection["item"] == expected["item"]
    assert build_collection(spec)["item"] == expected["item"]
