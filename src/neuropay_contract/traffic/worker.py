"""The proxy's checks in a process of their own: the proxy's event loop only forwards and hands
each finished exchange over, so checking never holds up the traffic (and uses the other core)."""

from __future__ import annotations

import json
import multiprocessing
import queue
import signal
import sys
import time
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from .exchange import Exchange, redact_text

# Exchanges waiting to be checked; beyond this the proxy counts them as unchecked rather than
# hold more memory (the traffic itself is never held up).
MAX_PENDING = 20_000


def _run(
    spec_path: str | None,
    target: str,
    report_dir: str,
    record: str | None,
    quiet: bool,
    inbox: Any,
    outbox: Any,
    fail_under: float | None = None,
) -> None:
    # Ctrl-C and SIGTERM reach the whole process group: the proxy decides when checking ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from ..spec import load_spec
    from .checker import TrafficChecker
    from .cli import finish

    started = time.time()
    checker = TrafficChecker(load_spec(spec_path))
    recording = open(record, "a", encoding="utf-8") if record else None  # noqa: SIM115
    try:
        while True:
            item = inbox.get()
            if item is None:
                break
            exchange: Exchange = item
            findings = checker.check(exchange)
            if recording is not None:
                recording.write(json.dumps(exchange.to_record(), ensure_ascii=False) + "\n")
                recording.flush()
            if not quiet:
                for finding in findings:
                    stamp = time.strftime("%H:%M:%S")
                    print(f"{stamp} {redact_text(finding.line())}", file=sys.stderr, flush=True)
    finally:
        if recording is not None:
            recording.close()
    dropped = outbox.get()
    code = finish(
        checker,
        target,
        started,
        Path(report_dir),
        "proxy",
        unchecked=dropped,
        fail_under=fail_under,
    )
    outbox.put(code)


class CheckerProcess:
    """Feeds exchanges to the checking process; :meth:`finish` writes the reports there."""

    def __init__(
        self,
        spec_path: Path | None,
        target: str,
        report_dir: Path,
        record: Path | None,
        quiet: bool,
        fail_under: float | None = None,
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self.inbox = context.Queue(MAX_PENDING)
        self.outbox = context.Queue()
        self.dropped = 0
        self.process: BaseProcess = context.Process(
            target=_run,
            args=(
                str(spec_path) if spec_path else None,
                target,
                str(report_dir),
                str(record) if record else None,
                quiet,
                self.inbox,
                self.outbox,
                fail_under,
            ),
            daemon=True,
        )
        self.process.start()

    def submit(self, exchange: Exchange) -> None:
        try:
            self.inbox.put_nowait(exchange)
        except queue.Full:
            self.dropped += 1

    def finish(self) -> int:
        """Check what is still queued, write the reports; the exit code (2 if it failed)."""
        self.inbox.put(None)
        self.outbox.put(self.dropped)
        self.process.join()
        try:
            code: int = self.outbox.get(timeout=5)
        except queue.Empty:
            return 2
        return code
