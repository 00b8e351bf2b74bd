"""Write every report of a run; each is a consumer of the same RunResults."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..results import RunResults

KEY_PATTERN = re.compile(r"sk_(?:test|live)_[0-9A-Za-z]{16,}")
DEFAULT_FORMATS = ("json", "html", "md", "junit")
FILE_NAMES = {
    "json": "results.json",
    "html": "report.html",
    "md": "report.md",
    "junit": "junit.xml",
}


def redact(text: str, secrets: Any = None) -> str:
    """Defence in depth: the suite already redacts, but no key-shaped string leaves here."""
    if secrets is not None:
        text = secrets.redact(text)
    return KEY_PATTERN.sub("$NEUROPAY_API_KEY", text)


def write_reports(
    results: RunResults,
    out_dir: Path,
    formats: Iterable[str] = DEFAULT_FORMATS,
    secrets: Any = None,
) -> dict[str, Path]:
    """Write the requested formats into ``out_dir``; returns the paths by format."""
    from .render import render_html, render_junit, render_markdown

    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for fmt in formats:
        path = out_dir / FILE_NAMES[fmt]
        if fmt == "json":
            text = json.dumps(results.to_dict(), indent=2, default=str) + "\n"
        elif fmt == "html":
            text = render_html(results)
        elif fmt == "md":
            text = render_markdown(results)
        elif fmt == "junit":
            text = render_junit(results)
        else:
            raise ValueError(f"unknown report format {fmt!r}")
        path.write_text(redact(text, secrets), encoding="utf-8")
        written[fmt] = path
    return written
