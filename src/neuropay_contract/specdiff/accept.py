"""Accepted changes: a reviewed list of known changes that no longer fail the gate.

The file has one entry per line, ``RULE`` (every change of that rule) or ``RULE POINTER`` (the
changes at that JSON pointer, or below it, in either document); ``#`` starts a comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..documents import DocumentError, read_text
from ..errors import UsageError
from .model import Change, DiffReport
from .rules import RULES

_COMMENT = re.compile(r"(^|\s)#(?!/).*$")


@dataclass(frozen=True)
class Acceptance:
    """One line of an accept file."""

    rule: str
    pointer: str | None
    line: int

    def covers(self, change: Change) -> bool:
        if change.rule.id != self.rule:
            return False
        if self.pointer is None:
            return True
        return any(
            p is not None and (p == self.pointer or p.startswith(self.pointer + "/"))
            for p in (change.old_pointer, change.new_pointer)
        )


def read_accept_file(path: Path) -> list[Acceptance]:
    """Parse an accept file; unknown rules and malformed lines are usage errors (exit 2)."""
    try:
        text = read_text(path, "accept file")
    except DocumentError as exc:
        raise UsageError(str(exc)) from None
    found: list[Acceptance] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        # A comment is '#' not followed by '/' (JSON pointers start with '#/').
        words = _COMMENT.sub("", raw).split()
        if not words:
            continue
        if words[0] not in RULES:
            raise UsageError(f"{path}:{number}: unknown rule {words[0]!r} (see --rules)")
        if len(words) > 2 or (len(words) == 2 and not words[1].startswith("#/")):
            raise UsageError(f"{path}:{number}: expected 'RULE' or 'RULE #/json/pointer'")
        found.append(Acceptance(words[0], words[1] if len(words) == 2 else None, number))
    return found


def apply_acceptances(report: DiffReport, accepted: list[Acceptance]) -> DiffReport:
    """The report without the accepted changes, which it counts in ``accepted``."""
    kept = [c for c in report.changes if not any(a.covers(c) for a in accepted)]
    return DiffReport(
        report.old, report.new, kept, report.accepted + len(report.changes) - len(kept)
    )
