"""Run Locust on the journeys in processes of its own and gather what they found.

This module never imports Locust (it patches the standard library with gevent on import): the
load runs in ``python -m locust -f load/locustfile.py``, started here in a session of its own so
that Ctrl-C reaches this process only; it forwards one SIGINT to Locust, which stops the users,
lets each process read back its checkouts and hand its part over, and writes its reports."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ..errors import NeuropayError, TargetError
from ..spec import ApiSpec
from .config import LoadConfig

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
PARTS = "parts"
_TIMESPAN = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_run_time(text: str) -> int:
    """``60``, ``60s``, ``1m30s``, ``2h`` (Locust's forms) into seconds; ValueError otherwise."""
    text = text.strip()
    if text.isdigit():
        seconds = int(text)
    else:
        match = _TIMESPAN.match(text)
        if not text or match is None or not any(match.groups()):
            raise ValueError(f"{text!r} is not a duration (60, 60s, 2m, 1h30m)")
        h, m, s = (int(g or 0) for g in match.groups())
        seconds = h * 3600 + m * 60 + s
    if seconds < 1:
        raise ValueError("the run time must be at least 1 second")
    return seconds


def preflight(spec: ApiSpec, target: str, key: str, timeout: float = 10.0) -> None:
    """Exit 2 before any load when the target does not answer or refuses the key: one read of a
    checkout that does not exist must be a 404, not a 401."""
    lc = spec.require_lifecycle()
    retrieve = next((o for o in lc.unrestricted if o.startswith("retrieve")), None)
    if retrieve is None:
        return
    op = spec.operation(retrieve)
    try:
        response = httpx.request(
            op.method,
            f"{target.rstrip('/')}{op.path}",
            json={"checkout_id": "0" * 32},
            headers={"Authorization": f"Bearer {key}"},
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        raise TargetError(f"the target {target} does not answer: {type(exc).__name__}") from None
    if response.status_code in (401, 403):
        raise TargetError(
            f"the target {target} refuses the API key (HTTP {response.status_code}): "
            "check --api-key / $NEUROPAY_API_KEY"
        )


@dataclass
class LocustRun:
    """The Locust command line of one ``neuropay load`` invocation."""

    target: str
    users: int
    spawn_rate: float
    run_time: int
    report_dir: Path
    processes: int = 1
    ui: bool = False
    ui_port: int = 8089
    master: bool = False
    expect_workers: int = 1
    master_bind_host: str = "127.0.0.1"
    master_port: int = 5557
    worker: bool = False
    master_host: str = "127.0.0.1"
    extra_env: dict[str, str] = field(default_factory=dict)

    def argv(self, config_path: Path) -> list[str]:
        args = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--host", self.target]
        args += ["--loglevel", "WARNING", "--exit-code-on-error", "0", "--stop-timeout", "0"]
        if self.worker:
            return [
                *args,
                "--worker",
                "--master-host",
                self.master_host,
                "--master-port",
                str(self.master_port),
            ]
        args += ["-u", str(self.users), "-r", str(self.spawn_rate), "-t", f"{self.run_time}s"]
        args += [
            "--csv",
            str(self.report_dir / "locust"),
            "--html",
            str(self.report_dir / "locust.html"),
        ]
        args += ["--only-summary"]
        if self.ui:
            args += ["--web-host", "127.0.0.1", "--web-port", str(self.ui_port), "--autostart"]
            args += ["--autoquit", "0"]
        else:
            args += ["--headless"]
        if self.master:
            args += ["--master", "--expect-workers", str(self.expect_workers)]
            args += ["--master-bind-host", self.master_bind_host]
            args += ["--master-bind-port", str(self.master_port)]
        elif self.processes > 1:
            args += ["--processes", str(self.processes)]
        return args


def run_locust(
    run: LocustRun, config: LoadConfig, keys: dict[str, str], quiet: bool = False
) -> tuple[int, bool]:
    """Run Locust until it ends; (its exit code, whether the run was interrupted)."""
    run.report_dir.mkdir(parents=True, exist_ok=True)
    parts = Path(config.parts_dir)
    if not run.worker:
        shutil.rmtree(parts, ignore_errors=True)
        parts.mkdir(parents=True, exist_ok=True)
    config_path = run.report_dir / ".load-config.json"
    config.write(config_path)
    env = {**os.environ, **keys, **run.extra_env, "NEUROPAY_LOAD_CONFIG": str(config_path)}
    env.pop("PYTHONWARNINGS", None)
    out = subprocess.DEVNULL if quiet else None
    # A session of its own: the terminal's Ctrl-C reaches this process only, which forwards one
    # SIGINT to Locust's main process (its workers then stop in order, through the master).
    process = subprocess.Popen(
        run.argv(config_path), env=env, start_new_session=True, stdout=out, stderr=out
    )
    interrupted: list[int] = []

    def forward(number: int, frame: Any) -> None:
        if not interrupted:
            process.send_signal(signal.SIGINT)
        interrupted.append(number)
        if len(interrupted) > 2:  # asked three times: stop at once
            process.kill()

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while True:
            try:
                code = process.wait()
                break
            except KeyboardInterrupt:  # pragma: no cover - the handler above takes SIGINT
                continue
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if process.poll() is None:
            process.kill()
            process.wait()
    config_path.unlink(missing_ok=True)
    return code, bool(interrupted)


@dataclass
class Gathered:
    """What the Locust processes left in the parts folder."""

    parts: list[dict[str, Any]]
    stats: dict[str, Any] | None
    expected_workers: int | None
    received_workers: int | None

    @property
    def missing_parts(self) -> int:
        if self.expected_workers is None:
            return 0 if self.parts else 1
        return max(0, self.expected_workers - len(self.parts))


def gather(parts_dir: Path) -> Gathered:
    def read(path: Path) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    parts = [p for p in (read(f) for f in sorted(parts_dir.glob("part-*.json"))) if p]
    stats = read(parts_dir / "stats.json") if (parts_dir / "stats.json").exists() else None
    expected = read(parts_dir / "expected.json") if (parts_dir / "expected.json").exists() else None
    return Gathered(
        parts,
        stats,
        expected.get("workers") if isinstance(expected, dict) else None,
        expected.get("received") if isinstance(expected, dict) else None,
    )


def wait_for(path: Path, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists():
            return True
        time.sleep(0.1)
    return path.exists()


def option_problems(
    users: int, spawn_rate: float, processes: int, worker: bool, master: bool, ui: bool
) -> Sequence[str]:
    problems = []
    if users < 1:
        problems.append("--users must be at least 1")
    if spawn_rate <= 0:
        problems.append("--spawn-rate must be positive")
    if processes < 1:
        problems.append("--processes must be at least 1")
    if worker and master:
        problems.append("--worker and --master exclude each other")
    if processes > 1 and (worker or master):
        problems.append("--processes runs its own master: not with --master or --worker")
    if ui and worker:
        problems.append("--ui is the master's: not with --worker")
    return problems


def require(condition: bool, message: str) -> None:
    if not condition:
        raise NeuropayError(message)
