"""`make bench-postman`: `neuropay postman convert` vs openapi-to-postmanv2's CLI (o2p, which has no
tests) on a generated 400+ operation spec (YAML and JSON) and on the large public specs fetched
from the npm registry (Stripe as JSON and as YAML, Adyen Checkout v71: see :mod:`.public_specs`),
or on the files given as arguments: wall time and peak memory as ratios; `convert --tests` against
its bound (:data:`TESTS_WALL_S`, :data:`TESTS_MEMORY_MIB`); `postman diff` of that conversion
against its own spec (must find no drift).

Then Newman runs the `--tests` collections of PayPal, the petstores and Adyen Checkout against
`prism mock` of their spec and counts failed requests (must be 0) and failed assertions (prism's
placeholders can break a spec's own patterns: reported, not a failure of the conversion).

Exit 0 when every bound holds, 1 when one does not, 2 when a tool or file is missing."""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .._resources import checkout_root
from ._timing import compile_package, run_timed
from .large_spec import build_large_spec, count_operations, write_large_spec
from .public_specs import SPECS, fetch_or_explain

REPEAT = 3
GOAL_SPEED = 4.0  # neuropay at least this many times faster
GOAL_MEMORY = 2.0  # and at most 1/this of the peak memory
TESTS_WALL_S = 30.0  # `convert --tests` on a Stripe-sized spec: the bound
TESTS_MEMORY_MIB = 500.0
NEWMAN_SHIPPED = ("paypal", "petstore")  # shipped real specs whose collections Newman runs
PLACEHOLDER = "placeholder-credential"  # for empty credential variables: prism checks presence


@dataclass(frozen=True)
class Row:
    name: str
    speed: float
    memory: float
    tests_wall: float
    tests_mib: float
    drifts: int


def _neuropay() -> str:
    return str(Path(sys.executable).with_name("neuropay"))


def _drifts(collection: Path, spec: Path) -> int:
    """Drifts `postman diff` finds between our conversion and the spec it came from."""
    done = subprocess.run(
        [_neuropay(), "postman", "diff", str(collection), "--spec", str(spec), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode not in (0, 1):
        raise RuntimeError(f"postman diff failed: {done.stderr.strip()[-300:]}")
    return len(json.loads(done.stdout))


def _compare(spec: Path, tmp: Path, theirs_cli: Path) -> Row:
    ours_cmd = [_neuropay(), "postman", "convert", str(spec), "-o", f"{tmp}/ours.json"]
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
    drifts = _drifts(Path(f"{tmp}/tests.json"), spec)
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
    print(f"{'postman diff':22}{drifts:>18} drift(s) between the --tests collection and its spec")
    return Row(spec.name, speed, memory, tests_t, tests_mem / 1024, drifts)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _prism(node_bin: Path, spec: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [str(node_bin / "prism"), "mock", str(spec), "-h", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError(f"prism mock of {spec.name} did not start")


def newman_run(spec: Path, tmp: Path, node_bin: Path) -> dict[str, int]:
    """Convert ``spec`` with ``--tests``, run the collection with Newman against ``prism mock`` of
    the same spec; the request and assertion totals and failures Newman counted."""
    collection = tmp / f"{spec.stem}.newman.json"
    subprocess.run(
        [_neuropay(), "postman", "convert", str(spec), "-o", str(collection), "--tests"],
        capture_output=True,
        check=True,
    )
    variables = json.loads(collection.read_text()).get("variable", [])
    proc, url = _prism(node_bin, spec)
    env: list[str] = []
    for variable in variables:  # servers point at the mock, credentials get a placeholder
        key = str(variable.get("key", ""))
        if key.startswith("baseUrl"):
            env += ["--env-var", f"{key}={url}"]
        elif variable.get("value") in ("", None):
            env += ["--env-var", f"{key}={PLACEHOLDER}"]
    report = tmp / f"{spec.stem}.newman-report.json"
    try:
        subprocess.run(
            [str(node_bin / "newman"), "run", str(collection), *env, "--reporters", "json",
             "--reporter-json-export", str(report), "--silent"],
            capture_output=True, timeout=600, check=False,
        )  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    stats = json.loads(report.read_text())["run"]["stats"]
    return {
        "requests": stats["requests"]["total"],
        "failed_requests": stats["requests"]["failed"],
        "assertions": stats["assertions"]["total"],
        "failed_assertions": stats["assertions"]["failed"],
    }


def _newman_table(specs: list[Path], tmp: Path, node_bin: Path) -> bool:
    """Prints one row per spec; True when no request failed anywhere."""
    print("\nNewman (--tests collection) against prism mock of the same spec")
    print(f"  {'spec':36}{'requests':>9}{'failed':>8}{'assertions':>12}{'failed':>8}")
    clean = True
    for spec in specs:
        run = newman_run(spec, tmp, node_bin)
        clean = clean and run["failed_requests"] == 0
        print(
            f"  {spec.name:36}{run['requests']:>9}{run['failed_requests']:>8}"
            f"{run['assertions']:>12}{run['failed_assertions']:>8}"
        )
    print("  failed assertions are schema checks on prism's placeholders (e.g. PayPal's patterns)")
    return clean


def main() -> int:
    root = checkout_root() or Path.cwd()
    node_bin = root / "node_modules" / ".bin"
    theirs_cli = node_bin / "openapi2postmanv2"
    if not theirs_cli.exists():
        print(f"bench-postman: {theirs_cli} not found (run make setup)")
        return 2
    compile_package()
    newman_specs: list[Path] = []
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        if len(sys.argv) > 1:
            specs = [Path(arg) for arg in sys.argv[1:]]
        else:
            specs = list(write_large_spec(tmp / "spec"))
            print(f"generated spec: {count_operations(build_large_spec())} operations")
            shipped = root / "tests" / "fixtures" / "realspecs"
            newman_specs = sorted(
                p for p in shipped.glob("*") if any(n in p.name for n in NEWMAN_SHIPPED)
            )
            public = fetch_or_explain()
            if public is not None:
                specs.extend(public)
                newman_specs.extend(p for s, p in zip(SPECS, public, strict=True) if s.newman)
        for spec in specs:
            if not spec.exists():
                print(f"bench-postman: {spec} not found")
                return 2
        rows = [_compare(spec, tmp, theirs_cli) for spec in specs]
        newman_clean = _newman_table(newman_specs, tmp, node_bin) if newman_specs else True
    print(f"\ngoal: >= {GOAL_SPEED:.0f}x faster and <= {1 / GOAL_MEMORY:.1f}x the peak memory")
    for row in rows:
        met = row.speed >= GOAL_SPEED and row.memory >= GOAL_MEMORY
        print(
            f"  {row.name}: {row.speed:.2f}x faster, {1 / row.memory:.2f}x the memory: "
            f"{'met' if met else 'NOT met'}"
        )
    print(
        f"bound: convert --tests under {TESTS_WALL_S:.0f} s and {TESTS_MEMORY_MIB:.0f} MiB, no drift"
    )
    bounded = True
    for row in rows:
        held = row.tests_wall < TESTS_WALL_S and row.tests_mib < TESTS_MEMORY_MIB and not row.drifts
        bounded = bounded and held
        print(
            f"  {row.name}: {row.tests_wall:.2f} s, {row.tests_mib:.0f} MiB, {row.drifts} drift(s): "
            f"{'held' if held else 'NOT held'}"
        )
    return 0 if bounded and newman_clean else 1


if __name__ == "__main__":
    raise SystemExit(main())
