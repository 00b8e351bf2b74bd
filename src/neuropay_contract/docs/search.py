"""The docs page's search index: one entry per operation, webhook, field and error code, each
with the words a reader may search by (summaries, descriptions, paths, operation ids, field
names); the page ranks name matches above summary/path matches above description matches."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

TEXT_LIMIT = 400  # characters of description per entry: enough to find it, small enough to ship


def _plain(markdown: str) -> str:
    """Description text without Markdown or HTML markup, one line, bounded."""
    text = re.sub(r"<[^>]+>|[`*_#>\[\]]|\(https?://[^)]*\)", " ", markdown)
    return " ".join(text.split())[:TEXT_LIMIT]


if TYPE_CHECKING:  # the model builds the index from its operations
    from .model import OperationDoc


def search_index(
    groups: list[tuple[str, str, list[OperationDoc]]],
    hooks: list[OperationDoc],
    errors: list[dict[str, Any]],
) -> list[dict[str, str]]:
    """The entries the page's search box looks through: operations, webhooks, fields, errors."""
    entries = []
    everything = [op for _tag, _description, ops in groups for op in ops] + hooks
    for op in everything:
        entries.append(
            {
                "kind": "operation" if op.anchor.startswith("op-") else "webhook",
                "name": op.id,
                "detail": f"{op.method} {op.path} {op.summary}".strip(),
                "text": _plain(op.description),
                "anchor": op.anchor,
            }
        )
        for f in op.fields:
            entries.append(
                {
                    "kind": "field",
                    "name": f.name,
                    "detail": f"{op.id} · {f.type}",
                    "text": _plain(f.description),
                    "anchor": op.anchor,
                }
            )
    for error in errors:
        entries.append(
            {
                "kind": "error",
                "name": error["code"],
                "detail": f"{error['http']} {error['description']}",
                "text": "",
                "anchor": f"err-{error['code']}",
            }
        )
    return entries
