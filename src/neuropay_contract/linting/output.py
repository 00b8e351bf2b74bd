"""A lint report in each format ``neuropay spec lint --format`` offers: text for people, JSON for
tools, SARIF for code scanning, JUnit for test reports, GitHub Actions annotations."""

from __future__ import annotations

import json

from .. import __version__, ci_formats
from .rules import LEVELS, SEVERITIES, LintReport, summaries

FORMATS = ("text", "json", "sarif", "junit", "github")
_SARIF_LEVEL = {"info": "note", "warning": "warning", "error": "error"}


def _annotations(report: LintReport, fail_on: str) -> list[ci_formats.Annotation]:
    floor = LEVELS.index(fail_on)
    return [
        ci_formats.Annotation(
            f.rule,
            _SARIF_LEVEL[f.severity],
            f.message,
            str(report.path),
            f.line,
            f.pointer,
            LEVELS.index(f.severity) >= floor,
        )
        for f in report.findings
    ]


def _rules() -> list[ci_formats.RuleInfo]:
    return [
        ci_formats.RuleInfo(rule_id, summary, _SARIF_LEVEL[SEVERITIES[rule_id]])
        for rule_id, summary in summaries().items()
    ]


def render_lint(report: LintReport, fmt: str, fail_on: str, seconds: float = 0.0) -> str:
    """The report in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "json":
        return json.dumps(
            {"path": str(report.path), "findings": [f.__dict__ for f in report.findings]},
            indent=2,
        )
    if fmt == "sarif":
        log = ci_formats.sarif(
            "neuropay spec lint", __version__, _rules(), _annotations(report, fail_on)
        )
        return json.dumps(log, indent=2)
    if fmt == "junit":
        suite = f"neuropay spec lint {report.path}"
        return ci_formats.junit(suite, _rules(), _annotations(report, fail_on), seconds)
    if fmt == "github":
        return ci_formats.github(_annotations(report, fail_on))
    lines = [
        f"{report.path}:{f.line or 1}: {f.severity} {f.rule} {f.pointer}: {f.message}"
        for f in report.findings
    ]
    if report.clean:
        lines.append(f"{report.path}: clean ({len(summaries())} rules)")
    else:
        counts = ", ".join(
            f"{n} {level}{'s' if n != 1 and level != 'info' else ''}"
            for level in reversed(LEVELS)
            for n in [report.count(level)]
        )
        lines.append(f"{report.path}: {len(report.findings)} finding(s): {counts}")
    return "\n".join(lines)
