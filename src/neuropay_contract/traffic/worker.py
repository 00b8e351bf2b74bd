"""The proxy's checks in a process of their own: the proxy's event loop only forwards and hands
each finished exchange over, so checking never holds up the traffic (and uses the other core)."""

from __future__ import annotations

import json
import multiprocessing
import queue
import signal
import sys
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from ..errors import NeuropayError
from ..untrusted import visible
from .exchange import Exchange, redact_text

# Exchanges waiting to be checked; beyond this the proxy counts them as unchecked rather than
# hold more memory (the traffic itself is never held up).
MAX_PENDING = 20_000


# The reports of what was checked so far are rewritten at most this often (and never taking
# more than a tenth of the checking time): if the checking process dies (killed, out of memory),
# they are what was checked, marked as incomplete, and the proxy exits 2, never 0.
CHECKPOINT_SECONDS = 5.0
CHECKPOINT_NOTE = (
    "incomplete: the proxy was still running when these reports were written; the checking "
    "process ended before the final reports"
)


class _End:
    """The last item of the inbox: how many exchanges the proxy could not queue."""

    def __init__(self, dropped: int) -> None:
        self.dropped = dropped


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
    from ..reports.writer import write_reports
    from ..spec import load_spec
    from .checker import TrafficChecker
    from .cli import finish
    from .results import build_results

    started = time.time()
    checker = TrafficChecker(load_spec(spec_path))
    recording = open(record, "a", encoding="utf-8") if record else None  # noqa: SIM115
    failed = 0  # exchanges whose check raised: counted as unchecked, never the end of checking
    written, pause, dirty = 0.0, CHECKPOINT_SECONDS, False
    end: _End | None = None
    try:
        while end is None:
            try:
                item = inbox.get(timeout=pause if dirty else None)
            except queue.Empty:
                item = None
            if isinstance(item, _End):
                end = item
                break
            if item is not None:
                exchange: Exchange = item
                try:
                    findings = checker.check(exchange)
                except Exception as exc:
                    failed += 1
                    findings = []
                    print(
                        f"neuropay proxy: exchange #{exchange.index} could not be checked "
                        f"({type(exc).__name__}); it counts as not checked",
                        file=sys.stderr,
                        flush=True,
                    )
                dirty = True
                if recording is not None:
                    recording.write(json.dumps(exchange.to_record(), ensure_ascii=False) + "\n")
                    recording.flush()
                if not quiet:
                    for finding in findings:
                        stamp = time.strftime("%H:%M:%S")
                        line = visible(redact_text(finding.line()))
                        print(f"{stamp} {line}", file=sys.stderr, flush=True)
            if dirty and time.monotonic() - written >= pause:
                begun = time.monotonic()
                results = build_results(checker, target, started, "proxy", error=CHECKPOINT_NOTE)
                write_reports(results, Path(report_dir))
                written, dirty = time.monotonic(), False
                pause = max(CHECKPOINT_SECONDS, 10 * (written - begun))
    finally:
        if recording is not None:
            recording.close()
    code = finish(
        checker,
        target,
        started,
        Path(report_dir),
        "proxy",
        unchecked=end.dropped + failed,
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
        fallback: Callable[[str], None] | None = None,
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self.inbox = context.Queue(MAX_PENDING)
        self.outbox = context.Queue()
        self.dropped = 0
        self.submitted = 0
        self.report_dir = report_dir
        self.started = time.time()
        # Writes the reports (with the error as verdict) when the checking process died before
        # writing any: the proxy must leave reports behind either way.
        self.fallback = fallback
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
        self.submitted += 1
        try:
            self.inbox.put_nowait(exchange)
        except queue.Full:
            self.dropped += 1

    def finish(self) -> int:
        """Check what is still queued, write the reports; the exit code. Raises a one-line
        :class:`NeuropayError` (exit 2) when the checking process died: never a false green."""
        end = _End(self.dropped)
        while self.process.is_alive():
            try:
                self.inbox.put(end, timeout=0.5)
                break
            except queue.Full:
                continue
        self.process.join()
        try:
            code: int = self.outbox.get(timeout=5)
        except queue.Empty:
            pass
        else:
            return code
        how = self.process.exitcode
        cause = f"was killed by signal {-how}" if how is not None and how < 0 else f"exited ({how})"
        message = (
            f"the proxy's checking process {cause} before writing the final reports; "
            f"{self.submitted} exchange(s) were forwarded"
        )
        results = self.report_dir / "results.json"
        checkpointed = results.exists() and results.stat().st_mtime >= self.started
        if not checkpointed and self.fallback is not None:
            self.fallback(message)
        raise NeuropayError(f"{message}; {self.report_dir} holds the reports of what was checked")
