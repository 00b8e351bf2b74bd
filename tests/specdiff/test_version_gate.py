"""This repository's own release rule: a breaking change to spec/openapi.yaml needs a new major
``info.version``. Checked on the working tree against HEAD, on the branch against its merge
base with main, and on every spec commit since the rule was introduced against its parent."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from neuropay_contract.errors import SpecError
from neuropay_contract.specdiff import Document, diff_documents, load_document
from neuropay_contract.specdiff.gate import gate_failures, major

from .conftest import spec_copy
from .test_mutations import schema

ROOT = Path(__file__).resolve().parents[2]
SPEC = "spec/openapi.yaml"
# Spec commits before this were made without the rule; later ones must follow it.
GATE_SINCE = "2026-12-01T22:40:00Z"


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=60
    )
    return done.stdout.strip() if done.returncode == 0 else ""


def _pairs() -> list[tuple[str, str]]:
    if shutil.which("git") is None or not _git("rev-parse", "--git-dir"):
        return []
    pairs = [("git:HEAD", str(ROOT / SPEC))]
    base = _git("merge-base", "HEAD", "main") or _git("merge-base", "HEAD", "origin/main")
    if base and base != _git("rev-parse", "HEAD"):
        pairs.append((f"git:{base}", str(ROOT / SPEC)))
    log = _git(
        "log", "--first-parent", "-n", "50", f"--since={GATE_SINCE}", "--format=%H", "--", SPEC
    )
    pairs += [(f"git:{c}~1", f"git:{c}") for c in log.split()]
    return pairs


def test_breaking_spec_changes_in_this_repository_bump_the_major_version() -> None:
    pairs = _pairs()
    if not pairs:
        pytest.skip("not a git checkout")
    problems: list[str] = []
    for old_source, new_source in pairs:
        try:
            old = load_document(old_source, ROOT)
        except SpecError:
            continue  # a shallow clone lacks the parent; nothing to compare
        report = diff_documents(old, load_document(new_source, ROOT))
        problems += [f"{old_source} -> {new_source}: {line}" for line in gate_failures(report)]
    assert problems == [], "breaking spec changes need a new major info.version:\n" + "\n".join(
        problems
    )


def _pair(bump: str | None) -> list[str]:
    old = spec_copy()
    old["info"]["version"] = "1.0.0"
    new = spec_copy()
    new["info"]["version"] = "1.0.0"
    schema(new, "Checkout")["required"].remove("url")
    if bump:
        new["info"]["version"] = bump
    return gate_failures(diff_documents(Document("old", old), Document("new", new)))


def test_the_gate_refuses_a_breaking_change_without_a_major_bump() -> None:
    assert _pair(None) and "response-property-became-optional" in _pair(None)[0]
    assert _pair("1.1.0") != []
    assert _pair("2.0.0") == []


def test_major_of_common_version_shapes() -> None:
    assert [major(v) for v in ("1.0.0", "v2", "10.3", "2024-01-01", "beta")] == [
        "1",
        "2",
        "10",
        "2024",
        "beta",
    ]
