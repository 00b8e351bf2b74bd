"""Write every report of a run; each is a consumer of the same RunResults."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..outputs import ensure_dir, write_text
from ..results import RunResults
from ..spec import DEFAULT_KEY_PREFIXES
from .formats import DEFAULT_FORMATS, FORMATS

KEY_PATTERN = re.compile(
    "(?:" + "|".join(re.escape(p) for p in DEFAULT_KEY_PREFIXES.values()) + ")[0-9A-Za-z]{16,}"
)


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
    formats = list(formats)
    unknown = [fmt for fmt in formats if fmt not in FORMATS]
    if unknown:
        raise ValueError(f"unknown report format {unknown[0]!r}: use one of {', '.join(FORMATS)}")
    ensure_dir(out_dir, "the reports")
    written: dict[str, Path] = {}
    for fmt in formats:
        report = FORMATS[fmt]
        path = out_dir / report.file_name
        write_text(path, redact(report.render(results), secrets))
        written[fmt] = path
    return written
