"""Render a diff report as text (terminals), Markdown (PR comments) or JSON (other tools)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from .. import __version__, ci_formats
from .model import Change, DiffReport, Rule, Severity

REPORT_SCHEMA_PATH = Path(__file__).with_name("report.schema.json")
SCHEMA_ID = "https://neuropay-contract.invalid/schemas/spec-diff-report/v1"
_TITLES = {Severity.BREAKING: "Breaking", Severity.WARNING: "Warnings", Severity.SAFE: "Safe"}
FORMATS = ("text", "md", "json", "sarif", "junit", "github")
CI_FORMATS = ("sarif", "junit", "github")  # those that point at lines of the new file
_LEVEL = {Severity.BREAKING: "error", Severity.WARNING: "warning", Severity.SAFE: "note"}


def render(
    report: DiffReport,
    fmt: str,
    rules: list[Rule] | None = None,
    fail_rank: int | None = None,
    seconds: float = 0.0,
) -> str:
    """The report in ``fmt`` (one of :data:`FORMATS`). The CI formats list ``rules`` (the rule
    table) and fail the changes whose severity ranks at least ``fail_rank`` (None: none fails)."""
    if fmt in CI_FORMATS:
        return _ci(report, fmt, rules or [], fail_rank, seconds)
    if fmt == "json":
        return json.dumps(to_json(report), indent=2)
    if fmt == "md":
        return _markdown(report)
    return _text(report)


def to_json(report: DiffReport) -> dict[str, Any]:
    """The JSON form, valid against ``report.schema.json``."""
    return {
        "$schema": SCHEMA_ID,
        "old": _side(report.old),
        "new": _side(report.new),
        "summary": {**{s.value: report.count(s) for s in Severity}, "accepted": report.accepted},
        "changes": [
            {
                "rule": c.rule.id,
                "severity": c.severity.value,
                "side": c.side.value,
                "reason": c.reason,
                "old_pointer": c.old_pointer,
                "new_pointer": c.new_pointer,
                "operations": [
                    {"method": op.method, "path": op.path, "operationId": op.operation_id}
                    for op in sorted(c.operations)
                ],
            }
            for c in report.changes
        ],
    }


def _side(doc: Any) -> dict[str, str]:
    return {
        "source": doc.source,
        "title": doc.title,
        "version": doc.version,
        "openapi": doc.openapi,
    }


def summary_line(report: DiffReport) -> str:
    counts = ", ".join(f"{report.count(s)} {s.value}" for s in Severity)
    if report.accepted:
        counts += f" ({report.accepted} accepted)"
    return f"{report.old.source} ({report.old.version}) -> {report.new.source} ({report.new.version}): {counts}"


def _where(change: Change) -> str:
    if not change.operations:
        return "(document)"
    ops = sorted(change.operations)
    shown = ", ".join(op.label for op in ops[:3])
    return shown + (f" and {len(ops) - 3} more" if len(ops) > 3 else "")


def _text(report: DiffReport) -> str:
    lines: list[str] = []
    for c in report.changes:
        lines.append(f"{c.severity.value.upper():8} {c.side.value:6} {c.rule.id}  {_where(c)}")
        lines.append(f"    {c.reason}")
        lines.append(f"    old: {c.old_pointer or '-'}  new: {c.new_pointer or '-'}")
    lines.append(summary_line(report))
    return "\n".join(lines)


def _markdown(report: DiffReport) -> str:
    lines = [
        f"## Spec diff: {report.old.title} {report.old.version} → {report.new.version}",
        "",
        " · ".join(f"**{report.count(s)}** {s.value}" for s in Severity)
        + (f" ({report.accepted} accepted)" if report.accepted else ""),
    ]
    for severity in Severity:
        group = [c for c in report.changes if c.severity is severity]
        if not group:
            continue
        title = f"{_TITLES[severity]} ({len(group)})"
        # Breaking changes are what a reviewer must read; the rest folds away in a PR comment.
        folded = severity is not Severity.BREAKING
        lines += ["", f"<details><summary><b>{title}</b></summary>" if folded else f"### {title}"]
        by_operation: dict[str, list[Change]] = defaultdict(list)
        for c in group:
            by_operation[_where(c)].append(c)
        for where in sorted(by_operation, key=lambda w: (w == "(document)", w)):
            lines += ["", f"#### `{where}`" if where != "(document)" else "#### Whole document", ""]
            for c in by_operation[where]:
                pointer = c.new_pointer or c.old_pointer or ""
                lines.append(f"- **{c.rule.id}** ({c.side.value}): {_md(c.reason)} — `{pointer}`")
        if folded:
            lines += ["", "</details>"]
    if not report.changes:
        lines += ["", "No changes that affect clients or servers."]
    return "\n".join(lines)


def _ci(
    report: DiffReport, fmt: str, rules: list[Rule], fail_rank: int | None, seconds: float
) -> str:
    """SARIF, JUnit or GitHub annotations: each change on the new file's line of its node (the
    old file's for a removal), which is where a reviewer reads it in a pull request."""
    found = []
    for c in report.changes:
        side = report.new if c.new_pointer else report.old
        pointer = c.new_pointer or c.old_pointer
        where = f" ({_where(c)})" if c.operations else ""
        found.append(
            ci_formats.Annotation(
                c.rule.id,
                _LEVEL[c.severity],
                f"{c.severity.value} for {c.side.value}{where}: {c.reason}",
                side.file,
                side.line_of(pointer),
                pointer,
                fail_rank is not None and c.severity.rank >= fail_rank,
            )
        )
    if fmt == "github":
        return ci_formats.github(found)
    infos = [ci_formats.RuleInfo(r.id, r.summary, _LEVEL[r.severity]) for r in rules]
    if fmt == "junit":
        suite = f"neuropay spec diff {report.old.source} {report.new.source}"
        return ci_formats.junit(suite, infos, found, seconds)
    return json.dumps(ci_formats.sarif("neuropay spec diff", __version__, infos, found), indent=2)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def render_rules(rules: list[Rule], fmt: str) -> str:
    """The rule table in ``fmt`` (text, md or json)."""
    if fmt == "json":
        return json.dumps(
            [
                {
                    "id": r.id,
                    "area": r.area,
                    "severity": r.severity.value,
                    "side": r.side.value,
                    "summary": r.summary,
                }
                for r in rules
            ],
            indent=2,
        )
    if fmt == "md":
        lines = ["| Rule | Area | Severity | Side | Change |", "| --- | --- | --- | --- | --- |"]
        lines += [
            f"| `{r.id}` | {r.area} | {r.severity.value} | {r.side.value} | {_md(r.summary)} |"
            for r in rules
        ]
        return "\n".join(lines)
    width = max(len(r.id) for r in rules)
    return "\n".join(
        f"{r.id:{width}}  {r.severity.value:8} {r.side.value:6} {r.summary}" for r in rules
    )
