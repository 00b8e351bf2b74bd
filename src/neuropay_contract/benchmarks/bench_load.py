"""`make bench-load`: requests/s that `neuropay load` drives against the reference server with one
process, side by side with a plain Locust file sending the same journeys without any check (goal:
the median of the rounds' ratios at least 0.8x); then the figures of `neuropay load --processes 2`
(on 2 cores the target shares the CPU, so no ratio is asked there).

The machine may be shared, so the measurement guards itself: the two sides run in alternating
rounds (the order flips each round, so a drift hits both), the ratio is the median of the rounds'
ratios with its spread, the load average is printed, and the request mix of both sides is compared
step by step (the same journeys must send the same requests, or the ratio means nothing). The
client CPU per request (Locust, plus for `neuropay load` its CLI and checking process) is printed
too: unlike requests/s it hardly depends on what else runs.

NEUROPAY_BENCH_SECONDS (default 15), NEUROPAY_BENCH_ROUNDS (default 5) and NEUROPAY_BENCH_USERS
(default 16) size the run."""

from __future__ import annotations

import csv
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .bench_server import neuropay_mock

PLAIN = Path(__file__).with_name("plain_locustfile.py")
GOAL = 0.8
# Largest difference, in percentage points, between the two sides' share of any one step.
MIX_TOLERANCE_PP = 2.0


@dataclass
class Round:
    rps: float
    requests: int
    wall_s: float
    cpu_s: float
    steps: Counter[str] = field(default_factory=Counter)
    findings: int = 0
    p99: float = 0.0
    exit: int = 0
    # `neuropay load` only: the most exchanges waiting for their checks, and how long users
    # waited for room (the checks held the load back).
    peak_queued: int = 0
    waited_s: float = 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu_s / self.requests if self.requests else 0.0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _measured(run: Callable[[], subprocess.CompletedProcess[str]]) -> tuple[float, float, int]:
    cpu, wall = _children_cpu(), time.monotonic()
    proc = run()
    return time.monotonic() - wall, _children_cpu() - cpu, proc.returncode


def _stats(path: Path) -> tuple[float, int, Counter[str]]:
    """Requests/s, requests and requests per step of a Locust ``*_stats.csv``."""
    steps: Counter[str] = Counter()
    rps, requests = 0.0, 0
    with path.open() as f:
        for row in csv.DictReader(f):
            if row["Name"] == "Aggregated":
                rps, requests = float(row["Requests/s"]), int(row["Request Count"])
            else:
                steps[f"{row['Type']} {row['Name']}"] += int(row["Request Count"])
    return rps, requests, steps


def _plain(url: str, key: str, users: int, seconds: int, out: Path) -> Round:
    command = [sys.executable, "-m", "locust", "-f", str(PLAIN), "--host", url, "--headless"]
    command += ["-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--only-summary"]
    command += ["--loglevel", "ERROR", "--csv", str(out / "plain")]
    env = {**os.environ, "NEUROPAY_API_KEY": key}
    wall, cpu, code = _measured(
        lambda: subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    )
    rps, requests, steps = _stats(out / "plain_stats.csv")
    return Round(rps, requests, wall, cpu, steps, exit=code)


def _ours(url: str, key: str, users: int, seconds: int, out: Path, processes: int = 1) -> Round:
    command = [sys.executable, "-m", "neuropay_contract", "load", "--target-url", url]
    command += ["-u", str(users), "-r", str(users), "-t", f"{seconds}s", "--quiet"]
    command += ["--processes", str(processes), "--report-dir", str(out)]
    env = {**os.environ, "NEUROPAY_API_KEY": key}
    wall, cpu, code = _measured(
        lambda: subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    )
    data = json.loads((out / "load.json").read_text())
    total = data["stats"]["total"]
    _, _, steps = _stats(out / "locust_stats.csv")
    return Round(
        float(total["rps"]),
        int(total["requests"]),
        wall,
        cpu,
        steps,
        findings=int(data["total_findings"]),
        p99=float(total["p99_ms"] or 0),
        exit=code,
        peak_queued=int(data["checking"]["peak_queued"]),
        waited_s=float(data["checking"]["users_waited_s"]),
    )


def mix_difference(a: Counter[str], b: Counter[str]) -> tuple[set[str], float]:
    """The steps only one side sent, and the largest difference of a step's share (in pp)."""
    only = set(a) ^ set(b)
    ta, tb = sum(a.values()) or 1, sum(b.values()) or 1
    largest = max((abs(a[s] / ta - b[s] / tb) * 100 for s in set(a) | set(b)), default=0.0)
    return only, largest


def main() -> int:
    seconds = int(os.environ.get("NEUROPAY_BENCH_SECONDS", "15"))
    rounds = int(os.environ.get("NEUROPAY_BENCH_ROUNDS", "5"))
    users = int(os.environ.get("NEUROPAY_BENCH_USERS", "16"))
    load_before = os.getloadavg()
    plain: list[Round] = []
    ours: list[Round] = []
    with neuropay_mock(":memory:") as (url, keys), tempfile.TemporaryDirectory() as tmp:
        key = next(k for k in keys if k.startswith("sk_test_"))
        root = Path(tmp)
        for n in range(rounds):
            (root / f"p{n}").mkdir()
            for side in ("plain", "ours") if n % 2 == 0 else ("ours", "plain"):  # flip the order
                if side == "plain":
                    plain.append(_plain(url, key, users, seconds, root / f"p{n}"))
                else:
                    ours.append(_ours(url, key, users, seconds, root / f"o{n}"))
        two = _ours(url, key, users, seconds, root / "two", processes=2)
    load_after = os.getloadavg()

    ratios = [o.rps / p.rps if p.rps else 0.0 for p, o in zip(plain, ours, strict=True)]
    median = statistics.median(ratios)
    only, largest = mix_difference(
        sum((r.steps for r in plain), Counter()), sum((r.steps for r in ours), Counter())
    )
    print(
        f"bench-load: {users} users, {rounds} alternating rounds of {seconds} s per side, "
        f"reference server (SQLite :memory:), {os.cpu_count()} CPU(s); load average "
        f"{load_before[0]:.2f} before, {load_after[0]:.2f} after"
    )
    print(
        f"{'round':<7}{'plain req/s':>12}{'ours req/s':>12}{'ratio':>8}"
        f"{'CPU ms/req':>14}{'wall s':>14}{'checks queued':>16}"
    )
    print(f"{'':<39}{'plain / ours':>14}{'plain / ours':>14}{'peak, waited s':>16}")
    for n, (p, o, r) in enumerate(zip(plain, ours, ratios, strict=True), start=1):
        print(
            f"{n:<7}{p.rps:>12.1f}{o.rps:>12.1f}{r:>8.2f}"
            f"{p.cpu_ms_per_request:>7.2f} / {o.cpu_ms_per_request:<4.2f}"
            f"{p.wall_s:>7.1f} / {o.wall_s:<4.1f}"
            f"{o.peak_queued:>9}, {o.waited_s:<4.1f}"
        )
    print(
        f"request mix: {sum(sum(r.steps.values()) for r in plain)} plain and "
        f"{sum(sum(r.steps.values()) for r in ours)} checked request(s) over "
        f"{len(set().union(*(r.steps for r in plain + ours)))} step(s); "
        f"largest difference of a step's share {largest:.2f} pp "
        f"(tolerance {MIX_TOLERANCE_PP} pp)"
        + (f"; steps of one side only: {', '.join(sorted(only))}" if only else "")
    )
    pooled = sum(o.rps for o in ours) / (sum(p.rps for p in plain) or 1.0)
    print(
        f"ratio neuropay load / plain Locust (1 process): median {median:.2f}x of {rounds} "
        f"round(s), spread {min(ratios):.2f}-{max(ratios):.2f}, ratio of the means "
        f"{pooled:.2f}x (goal: median >= {GOAL}x: {'met' if median >= GOAL else 'NOT met'})"
    )
    print(
        "(wall s of neuropay load: its start, the run, the checks catching up and the read-back; "
        "CPU ms/req: the load generator's processes, checks included)"
    )
    print(
        f"neuropay load --processes 2: {two.rps:.1f} req/s, p99 {two.p99:.0f} ms, "
        f"{two.findings} finding(s), exit {two.exit} (no ratio asked: the target shares the CPU)"
    )
    findings = sum(o.findings for o in ours) + two.findings
    mix_ok = not only and largest <= MIX_TOLERANCE_PP
    return 0 if median >= GOAL and findings == 0 and mix_ok else 1


if __name__ == "__main__":
    sys.exit(main())
