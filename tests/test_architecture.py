"""ARCHITECTURE.md's plan is checked, not only written: its layers are import-linter contracts
(``[tool.importlinter]`` in pyproject.toml) that pass on the package and fail on a planted
violation; the package never imports the tests; the figures README and CHANGELOG quote are
derived from the tree."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def lint_imports(cwd: Path, src: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with the pyproject.toml of ``cwd``, on the package found in ``src``."""
    env = {**os.environ, "PYTHONPATH": str(src), "NO_COLOR": "1"}
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_import_contracts_hold() -> None:
    proc = lint_imports(ROOT, ROOT / "src")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "Contracts: 2 kept, 0 broken." in proc.stdout


@pytest.mark.parametrize(
    ("module", "planted", "broken"),
    [
        ("spec.py", "from .server import app as _planted", "ARCHITECTURE.md layers BROKEN"),
        (
            "docs/model.py",
            "from ..traffic import proxy as _planted",
            "ARCHITECTURE.md layers BROKEN",
        ),
        (
            "contract/rules.py",
            "from tests.catalog import faults as _planted",
            "The package never imports the tests BROKEN",
        ),
    ],
    ids=["spec-imports-the-server", "docs-import-the-proxy", "package-imports-tests"],
)
def test_a_planted_violation_breaks_a_contract(
    tmp_path: Path, module: str, planted: str, broken: str
) -> None:
    package = tmp_path / "src" / "neuropay_contract"
    shutil.copytree(
        ROOT / "src" / "neuropay_contract",
        package,
        ignore=shutil.ignore_patterns("__pycache__", "templates", "*.json", "*.j2"),
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = package / module
    target.write_text(target.read_text() + f"\n{planted}\n")
    proc = lint_imports(tmp_path, tmp_path / "src")
    assert proc.returncode == 1, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert broken in proc.stdout
    importer = "neuropay_contract." + module.removesuffix(".py").replace("/", ".")
    assert re.search(rf"-\s+{re.escape(importer)} -> ", proc.stdout)  # names the planted import


def test_catalog_size_quoted_in_readme_and_changelog_is_the_catalogs() -> None:
    """README and CHANGELOG quote the number of broken servers; the number is the catalog's."""
    from tests.catalog.faults import FAULTS

    for name in ("README.md", "CHANGELOG.md"):
        text = (ROOT / name).read_text()
        quoted = {int(n) for n in re.findall(r"(\d+)\s+(?:deliberately\s+)?broken\s+servers", text)}
        assert quoted == {len(FAULTS)}, f"{name} quotes {quoted}, the catalog has {len(FAULTS)}"
