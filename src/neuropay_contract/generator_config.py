"""The generators' configuration: ``generators/config.toml`` of the project (no Python).

A project's top-level ``generators/`` folder configures what ``neuropay docs``, ``neuropay postman
export`` and ``neuropay report`` produce: option defaults per command, and template folders searched
before the packaged templates. It is looked up in the working directory, then in the checkout;
options typed on the command line win over it. Unknown sections or options are errors, so a typo
never silently does nothing.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._resources import checkout_root
from .documents import DocumentError, read_text
from .errors import NeuropayError

GENERATORS_DIR = Path("generators")
CONFIG_NAME = "config.toml"
# The commands the configuration may give defaults to: section -> command path.
COMMANDS: dict[str, tuple[str, ...]] = {
    "docs": ("docs",),
    "postman": ("postman", "export"),
    "report": ("report",),
}


@dataclass(frozen=True)
class GeneratorConfig:
    """What ``generators/config.toml`` says (empty when there is none)."""

    path: Path | None = None
    template_dirs: tuple[Path, ...] = ()
    defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def generators_dirs() -> list[Path]:
    """The ``generators/`` folders that apply: the working directory's, then the checkout's."""
    candidates = [Path.cwd() / GENERATORS_DIR]
    root = checkout_root()
    if root is not None:
        candidates.append(root / GENERATORS_DIR)
    found: list[Path] = []
    for candidate in candidates:
        if candidate.is_dir() and candidate.resolve() not in found:
            found.append(candidate.resolve())
    return found


def load_config(directory: Path | None = None) -> GeneratorConfig:
    """The configuration of ``directory`` (default: the first :func:`generators_dirs` folder that
    has a ``config.toml``). Raises :class:`NeuropayError` for a file that is not valid."""
    if directory is None:
        directory = next((d for d in generators_dirs() if (d / CONFIG_NAME).is_file()), None)
    if directory is None or not (directory / CONFIG_NAME).is_file():
        return GeneratorConfig()
    path = directory / CONFIG_NAME
    try:
        raw = tomllib.loads(read_text(path, "generator configuration", limit=1 << 20))
    except DocumentError as exc:
        raise NeuropayError(str(exc)) from None
    except tomllib.TOMLDecodeError as exc:
        raise NeuropayError(f"{path}: not readable TOML: {exc}") from None
    unknown = sorted(set(raw) - {"templates", *COMMANDS})
    if unknown:
        raise NeuropayError(
            f"{path}: unknown section [{unknown[0]}]; sections are "
            f"[templates], {', '.join(f'[{s}]' for s in COMMANDS)}"
        )
    templates = raw.get("templates", {})
    search = templates.get("search", []) if isinstance(templates, dict) else None
    if not isinstance(search, list) or not all(isinstance(s, str) for s in search):
        raise NeuropayError(f"{path}: [templates] search must be a list of folder names")
    if isinstance(templates, dict) and set(templates) - {"search"}:
        raise NeuropayError(f"{path}: [templates] takes only 'search'")
    defaults: dict[str, dict[str, Any]] = {}
    for section in COMMANDS:
        values = raw.get(section, {})
        if not isinstance(values, dict):
            raise NeuropayError(f"{path}: [{section}] must be a table of option defaults")
        defaults[section] = dict(values)
    return GeneratorConfig(
        path=path,
        template_dirs=tuple((directory / s).resolve() for s in search),
        defaults=defaults,
    )


def default_map(config: GeneratorConfig, commands: Mapping[str, Any]) -> dict[str, Any]:
    """Click's ``default_map`` for the root group from ``config``; ``commands`` gives the click
    command of each section, whose options the keys must name (``--out`` as ``out``)."""
    result: dict[str, Any] = {}
    for section, values in config.defaults.items():
        if not values:
            continue
        command = commands[section]
        by_option: dict[str, str] = {}
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--"):
                    by_option[opt[2:].replace("-", "_")] = param.name
        mapped: dict[str, Any] = {}
        for key, value in values.items():
            name = by_option.get(key.replace("-", "_"))
            if name is None:
                raise NeuropayError(
                    f"{config.path}: [{section}] {key!r} is not an option of "
                    f"`neuropay {' '.join(COMMANDS[section])}`"
                )
            mapped[name] = ",".join(value) if isinstance(value, list) else value
        node = result
        for part in COMMANDS[section][:-1]:
            node = node.setdefault(part, {})
        node[COMMANDS[section][-1]] = mapped
    return result
