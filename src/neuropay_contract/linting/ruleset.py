"""The lint ruleset of a project: which rules run and at which severity, for all files or some.

```toml
[tool.neuropay.lint.rules]          # in neuropay.toml: [lint.rules]
NP001 = "off"                       # "off", "info", "warning" or "error"
NP002 = "warning"

[[tool.neuropay.lint.overrides]]    # later overrides win over earlier ones and over [rules]
files = ["specs/legacy/*.yaml", "spec/openapi.yaml#/paths/~1v1~1legacy"]
rules = { NP004 = "off" }
```

``files`` are globs (fnmatch: ``*`` also crosses folders) relative to the configuration file's
folder; one may end with ``#/json/pointer`` to apply only to findings at or under that node."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..project_config import ProjectConfig

OFF = "off"
CHOICES = (OFF, "info", "warning", "error")


@dataclass(frozen=True)
class Override:
    """Rule severities for the files (and, optionally, the nodes) its patterns match."""

    patterns: tuple[tuple[str, str], ...]  # (file glob, pointer prefix or "")
    rules: Mapping[str, str]

    def matches(self, relative: str, pointer: str) -> bool:
        return any(
            fnmatch.fnmatchcase(relative, glob)
            and (not prefix or pointer == prefix or pointer.startswith(prefix.rstrip("/") + "/"))
            for glob, prefix in self.patterns
        )


@dataclass(frozen=True)
class Ruleset:
    """The project's choices; the empty ruleset keeps every rule at its registered severity."""

    rules: Mapping[str, str] = field(default_factory=dict)
    overrides: tuple[Override, ...] = ()
    folder: Path = field(default_factory=Path.cwd)
    source: Path | None = None

    def severity(self, rule: str, default: str, path: Path, pointer: str) -> str:
        """The severity of a finding of ``rule`` at ``pointer`` of ``path``, or ``"off"``."""
        chosen = self.rules.get(rule, default)
        if self.overrides:
            relative = _relative(path, self.folder)
            for override in self.overrides:
                if rule in override.rules and override.matches(relative, pointer):
                    chosen = override.rules[rule]
        return chosen

    def enabled(self, rule: str, path: Path) -> bool:
        """Whether ``rule`` may report anything in ``path`` (off everywhere in it: no need to run)."""
        if self.rules.get(rule) != OFF:
            return True
        relative = _relative(path, self.folder)
        return any(
            override.rules.get(rule, OFF) != OFF
            and any(fnmatch.fnmatchcase(relative, glob) for glob, _ in override.patterns)
            for override in self.overrides
        )


def _relative(path: Path, folder: Path) -> str:
    resolved = path.resolve()
    try:
        return resolved.relative_to(folder.resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def _table(config: ProjectConfig, *keys: str) -> str:
    """How a user finds ``keys`` in the file: ``[tool.neuropay.lint.rules]`` or ``[lint.rules]``."""
    pyproject = config.path is not None and config.path.name == "pyproject.toml"
    return "[" + ".".join((*(("tool", "neuropay") if pyproject else ()), "lint", *keys)) + "]"


def _rules_table(
    raw: Any, where: str, known: Mapping[str, str], config: ProjectConfig
) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        raise UsageError(f"{config.path}: {where} must be a table of RULE = severity")
    chosen: dict[str, str] = {}
    for rule, value in raw.items():
        if rule not in known:
            raise UsageError(
                f"{config.path}: {where}: unknown rule {rule!r}; see `neuropay spec rules`"
            )
        if value not in CHOICES:
            raise UsageError(
                f"{config.path}: {where}: {rule} = {value!r}; use one of {', '.join(CHOICES)}"
            )
        chosen[str(rule)] = str(value)
    return chosen


def read_ruleset(config: ProjectConfig, known: Mapping[str, str]) -> Ruleset:
    """The ruleset of the lint section ``config`` holds (``read_project_config("lint")``);
    ``known`` maps every rule id to its default severity."""
    section = config.values
    unknown = sorted(set(section) - {"rules", "overrides"})
    if unknown:
        raise UsageError(
            f"{config.path}: {_table(config)}: unknown key {unknown[0]!r}; "
            "keys are 'rules' and 'overrides'"
        )
    rules = _rules_table(section.get("rules", {}), _table(config, "rules"), known, config)
    overrides: list[Override] = []
    raw_overrides = section.get("overrides", [])
    if not isinstance(raw_overrides, list):
        raise UsageError(f"{config.path}: {_table(config, 'overrides')} must be a list")
    for index, entry in enumerate(raw_overrides):
        where = f"{_table(config, 'overrides')} #{index + 1}"
        if not isinstance(entry, Mapping) or set(entry) - {"files", "rules"}:
            raise UsageError(f"{config.path}: {where}: takes 'files' and 'rules' only")
        files = entry.get("files")
        if not isinstance(files, list) or not files or not all(isinstance(f, str) for f in files):
            raise UsageError(f"{config.path}: {where}: 'files' must be a non-empty list of globs")
        patterns = []
        for item in files:
            glob, hash_, pointer = item.partition("#")
            patterns.append((glob or "*", "#" + pointer if hash_ else ""))
        overrides.append(
            Override(tuple(patterns), _rules_table(entry.get("rules", {}), where, known, config))
        )
    folder = config.path.parent if config.path is not None else Path.cwd()
    return Ruleset(rules, tuple(overrides), folder, config.path)
