"""The sandbox's console: request lines written to stderr by a thread of their own.

Writing a line per request on the event loop made every request wait for stderr, and a reader
that stops reading (a full pipe) stopped the server. Lines now go through a bounded queue; when
it is full they are counted and the count is written once the writer catches up.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from typing import TextIO

QUEUE_LINES = 10_000


class Console:
    """Writes lines to ``stream`` off the caller's thread; :meth:`close` flushes what is queued."""

    def __init__(self, stream: TextIO | None = None, limit: int = QUEUE_LINES) -> None:
        self._stream = stream or sys.stderr
        self._lines: queue.Queue[str | None] = queue.Queue(maxsize=limit)
        self._dropped = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._write, name="neuropay-console", daemon=True)
        self._thread.start()

    def log(self, line: str) -> None:
        """Queue one request line, stamped with the time of day; never blocks."""
        try:
            self._lines.put_nowait(f"{time.strftime('%H:%M:%S')} {line}")
        except queue.Full:
            with self._lock:
                self._dropped += 1

    def _write(self) -> None:
        while (line := self._lines.get()) is not None:
            with self._lock:
                dropped, self._dropped = self._dropped, 0
            try:
                if dropped:
                    self._stream.write(f"neuropay mock: {dropped} request lines dropped\n")
                self._stream.write(line + "\n")
                if self._lines.empty():
                    self._stream.flush()
            except (OSError, ValueError):  # stderr closed: the server goes on without it
                return

    def close(self, timeout: float = 2.0) -> None:
        """Write what is queued (for at most ``timeout`` seconds) and stop."""
        try:
            self._lines.put(None, timeout=timeout)
        except queue.Full:
            return
        self._thread.join(timeout=timeout)
