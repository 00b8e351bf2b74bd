"""The top-level generators/ folder: option defaults from generators/config.toml and template
overrides searched before the packaged templates, for any project directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def neuropay(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "neuropay_contract", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ},
    )


def test_config_gives_defaults_and_templates_override(tmp_path: Path) -> None:
    generators = tmp_path / "generators"
    (generators / "mine" / "docs").mkdir(parents=True)
    (generators / "config.toml").write_text(
        '[templates]\nsearch = ["mine"]\n\n[docs]\nout = "site"\nformat = ["md"]\n'
    )
    (generators / "mine" / "docs" / "page.md.j2").write_text("# {{ title }}, our way\n")
    proc = neuropay(tmp_path, "docs")
    assert proc.returncode == 0, proc.stderr
    pages = sorted(p.name for p in (tmp_path / "site").iterdir())
    assert not [p for p in pages if p.endswith(".html")]  # format from the config
    text = (tmp_path / "site" / "api.md").read_text()
    assert text.endswith(", our way\n")  # the override, not the packaged page
    # The command line wins over the configuration.
    typed = neuropay(tmp_path, "docs", "--format", "html", "--out", "other")
    assert typed.returncode == 0, typed.stderr
    assert ".html" in {p.suffix for p in (tmp_path / "other").iterdir()}
    assert ".md" not in {p.suffix for p in (tmp_path / "other").iterdir()}


def test_a_bad_config_is_one_line_and_exit_2(tmp_path: Path) -> None:
    generators = tmp_path / "generators"
    generators.mkdir()
    for text, message in (
        ("[docs]\noutt = 'x'\n", "[docs] 'outt' is not an option of `neuropay docs`"),
        ("[pdf]\n", "unknown section [pdf]"),
        ("[docs\n", "not readable TOML"),
        ("[templates]\nsearch = 'x'\n", "search must be a list"),
    ):
        (generators / "config.toml").write_text(text)
        proc = neuropay(tmp_path, "docs")
        assert proc.returncode == 2, (text, proc.stderr)
        assert proc.stderr.count("\n") == 1 and message in proc.stderr, proc.stderr


def test_the_projects_own_generators_folder_changes_nothing(tmp_path: Path) -> None:
    """The committed generators/ documents the mechanism; it overrides no template."""
    overrides = [p for p in (ROOT / "generators" / "templates").rglob("*") if p.suffix == ".j2"]
    assert not overrides
    assert (ROOT / "generators" / "config.toml").is_file()
