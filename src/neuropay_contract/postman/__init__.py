"""Postman: a general OpenAPI converter, the project's export with lifecycle scenarios, a drift check."""

from .convert import convert
from .diff import diff_collection
from .export import build_collection, export_files

__all__ = ["build_collection", "convert", "diff_collection", "export_files"]
