"""What a target answers is untrusted: stored bounded (a 2 MB body must not make a 100 MB report)
and shown visible (control characters and bidirectional overrides escaped in every output)."""

from __future__ import annotations

import json
import re
from typing import Any

BODY_LIMIT = 4096  # bytes of a received body or header kept in the results
TEXT_LIMIT = 4096  # characters of a message built from received data

# C0 controls except tab and newline, DEL, C1 controls, and the Unicode format characters that
# reorder or hide text (bidi embeddings, overrides and isolates, marks, zero-width joiners, BOM):
# ESC could recolour or erase a terminal line, U+202E makes "gpj.exe" read "exe.jpg".
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """``text`` with control and bidi characters written as ``\\xNN`` / ``\\uNNNN``."""
    return _INVISIBLE.sub(_escape, text)


def has_invisible(text: str) -> bool:
    return _INVISIBLE.search(text) is not None


def visible_any(value: Any) -> Any:
    """:func:`visible` applied to every string (and key) of a JSON-like value."""
    if isinstance(value, str):
        return visible(value)
    if isinstance(value, dict):
        return {visible(str(k)): visible_any(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [visible_any(v) for v in value]
    return value


def _size(value: Any) -> int:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return len(text.encode("utf-8", "replace"))


def clip(text: str, limit: int = TEXT_LIMIT) -> str:
    """``text`` cut to ``limit`` characters, noting how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… (truncated: {len(text):,} characters in all)"


def bounded(value: Any, limit: int = BODY_LIMIT) -> Any:
    """A received value as stored in the results: unchanged when its JSON text fits in ``limit``
    bytes; else an object keeps its keys with each value bounded, and anything still too large
    becomes the first ``limit`` bytes of its text with the full size noted."""
    size = _size(value)
    if size <= limit:
        return value
    if isinstance(value, dict) and len(value) <= 64:
        share = max(256, limit // max(1, len(value)))
        inner = {str(k): bounded(v, share) for k, v in value.items()}
        if _size(inner) <= limit * 2:
            return inner
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    head = text.encode("utf-8", "replace")[:limit].decode("utf-8", "ignore")
    return f"{head}… (truncated: {size:,} bytes in all)"
