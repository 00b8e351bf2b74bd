"""`make bench-differential`: what `--differential` costs. A plain `neuropay test --profile ci`
and the same run with `--differential` (every exchange replayed on a fresh embedded reference
server and compared), same seed, alternated round by round in one run so that both meet the same
machine; prints the median wall time of each, the spread and the ratio (the goal: at most 1.5x).

The target is the embedded reference server in both runs, so the differential run starts two
more reference servers (the oracle and the one that shrinks differences) besides it."""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

GOAL = 1.5


def _run(neuropay: Path, seed: int, report_dir: Path, differential: bool) -> tuple[float, int]:
    """Wall seconds and requests of one run; raises when the run is not green."""
    import subprocess

    command = [str(neuropay), "test", "--profile", "ci", "--seed", str(seed)]
    command += ["--report-dir", str(report_dir), *(["--differential"] if differential else [])]
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
        raise RuntimeError(f"neuropay test exited {proc.returncode}: {' / '.join(tail)}")
    results = json.loads((report_dir / "results.json").read_text())
    return wall, int(results["summary"]["requests"])


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    rounds = int(args[0]) if args else 3
    seed = 4242
    neuropay = Path(sys.executable).with_name("neuropay")
    plain: list[float] = []
    diff: list[float] = []
    requests = {"plain": 0, "differential": 0}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for i in range(rounds):
                # alternate which goes first, so a warming or loaded machine favours neither
                order = [False, True] if i % 2 == 0 else [True, False]
                for differential in order:
                    wall, sent = _run(
                        neuropay, seed, Path(tmp) / f"r{i}{differential}", differential
                    )
                    (diff if differential else plain).append(wall)
                    requests["differential" if differential else "plain"] = sent
        except RuntimeError as exc:
            print(f"bench-differential: {exc}")
            return 2
    load = os.getloadavg()[0]
    p, d = statistics.median(plain), statistics.median(diff)
    print(
        f"neuropay test --profile ci --seed {seed} against the embedded reference server, "
        f"{rounds} alternated rounds (load average {load:.1f} at the end)"
    )
    print(f"{'':28}{'median (s)':>12}{'min':>8}{'max':>8}{'requests':>10}")
    for name, walls in (("plain", plain), ("--differential", diff)):
        sent = requests["differential" if walls is diff else "plain"]
        print(
            f"{name:28}{statistics.median(walls):>12.1f}{min(walls):>8.1f}{max(walls):>8.1f}{sent:>10}"
        )
    ratio = d / p
    verdict = "within" if ratio <= GOAL else "ABOVE"
    print(f"cost of --differential: {ratio:.2f}x a plain run ({verdict} the {GOAL}x goal)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
