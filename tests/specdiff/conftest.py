"""Shared helpers for the spec diff tests: the project's spec, parsed once, copied per test."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from neuropay_contract.specdiff import DiffReport, Document, diff_documents

SPEC = Path(__file__).resolve().parents[2] / "spec" / "openapi.yaml"
_BASE: dict[str, Any] = yaml.safe_load(SPEC.read_text(encoding="utf-8"))

Mutation = Callable[[dict[str, Any]], None]


def spec_copy() -> dict[str, Any]:
    """A fresh deep copy of spec/openapi.yaml to edit."""
    return copy.deepcopy(_BASE)


def diff_pair(new_edit: Mutation | None = None, old_edit: Mutation | None = None) -> DiffReport:
    """Diff a copy of the spec (edited by ``old_edit``) against a copy edited by both edits."""
    old = spec_copy()
    if old_edit:
        old_edit(old)
    new = copy.deepcopy(old)
    if new_edit:
        new_edit(new)
    return diff_documents(Document("old.yaml", old), Document("new.yaml", new))


@pytest.fixture
def spec_file(tmp_path: Path) -> Callable[[str, Mutation | None], Path]:
    """Write an edited copy of the spec to a file and return its path."""

    def write(name: str, edit: Mutation | None = None) -> Path:
        doc = spec_copy()
        if edit:
            edit(doc)
        path = tmp_path / name
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        return path

    return write
