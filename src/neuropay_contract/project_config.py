"""A project's configuration of a command: ``[tool.neuropay.<command>]`` of ``pyproject.toml`` or
``[<command>]`` of ``neuropay.toml``, looked up in the working directory (``neuropay.toml`` first:
a file of its own is the more specific one). Keys are an option's long name, with dashes or
underscores (``report-dir`` or ``report_dir``)."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import UsageError

OWN_FILE = "neuropay.toml"
PYPROJECT = "pyproject.toml"


@dataclass(frozen=True)
class ProjectConfig:
    """The table of one command (empty, with no path, when no file configures it)."""

    values: Mapping[str, Any] = field(default_factory=dict)
    path: Path | None = None

    def where(self, key: str) -> str:
        """How to name ``key`` in a message: the file and the table it was read from."""
        return f"{key} in {self.path}" if self.path else key


def read_project_config(command: str, directory: Path | None = None) -> ProjectConfig:
    """The configuration of ``command`` in ``directory`` (default: the working directory), keys
    normalised to underscores. Raises :class:`UsageError` for a file that is not TOML or a table
    that is not a table."""
    folder = directory or Path.cwd()
    for name in (OWN_FILE, PYPROJECT):
        path = folder / name
        if path.is_file():
            found = _read_table(command, path)
            if found is not None:
                return found
    return ProjectConfig()


def read_project_config_file(command: str, path: Path) -> ProjectConfig:
    """The configuration of ``command`` in the file ``path`` a user named (``--config``): a
    ``pyproject.toml`` holds it under ``[tool.neuropay.<command>]``, any other file at the top."""
    if not path.is_file():
        raise UsageError(f"{path}: no such configuration file")
    return _read_table(command, path) or ProjectConfig(path=path)


def _read_table(command: str, path: Path) -> ProjectConfig | None:
    """The command's table in ``path``, or None when the file has none."""
    table_path = ("tool", "neuropay", command) if path.name == PYPROJECT else (command,)
    try:
        document: Any = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None
    table: Any = document
    for part in table_path:
        table = table.get(part) if isinstance(table, Mapping) else None
    if table is None:
        return None
    if not isinstance(table, Mapping):
        raise UsageError(f"{path}: [{'.'.join(table_path)}] must be a table")
    values: dict[str, Any] = {}
    for key, value in table.items():
        normal = str(key).replace("-", "_")
        if normal in values:
            raise UsageError(f"{path}: [{'.'.join(table_path)}] sets {key!r} twice")
        values[normal] = value
    return ProjectConfig(values, path)
