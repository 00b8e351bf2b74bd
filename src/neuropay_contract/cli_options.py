"""Options several commands share, declared once: the spec to check against and where the
reports go (``neuropay proxy``, ``audit`` and ``load``). A command's own options stay with it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def spec_option(function: F) -> F:
    """``--spec PATH`` as ``spec_path`` (None: the bundled spec)."""
    return click.option(
        "--spec", "spec_path", type=click.Path(path_type=Path), help="OpenAPI document."
    )(function)


def report_dir_option(default: str, help: str) -> Callable[[F], F]:
    """``--report-dir DIR`` (a folder, created when the reports are written)."""
    return click.option(
        "--report-dir",
        type=click.Path(path_type=Path, file_okay=False),
        default=Path(default),
        show_default=True,
        help=help,
    )
