"""`make bench-postman`: `neuropay postman convert` vs openapi-to-postmanv2's CLI on the same large
documents (a generated 400+ operation spec in YAML and in JSON, or the files given as arguments),
in one run: wall time and peak memory, printed as ratios."""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from .._resources import checkout_root
from ._timing import run_timed
from .large_spec import build_large_spec, count_operations, write_large_spec

REPEAT = 5
GOAL_SPEED = 4.0  # neuropay at least this many times faster
GOAL_MEMORY = 2.0  # and at most 1/this of the peak memory


def _compare(spec: Path, tmp: Path, theirs_cli: Path) -> tuple[float, float]:
    neuropay = Path(sys.executable).with_name("neuropay")
    ours_cmd = [str(neuropay), "postman", "convert", str(spec), "-o", f"{tmp}/ours.json"]
    tests_cmd = [*ours_cmd[:-1], f"{tmp}/tests.json", "--tests"]
    theirs_cmd = [str(theirs_cli), "-s", str(spec), "-o", f"{tmp}/theirs.json"]
    # Runs alternate (ours, theirs, ours, ...) so a change in machine load hits both alike.
    ours_runs, theirs_runs = [], []
    for _ in range(REPEAT):
        ours_runs.append(run_timed(ours_cmd, repeat=1))
        theirs_runs.append(run_timed(theirs_cmd, repeat=1))
    ours_t = statistics.median(t for t, _ in ours_runs)
    theirs_t = statistics.median(t for t, _ in theirs_runs)
    ours_mem = max(m for _, m in ours_runs)
    theirs_mem = max(m for _, m in theirs_runs)
    tests_t, tests_mem = run_timed(tests_cmd, repeat=1)  # --tests: schemas shared, bounded
    ours_size = Path(f"{tmp}/ours.json").stat().st_size
    theirs_size = Path(f"{tmp}/theirs.json").stat().st_size
    speed, memory = theirs_t / ours_t, theirs_mem / ours_mem
    print(
        f"\ndocument: {spec.name} ({spec.stat().st_size // 1024} KiB); "
        f"median of {REPEAT} alternating runs each"
    )
    print(f"{'':22}{'neuropay convert':>18}{'openapi2postmanv2':>20}{'ratio':>10}")
    print(
        f"{'wall time (s)':22}{ours_t:>18.2f}{theirs_t:>20.2f}{speed:>9.2f}x (>1: neuropay faster)"
    )
    print(
        f"{'peak memory (MiB)':22}{ours_mem / 1024:>18.0f}{theirs_mem / 1024:>20.0f}"
        f"{memory:>9.2f}x (>1: neuropay smaller)"
    )
    print(f"{'output size (KiB)':22}{ours_size / 1024:>18.0f}{theirs_size / 1024:>20.0f}")
    tests_size = Path(f"{tmp}/tests.json").stat().st_size
    print(
        f"{'with --tests':22}{tests_t:>17.2f}s {tests_mem / 1024:>6.0f} MiB {tests_size / 1024:>6.0f} KiB"
        " (one run; openapi2postmanv2 has no tests)"
    )
    return speed, memory


def main() -> int:
    root = checkout_root() or Path.cwd()
    theirs_cli = root / "node_modules" / ".bin" / "openapi2postmanv2"
    if not theirs_cli.exists():
        print(f"bench-postman: {theirs_cli} not found (run make setup)")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        if len(sys.argv) > 1:
            specs = [Path(arg) for arg in sys.argv[1:]]
        else:
            specs = list(write_large_spec(Path(tmp) / "spec"))
            print(f"generated spec: {count_operations(build_large_spec())} operations")
        for spec in specs:
            if not spec.exists():
                print(f"bench-postman: {spec} not found")
                return 2
        results = [(spec.name, *_compare(spec, Path(tmp), theirs_cli)) for spec in specs]
    print(f"\ngoal: >= {GOAL_SPEED:.0f}x faster and <= {1 / GOAL_MEMORY:.1f}x the peak memory")
    for name, speed, memory in results:
        met = speed >= GOAL_SPEED and memory >= GOAL_MEMORY
        print(
            f"  {name}: {speed:.2f}x faster, {1 / memory:.2f}x the memory: {'met' if met else 'NOT met'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
