"""State shared by the parts of one diff: both documents, ``$ref`` resolution and emitting changes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..errors import SpecError
from .model import Change, Document
from .rules import rule

# Schema nesting (through properties, items, refs) beyond this is refused as a depth bomb.
MAX_WALK_DEPTH = 96
_MAX_REF_CHAIN = 64


def pointer_token(token: object) -> str:
    """Escape one JSON pointer token (RFC 6901)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def child(pointer: str, *tokens: object) -> str:
    """``pointer`` extended by ``tokens``."""
    return pointer + "".join("/" + pointer_token(t) for t in tokens)


class DiffContext:
    """Both documents with cached ``$ref`` resolution; makes Change objects."""

    def __init__(self, old: Document, new: Document) -> None:
        self.old = old
        self.new = new
        self._targets: dict[tuple[int, str], Any] = {}

    def change(
        self, rule_id: str, reason: str, old_pointer: str | None, new_pointer: str | None
    ) -> Change:
        return Change(rule(rule_id), reason, old_pointer, new_pointer)

    # -- references ----------------------------------------------------------------------
    def resolve(self, doc: Document, node: Any, pointer: str) -> tuple[Any, str]:
        """Follow a ``$ref`` chain from ``node``: the target and its pointer."""
        for _ in range(_MAX_REF_CHAIN):
            if not isinstance(node, dict):
                return node, pointer
            ref = node.get("$ref")
            if not isinstance(ref, str):
                return node, pointer
            if not ref.startswith("#"):
                raise SpecError(
                    f"{doc.source}: external $ref {ref} at {pointer} is not supported; bundle it"
                )
            node, pointer = self._target(doc, ref), ref
        raise SpecError(f"{doc.source}: $ref chain longer than {_MAX_REF_CHAIN} at {pointer}")

    def _target(self, doc: Document, ref: str) -> Any:
        key = (id(doc), ref)
        if key in self._targets:
            return self._targets[key]
        node: Any = doc.content
        for raw in ref[1:].split("/")[1:] if ref != "#" else []:
            token = raw.replace("~1", "/").replace("~0", "~").replace("%7B", "{")
            token = token.replace("%7D", "}").replace("%25", "%")
            try:
                node = node[int(token)] if isinstance(node, list) else node[token]
            except (KeyError, IndexError, ValueError, TypeError):
                raise SpecError(f"{doc.source}: $ref {ref} points at nothing") from None
        self._targets[key] = node
        return node


def attribute(changes: Iterable[Change], operation: Any) -> list[Change]:
    """Record that ``operation`` reaches each change; return them as a list."""
    found = list(changes)
    for found_change in found:
        found_change.operations.add(operation)
    return found
