"""`make fuzz`: a long plain-schemathesis run (its default checks) against the reference server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ..server import start_server


def run_plain_schemathesis(
    max_examples: int, seed: int | None = None, extra: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`st run` against a fresh reference server on loopback; output with the key redacted."""
    st = Path(sys.executable).with_name("st")
    with start_server() as server:
        command = [
            str(st),
            "run",
            f"{server.url}/openapi.json",
            "-H",
            f"Authorization: Bearer {server.test_key}",
            "--max-examples",
            str(max_examples),
            *(["--seed", str(seed)] if seed is not None else []),
            *(extra or []),
        ]
        proc = subprocess.run(
            command, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"}
        )
        for key in (k.key for k in server.keys):
            proc.stdout = proc.stdout.replace(key, "$NEUROPAY_API_KEY")
            proc.stderr = proc.stderr.replace(key, "$NEUROPAY_API_KEY")
        return proc


def main() -> int:
    examples = int(os.environ.get("FUZZ_EXAMPLES", "500"))
    proc = run_plain_schemathesis(examples)
    print(proc.stdout[-6000:])
    return proc.returncode


if __name__ == "__main__":
    raise SystemExit(main())
