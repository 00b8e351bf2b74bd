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
    for name, table_path in ((OWN_FILE, (command,)), (PYPROJECT, ("tool", "neuropay", command))):
        path = folder / name
        if not path.is_file():
            continue
        try:
            document: Any = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise UsageError(f"cannot read {path}: {exc}") from None
        table: Any = document
        for part in table_path:
            table = table.get(part) if isinstance(table, Mapping) else None
        if table is None:
            continue
        if not isinstance(table, Mapping):
            raise UsageError(f"{path}: [{'.'.join(table_path)}] must be a table")
        values: dict[str, Any] = {}
        for key, value in table.items():
            normal = str(key).replace("-", "_")
            if normal in values:
                raise UsageError(f"{path}: [{'.'.join(table_path)}] sets {key!r} twice")
            values[normal] = value
        return ProjectConfig(values, path)
    return ProjectConfig()
