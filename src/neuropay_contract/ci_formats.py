"""The formats CI systems read findings in, for every command that has findings about files
(``spec lint``, ``spec diff``): SARIF 2.1.0 (code scanning), JUnit XML (test reports) and GitHub
Actions workflow commands (annotations on the pull request's diff).

Each command maps its own findings to :class:`Annotation` and its rules to :class:`RuleInfo`;
this module knows nothing of either command."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = ("note", "warning", "error")  # SARIF's levels, ascending; GitHub says "notice"


@dataclass(frozen=True)
class RuleInfo:
    id: str
    summary: str
    level: str  # its default level: note, warning or error


@dataclass(frozen=True)
class Annotation:
    """One finding about one file: a rule, a level, a message, where (line and JSON pointer)."""

    rule: str
    level: str
    message: str
    file: str
    line: int | None = None
    pointer: str | None = None
    fails: bool = True  # counts as a failure (JUnit) under the command's --fail-on


def display_path(path: str) -> str:
    """A file relative to the working directory when inside it (as CI checkouts name files)."""
    candidate = Path(path)
    try:
        return candidate.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return candidate.as_posix()


def artifact_uri(path: str) -> str:
    """A file as SARIF wants it: a relative URI inside the working directory, else a file URI."""
    shown = display_path(path)
    return Path(shown).as_uri() if Path(shown).is_absolute() else shown


def sarif(tool: str, version: str, rules: Sequence[RuleInfo], found: Sequence[Annotation]) -> Any:
    """A SARIF 2.1.0 log with one run: every rule the tool has, every finding as a result."""
    index = {r.id: i for i, r in enumerate(rules)}
    results = []
    for a in found:
        location: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(a.file)}}
        if a.line is not None:
            location["region"] = {"startLine": max(a.line, 1)}
        result: dict[str, Any] = {
            "ruleId": a.rule,
            "level": a.level,
            "message": {"text": a.message},
            "locations": [
                {
                    "physicalLocation": location,
                    **(
                        {"logicalLocations": [{"fullyQualifiedName": a.pointer, "kind": "member"}]}
                        if a.pointer
                        else {}
                    ),
                }
            ],
        }
        if a.rule in index:
            result["ruleIndex"] = index[a.rule]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": tool,
                        "version": version,
                        "rules": [
                            {
                                "id": r.id,
                                "shortDescription": {"text": r.summary},
                                "defaultConfiguration": {"level": r.level},
                            }
                            for r in rules
                        ],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }


def junit(
    suite: str, rules: Sequence[RuleInfo], found: Sequence[Annotation], seconds: float
) -> str:
    """JUnit XML: one test case per rule (so a clean run still lists what was checked), failed
    when a finding of that rule fails the run; the findings below the bar go to system-out."""
    root = ET.Element("testsuites", name=suite)
    suite_el = ET.SubElement(
        root,
        "testsuite",
        name=suite,
        tests=str(len(rules)),
        errors="0",
        skipped="0",
        time=f"{seconds:.3f}",
        timestamp=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
    )
    failures = 0
    for rule in rules:
        mine = [a for a in found if a.rule == rule.id]
        case = ET.SubElement(
            suite_el, "testcase", name=f"{rule.id}: {rule.summary}", classname=suite, time="0"
        )
        failing = [a for a in mine if a.fails]
        if failing:
            failures += 1
            failure = ET.SubElement(
                case,
                "failure",
                type=rule.id,
                message=f"{len(failing)} finding(s): {failing[0].message}"[:500],
            )
            failure.text = "\n".join(_line(a) for a in failing)
        rest = [a for a in mine if not a.fails]
        if rest:
            ET.SubElement(case, "system-out").text = "\n".join(_line(a) for a in rest)
    suite_el.set("failures", str(failures))
    root.set("tests", str(len(rules)))
    root.set("failures", str(failures))
    root.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def _line(a: Annotation) -> str:
    where = f"{a.file}:{a.line}" if a.line is not None else a.file
    return f"{where}: {a.level} {a.pointer or ''} {a.message}".replace("  ", " ")


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github(found: Sequence[Annotation]) -> str:
    """GitHub Actions workflow commands: each finding an annotation on its file and line."""
    lines = []
    for a in found:
        command = {"note": "notice"}.get(a.level, a.level)
        props = [f"file={_escape_property(display_path(a.file))}"]
        if a.line is not None:
            props.append(f"line={max(a.line, 1)}")
        props.append(f"title={_escape_property(a.rule)}")
        pointer = f" ({a.pointer})" if a.pointer else ""
        lines.append(f"::{command} {','.join(props)}::{_escape_data(a.message + pointer)}")
    return "\n".join(lines)
