"""Postman: a general OpenAPI converter, the project's export with lifecycle scenarios, a drift check."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .convert import convert
from .diff import diff_collection

if TYPE_CHECKING:
    from .export import build_collection, export_files

__all__ = ["build_collection", "convert", "diff_collection", "export_files"]


def __getattr__(name: str) -> Any:
    # The export is imported on first use: `postman convert` must not pay for its contract engine.
    if name in ("build_collection", "export_files"):
        from . import export

        return getattr(export, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
