"""The wheel carries the spec, the contract suite and the templates, and `neuropay test` works
from it with no checkout around."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return next(out.glob("neuropay_contract-*.whl"))


@pytest.mark.slow
def test_wheel_contents(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "neuropay_contract/_bundled/spec/openapi.yaml",
        "neuropay_contract/_bundled/contract_tests/conftest.py",
        "neuropay_contract/_bundled/contract_tests/test_lifecycle.py",
        "neuropay_contract/templates/server/pay.html.j2",
        "neuropay_contract/templates/reports/report.html.j2",
        "neuropay_contract/contract/plugin.py",
        "neuropay_contract/py.typed",
        "neuropay_contract/linting/extensions/x-lifecycle.json",
        "neuropay_contract/linting/extensions/x-error-codes.json",
        "neuropay_contract/specdiff/report.schema.json",
    ):
        assert required in names, required
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "neuropay = neuropay_contract.cli:main" in text and "pytest11" in text
    assert "neuropay = neuropay_contract.contract.plugin" in text
    assert not any("__pycache__" in n or n.endswith(".sqlite3") for n in names)


@pytest.mark.slow
def test_neuropay_test_runs_from_the_wheel_without_a_checkout(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import neuropay_contract, neuropay_contract._resources as r; print(neuropay_contract.__file__); print(r.default_spec_path()); print(r.contract_suite_path())",
        ],
        capture_output=True,
        text=True,
        cwd=work,
        env=env,
        timeout=60,
    )
    lines = probe.stdout.splitlines()
    assert all(line.startswith(str(site)) for line in lines), lines
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "neuropay_contract",
            "test",
            "--profile",
            "dev",
            "-k",
            "lifecycle or customers",
            "--report-dir",
            str(work / "reports"),
        ],
        capture_output=True,
        text=True,
        cwd=work,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    results = json.loads((work / "reports" / "results.json").read_text())
    assert results["spec_path"].startswith(str(site)) and results["verdict"] == "conformant"
    lint = subprocess.run(
        [sys.executable, "-m", "neuropay_contract", "spec", "lint"],
        capture_output=True,
        text=True,
        cwd=work,
        env=env,
        timeout=60,
    )
    assert lint.returncode == 0 and str(site) in lint.stdout


def test_the_public_surface_is_curated_and_typed() -> None:
    import importlib.metadata

    import neuropay_contract

    assert neuropay_contract.__version__ == importlib.metadata.version("neuropay-contract")
    assert set(neuropay_contract.__all__) == {"__version__", *neuropay_contract._EXPORTS}
    for name in neuropay_contract.__all__:
        assert getattr(neuropay_contract, name) is not None, name
    assert (Path(neuropay_contract.__file__).parent / "py.typed").is_file()
    with pytest.raises(AttributeError):
        neuropay_contract.nothing_here  # noqa: B018
