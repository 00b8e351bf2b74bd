"""`make bench-postman`: `neuropay postman convert` vs openapi-to-postmanv2's CLI on the same large
document, in one run: wall time and peak memory, printed as ratios."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from .._resources import checkout_root
from ._timing import run_timed

DOCUMENT = "paypal-checkout_orders_v2.json"


def main() -> int:
    root = checkout_root() or Path.cwd()
    spec = (
        Path(sys.argv[1]) if len(sys.argv) > 1 else root.parent / "shared" / "realspecs" / DOCUMENT
    )
    if not spec.exists():
        print(f"bench-postman: {spec} not found (pass a large OpenAPI document as the argument)")
        return 2
    neuropay = Path(sys.executable).with_name("neuropay")
    theirs_cli = root / "node_modules" / ".bin" / "openapi2postmanv2"
    with tempfile.TemporaryDirectory() as tmp:
        ours_t, ours_mem = run_timed(
            [str(neuropay), "postman", "convert", str(spec), "-o", f"{tmp}/ours.json"]
        )
        theirs_t, theirs_mem = run_timed(
            [str(theirs_cli), "-s", str(spec), "-o", f"{tmp}/theirs.json"]
        )
        ours_size = Path(f"{tmp}/ours.json").stat().st_size
        theirs_size = Path(f"{tmp}/theirs.json").stat().st_size
    print(f"document: {spec.name} ({spec.stat().st_size // 1024} KiB); median of 3 runs each")
    print(f"{'':22}{'neuropay convert':>18}{'openapi2postmanv2':>20}{'ratio':>10}")
    print(
        f"{'wall time (s)':22}{ours_t:>18.2f}{theirs_t:>20.2f}{theirs_t / ours_t:>9.2f}x (>1: neuropay faster)"
    )
    print(
        f"{'peak memory (MiB)':22}{ours_mem / 1024:>18.0f}{theirs_mem / 1024:>20.0f}{theirs_mem / ours_mem:>9.2f}x (>1: neuropay smaller)"
    )
    print(f"{'output size (KiB)':22}{ours_size / 1024:>18.0f}{theirs_size / 1024:>20.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
