"""The docs page's search index: one entry per operation, webhook, field and error code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
                "anchor": op.anchor,
            }
        )
        for f in op.fields:
            entries.append(
                {
                    "kind": "field",
                    "name": f.name,
                    "detail": f"{op.id} · {f.type}",
                    "anchor": op.anchor,
                }
            )
    for error in errors:
        entries.append(
            {
                "kind": "error",
                "name": error["code"],
                "detail": f"{error['http']} {error['description']}",
                "anchor": f"err-{error['code']}",
            }
        )
    return entries
