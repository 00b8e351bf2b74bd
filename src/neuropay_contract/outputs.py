"""Writing the files the tools produce: each whole or not at all, and a path that cannot be
written (a directory, a file where a folder should be, a read-only place, ``/proc``) is one
:class:`~neuropay_contract.errors.UsageError` line, never a traceback or a half-written file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import UsageError

__all__ = ["ensure_dir", "write_bytes", "write_text"]


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def ensure_dir(path: Path, what: str = "the output") -> Path:
    """``path`` as a folder that exists (made with its parents if needed); ``what`` names what
    goes there, for the error."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UsageError(f"cannot write {what} to {path}: it is a file, not a folder") from None
    except OSError as exc:
        raise UsageError(f"cannot write {what} to {path}: {_reason(exc)}") from None
    return path


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` as UTF-8, atomically (see :func:`write_bytes`)."""
    return write_bytes(path, text.encode("utf-8"))


def write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically: into a temporary file beside it, then renamed over
    it, so a failure leaves whatever was there untouched."""
    if path.is_dir():
        raise UsageError(f"cannot write {path}: it is a folder; give a file name")
    ensure_dir(path.parent, path.name)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {_reason(exc)}") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, 0o644 & ~_umask())
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {_reason(exc)}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
