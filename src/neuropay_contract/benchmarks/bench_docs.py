"""`make bench-docs`: `neuropay docs` vs `redocly build-docs` on the same large document, in one run:
wall time, peak memory and output size, printed as ratios."""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from .._resources import checkout_root
from ._timing import run_timed

DOCUMENT = "paypal-checkout_orders_v2.json"


# What a page fetches by itself: <script src>, <link href> (fonts, styles) and CSS @import/url().
_LOADS = re.compile(
    r"<(?:script|img|iframe)\b[^>]*\bsrc=[\"']?(https?:)?//[^\"'\s>]+"
    r"|<link\b[^>]*\bhref=[\"']?(https?:)?//[^\"'\s>]+"
    r"|@import\s+(?:url\()?[\"']?(https?:)?//[^\"')\s]+"
    r"|url\(\s*[\"']?(https?:)?//[^\"')\s]+",
    re.IGNORECASE,
)


def outside_loads(html: str) -> list[str]:
    """URLs on other hosts that the page would fetch when opened (an offline page has none)."""
    return [
        re.sub(r".*?((https?:)?//[^\"'\s>)]+).*", r"\1", m.group(0)) for m in _LOADS.finditer(html)
    ]


def main() -> int:
    root = checkout_root() or Path.cwd()
    spec = root / "tests" / "fixtures" / "realspecs" / DOCUMENT
    if len(sys.argv) > 1:
        spec = Path(sys.argv[1])
    if not spec.exists():
        print(f"bench-docs: {spec} not found (pass a large OpenAPI document as the argument)")
        return 2
    redocly = root / "node_modules" / ".bin" / "redocly"
    neuropay = Path(sys.executable).with_name("neuropay")
    with tempfile.TemporaryDirectory() as tmp:
        ours_out, theirs_out = Path(tmp) / "ours", Path(tmp) / "redoc.html"
        ours_t, ours_mem = run_timed(
            [str(neuropay), "docs", "--spec", str(spec), "--out", str(ours_out), "--format", "html"]
        )
        theirs_t, theirs_mem = run_timed(
            [str(redocly), "build-docs", str(spec), "-o", str(theirs_out)]
        )
        ours_size = (ours_out / "index.html").stat().st_size
        theirs_size = theirs_out.stat().st_size
        ours_loads = outside_loads((ours_out / "index.html").read_text(encoding="utf-8"))
        theirs_loads = outside_loads(theirs_out.read_text(encoding="utf-8"))
    print(f"document: {spec.name} ({spec.stat().st_size // 1024} KiB); median of 3 runs each")
    print(f"{'':22}{'neuropay docs':>16}{'redocly build-docs':>20}{'ratio':>10}")
    print(
        f"{'wall time (s)':22}{ours_t:>16.2f}{theirs_t:>20.2f}{theirs_t / ours_t:>9.2f}x (>1: neuropay faster)"
    )
    print(
        f"{'peak memory (MiB)':22}{ours_mem / 1024:>16.0f}{theirs_mem / 1024:>20.0f}{theirs_mem / ours_mem:>9.2f}x (>1: neuropay smaller)"
    )
    print(
        f"{'output size (KiB)':22}{ours_size / 1024:>16.0f}{theirs_size / 1024:>20.0f}{theirs_size / ours_size:>9.2f}x (>1: neuropay smaller)"
    )
    print(
        f"{'loads from outside':22}{len(ours_loads):>16}{len(theirs_loads):>20}"
        f"{'':>10} {', '.join(sorted(set(theirs_loads)))[:70]}"
    )
    print(
        "neuropay's page also carries curl, Python and JavaScript samples, the lifecycle and a search index."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
