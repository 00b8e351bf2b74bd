"""Timing helpers shared by the command-line benchmarks."""

from __future__ import annotations

import compileall
import statistics
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path


def compile_package() -> None:
    """Byte-compile neuropay_contract, as installing a wheel does: an editable install run with
    PYTHONDONTWRITEBYTECODE would otherwise compile every module on each timed run (0.1 s)."""
    compileall.compile_dir(Path(__file__).resolve().parents[1], quiet=1)


def run_timed(command: Sequence[str], repeat: int = 3) -> tuple[float, int]:
    """Median wall time (s) over ``repeat`` runs and the peak RSS (KiB) of the largest run.

    Each run happens in a fresh ``bash -c`` whose own rusage we read, so runs don't mix."""
    times: list[float] = []
    peak = 0
    for _ in range(repeat):
        started = time.perf_counter()
        proc = subprocess.run(
            ["python3", "-c", _RUNNER, *command], capture_output=True, text=True, check=False
        )
        times.append(time.perf_counter() - started)
        if proc.returncode != 0:
            raise RuntimeError(f"{command[0]} failed: {proc.stderr[-500:]}")
        peak = max(peak, int(proc.stdout.strip().splitlines()[-1]))
    return statistics.median(times), peak


# Runs the command as a child and prints the child's peak RSS (ru_maxrss of RUSAGE_CHILDREN).
_RUNNER = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""
