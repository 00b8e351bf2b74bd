"""The docs page's search index: one entry per operation, webhook, field and error code, each
with the words a reader may search by (summaries, descriptions, paths, operation ids, field
names); the page ranks name matches above summary/path matches above description matches.

Every word of a description is searchable, however long it is, and the index stays small: an
entry's text is the description's first ``PHRASE_LIMIT`` characters (where a phrase is looked for)
followed by the distinct words of the rest, and each text is stored once in ``texts`` (a field
described alike in forty operations costs one text)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

PHRASE_LIMIT = 400  # characters kept as written: whole-query (phrase) matches look here
_WORD = re.compile(r"[\w./{}-]{2,}")


def _plain(markdown: str) -> str:
    """Description text without Markdown or HTML markup, one line, every word of it: the head
    as written, then each further word once (the search matches words, not their order)."""
    # "_" is emphasis only at a word's edge: snake_case names (PayPal's fields) stay whole
    text = re.sub(r"<[^>]+>|[`*#>\[\]]|(?<!\w)_+|_+(?!\w)|\(https?://[^)]*\)", " ", markdown)
    words = text.split()
    head = " ".join(words)[:PHRASE_LIMIT]
    cut = head.rfind(" ") if len(head) == PHRASE_LIMIT else len(head)
    head = head[: max(cut, 0)]
    seen = {w.lower() for w in _WORD.findall(head)}
    rest = []
    for word in _WORD.findall(" ".join(words)[len(head) :]):
        lowered = word.lower()
        if lowered not in seen:
            seen.add(lowered)
            rest.append(word)
    return " ".join([head, *rest]).strip()


if TYPE_CHECKING:  # the model builds the index from its operations
    from .model import OperationDoc


def search_index(
    groups: list[tuple[str, str, list[OperationDoc]]],
    hooks: list[OperationDoc],
    errors: list[dict[str, Any]],
) -> dict[str, Any]:
    """What the page's search box looks through: ``entries`` (operations, webhooks, fields,
    errors), each naming its text by position in ``texts``."""
    entries: list[dict[str, Any]] = []
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
    texts: dict[str, int] = {}
    for entry in entries:
        entry["t"] = texts.setdefault(entry.pop("text"), len(texts))
    return {"entries": entries, "texts": list(texts)}
