"""What a spec diff finds: rules, their severity and side, and the changes they classify."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    """How bad a change is for whoever it touches."""

    BREAKING = "breaking"
    WARNING = "warning"
    SAFE = "safe"

    @property
    def rank(self) -> int:
        return {"breaking": 2, "warning": 1, "safe": 0}[self.value]


class Side(StrEnum):
    """Who a change affects: clients calling the API, servers implementing it, or both."""

    CLIENT = "client"
    SERVER = "server"
    BOTH = "both"

    def concerns(self, wanted: Side) -> bool:
        """True when a change on this side matters to someone asking about ``wanted``."""
        return wanted is Side.BOTH or self is Side.BOTH or self is wanted


@dataclass(frozen=True)
class Rule:
    """One row of the rule table: a kind of change and how it is classified."""

    id: str
    area: str
    severity: Severity
    side: Side
    summary: str


@dataclass(frozen=True, order=True)
class OperationRef:
    """An operation a change reaches, named by method, path and operationId."""

    method: str
    path: str
    operation_id: str

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(eq=False)
class Change:
    """One classified difference between the old and the new document.

    ``old_pointer``/``new_pointer`` are JSON pointers (``#/...``) into each document, None where
    the thing does not exist on that side. A change inside a shared component is one object
    whose ``operations`` lists every operation that reaches it.
    """

    rule: Rule
    reason: str
    old_pointer: str | None
    new_pointer: str | None
    operations: set[OperationRef] = field(default_factory=set)

    @property
    def severity(self) -> Severity:
        return self.rule.severity

    @property
    def side(self) -> Side:
        return self.rule.side

    def sort_key(self) -> tuple[int, str, str, str]:
        first = min(self.operations).label if self.operations else ""
        return (
            -self.severity.rank,
            first,
            self.rule.id,
            self.new_pointer or self.old_pointer or "",
        )


@dataclass(frozen=True)
class Document:
    """One side of the comparison: where it came from and its parsed content."""

    source: str
    content: dict[str, object]
    lines: dict[str, int] | None = field(default=None, compare=False, repr=False)

    @property
    def file(self) -> str:
        """The file the document is (``git:REF:PATH`` names PATH)."""
        if self.source.startswith("git:"):
            _ref, _, path = self.source[len("git:") :].partition(":")
            return path or "spec/openapi.yaml"
        return self.source

    def line_of(self, pointer: str | None) -> int | None:
        """The line of ``pointer`` (or of its closest recorded parent), when positions were read."""
        if self.lines is None or pointer is None:
            return None
        key = pointer.removeprefix("#")
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key.rsplit("/", 1)[0]
        return None

    @property
    def title(self) -> str:
        info = self.content.get("info")
        return str(info.get("title", "")) if isinstance(info, dict) else ""

    @property
    def version(self) -> str:
        info = self.content.get("info")
        return str(info.get("version", "")) if isinstance(info, dict) else ""

    @property
    def openapi(self) -> str:
        return str(self.content.get("openapi", ""))


@dataclass
class DiffReport:
    """Every change between two documents, in a stable order."""

    old: Document
    new: Document
    changes: list[Change]
    accepted: int = 0  # changes left out because an accept file lists them

    def filtered(self, side: Side) -> DiffReport:
        """The report restricted to changes that concern ``side``."""
        kept = [c for c in self.changes if c.side.concerns(side)]
        return DiffReport(self.old, self.new, kept, self.accepted)

    def count(self, severity: Severity) -> int:
        return sum(1 for c in self.changes if c.severity is severity)

    def worst(self) -> Severity | None:
        return max((c.severity for c in self.changes), key=lambda s: s.rank, default=None)
