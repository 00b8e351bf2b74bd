"""The release rule for specs: a breaking change needs a new major ``info.version``."""

from __future__ import annotations

import re

from .model import DiffReport, Severity

_MAJOR = re.compile(r"^\s*v?(\d+)")


def major(version: str) -> str:
    """The major part of a version (``1`` of ``1.4.0`` or ``v1``); the whole string otherwise."""
    found = _MAJOR.match(version)
    return found.group(1) if found else version.strip()


def major_bumped(report: DiffReport) -> bool:
    """True when the new document's major version differs from the old one's."""
    return major(report.old.version) != major(report.new.version)


def gate_failures(report: DiffReport) -> list[str]:
    """One line per breaking change that ships without a major version bump (empty: passes)."""
    if major_bumped(report):
        return []
    return [
        f"{c.rule.id}: {c.reason} ({c.new_pointer or c.old_pointer})"
        for c in report.changes
        if c.severity is Severity.BREAKING
    ]
