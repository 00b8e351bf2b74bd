"""Run the `neuropay` command as a user would, in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys

NEUROPAY = [sys.executable, "-m", "neuropay_contract"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*NEUROPAY, *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )
