"""Render RunResults as HTML and Markdown (Jinja) and JUnit XML (ElementTree: escaped by design)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

from ..coverage import categories
from ..results import NOT_IMPLEMENTED, CheckResult, RunResults
from ..templating import make_environment
from ..untrusted import visible


def _pretty(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def _fence(text: str) -> str:
    """A Markdown code fence longer than any run of backticks in ``text``."""
    longest = 0
    run = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


def _md(text: Any) -> str:
    """Text safe inside Markdown: no raw HTML, no table breaks, one line."""
    value = str(text if text is not None else "")
    for raw, safe in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|"), ("\n", " ")):
        value = value.replace(raw, safe)
    return value


# A pull-request comment holds 65,536 characters: the Markdown lists this many failures (the
# table by rule counts them all; report.html has every one in full).
MAX_MARKDOWN_FAILURES = 30


def _context(results: RunResults) -> dict[str, Any]:
    by_category: dict[str, list[CheckResult]] = defaultdict(list)
    for check in results.checks:
        by_category[check.category].append(check)
    statuses: list[str] = []
    operations: list[str] = []
    matrix: dict[tuple[str, str], Any] = {}
    for cell in results.lifecycle:
        if cell.status not in statuses:
            statuses.append(cell.status)
        if cell.operation not in operations:
            operations.append(cell.operation)
        matrix[(cell.status, cell.operation)] = cell
    rules: dict[str, dict[str, Any]] = {}
    for check in results.failures:
        assert check.failure is not None
        entry = rules.setdefault(
            check.failure.rule, {"rule": check.failure.rule, "count": 0, "operations": []}
        )
        entry.setdefault("first", check)
        entry["count"] += 1
        operation = check.failure.operation or check.operation
        if operation and operation not in entry["operations"]:
            entry["operations"].append(operation)
    return {
        "r": results,
        "blocked_by_missing": sum(
            1 for c in results.checks if (c.root_cause or "").startswith(NOT_IMPLEMENTED)
        ),
        "causes_by_id": {cause.id: cause for cause in results.root_causes},
        "failure_rules": sorted(rules.values(), key=lambda e: (-e["count"], e["rule"])),
        "max_md_failures": MAX_MARKDOWN_FAILURES,
        "counts": results.counts(),
        "failures": results.failures,
        "not_covered": results.not_covered,
        "categories": dict(sorted(by_category.items())),
        "statuses": statuses,
        "matrix_operations": operations,
        "matrix": matrix,
        "coverage_lines": categories(results.coverage) if results.coverage else [],
        "coverage_cells": {
            (row["status"], row["operation"]): row
            for row in (results.coverage or {}).get("lifecycle", [])
        },
        "pretty": _pretty,
        "fence": _fence,
        "md": _md,
    }


def _visible_output(value: Any) -> Any:
    return value if isinstance(value, Markup) or not isinstance(value, str) else visible(value)


def _environment() -> Environment:
    """The templates' environment; every ``{{ value }}`` passes :func:`visible`, so control
    characters and bidi overrides a target answered are shown escaped, never raw."""
    env = make_environment()
    env.finalize = _visible_output
    return env


def render_html(results: RunResults) -> str:
    return _environment().get_template("reports/report.html.j2").render(**_context(results))


def render_markdown(results: RunResults) -> str:
    return _environment().get_template("reports/report.md.j2").render(**_context(results))


# Characters XML 1.0 cannot hold even escaped (a fuzzed body with NUL would make the file
# unparseable for every CI that reads it); they are shown as \xNN instead.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", visible(text))


def _blocked_by(results: RunResults, check: CheckResult) -> str:
    """The root cause that kept a blocked check from running, as one line."""
    cause_id = check.root_cause or ""
    if cause_id.startswith(NOT_IMPLEMENTED):
        return f"{cause_id.removeprefix(NOT_IMPLEMENTED)} is not implemented by the target"
    cause = next((c for c in results.root_causes if c.id == cause_id), None)
    return f"root cause {cause.id}: {cause.title}" if cause else (check.reason or "")


def render_junit(results: RunResults) -> str:
    """One testsuite per category, one testcase per check."""
    root = ET.Element(
        "testsuites",
        name="neuropay contract",
        tests=str(len(results.checks)),
        failures=str(sum(c.outcome == "failed" for c in results.checks)),
        errors=str(sum(c.outcome == "error" for c in results.checks)),
        skipped=str(sum(c.outcome in ("not_covered", "blocked") for c in results.checks)),
        time=f"{results.duration_s:.3f}",
    )
    groups: dict[str, list[CheckResult]] = defaultdict(list)
    for check in results.checks:
        groups[check.category].append(check)
    for category, checks in sorted(groups.items()):
        suite = ET.SubElement(
            root,
            "testsuite",
            name=category,
            tests=str(len(checks)),
            failures=str(sum(c.outcome == "failed" for c in checks)),
            errors=str(sum(c.outcome == "error" for c in checks)),
            skipped=str(sum(c.outcome in ("not_covered", "blocked") for c in checks)),
            timestamp=results.started,
        )
        props = ET.SubElement(suite, "properties")
        for name, value in (
            ("target", results.target_url),
            ("spec", f"{results.spec_title} {results.spec_version}"),
            ("seed", str(results.seed)),
            ("profile", results.profile),
        ):
            ET.SubElement(props, "property", name=name, value=_xml(value))
        for check in checks:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"neuropay.{category}",
                name=_xml(check.name),
                time=f"{check.duration_s:.3f}",
            )
            if check.outcome == "not_covered":
                ET.SubElement(case, "skipped", message=_xml(f"not covered: {check.reason or ''}"))
            elif check.outcome == "blocked":
                ET.SubElement(
                    case, "skipped", message=_xml(f"blocked: {_blocked_by(results, check)}")
                )
            elif check.failure is not None:
                f = check.failure
                tag = "failure" if check.outcome == "failed" else "error"
                cause = f" (root cause {check.root_cause})" if check.root_cause else ""
                node = ET.SubElement(
                    case, tag, message=_xml(f"[{f.rule}] {f.title}{cause}"), type=_xml(f.rule)
                )
                node.text = _xml(
                    f"{f.message}\n\nexpected:\n{_pretty(f.expected)}\n\nreceived:\n{_pretty(f.received)}"
                    f"\n\nreproduce:\n{f.curl}"
                )
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
