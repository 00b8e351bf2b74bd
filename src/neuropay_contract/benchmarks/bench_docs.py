"""`make bench-docs`: `neuropay docs` vs `redocly build-docs` on the same large document, in one run:
wall time, peak memory and output size, printed as ratios."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from .._resources import checkout_root
from ._timing import run_timed

DOCUMENT = "paypal-checkout_orders_v2.json"


def main() -> int:
    root = checkout_root() or Path.cwd()
    spec = root.parent / "shared" / "realspecs" / DOCUMENT
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
        "neuropay's page also carries code samples in three languages and a search index; both work offline."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
