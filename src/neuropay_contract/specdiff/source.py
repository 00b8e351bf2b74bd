"""Read one side of a diff: a file, or ``git:REF[:PATH]`` from the repository around the cwd."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .. import documents
from ..errors import SpecError
from .model import Document

DEFAULT_GIT_PATH = "spec/openapi.yaml"


def load_document(source: str, cwd: Path | None = None, positions: bool = False) -> Document:
    """Parse ``source`` (a path or ``git:REF[:PATH]``) into a checked OpenAPI document;
    ``positions`` also records each node's line (for annotations on the file)."""
    if source.startswith("git:"):
        text = _git_text(source, cwd or Path.cwd())
    else:
        try:
            text = documents.read_text(Path(source), "spec file")
        except documents.DocumentError as exc:
            raise SpecError(str(exc)) from None
    return parse_document(text, source, positions)


def parse_document(text: str, source: str, positions: bool = False) -> Document:
    """Parse YAML or JSON text (safely: depth and alias limits) and check it is OpenAPI 3.x."""
    content, lines = documents.parse_document(text, source, positions)
    if not isinstance(content, dict) or "openapi" not in content:
        raise SpecError(f"{source} is not an OpenAPI document (no 'openapi' field)")
    version = str(content.get("openapi"))
    if not version.startswith("3."):
        raise SpecError(f"{source} is OpenAPI {version}; spec diff reads OpenAPI 3.0 and 3.1")
    return Document(source, content, lines)


def _git_text(source: str, cwd: Path) -> str:
    spec = source[len("git:") :]
    ref, _, path = spec.partition(":")
    if not ref:
        raise SpecError(f"{source}: give a git revision, e.g. git:origin/main[:{DEFAULT_GIT_PATH}]")
    path = path or DEFAULT_GIT_PATH
    try:
        top = _git(["rev-parse", "--show-toplevel"], cwd).strip()
        # A path relative to the cwd, as people type it, becomes relative to the repository.
        relative = Path(cwd.resolve(), path).resolve().relative_to(Path(top).resolve())
        commit = _commit_of(ref, source, Path(top))
        return _git(["show", f"{commit}:{relative.as_posix()}"], Path(top))
    except ValueError:
        raise SpecError(f"{source}: {path} is outside the git repository") from None


def _commit_of(ref: str, source: str, top: Path) -> str:
    """The commit ``ref`` names, resolved with options ended first: a ref is never read as an
    option (``--output=FILE`` would write a file), whatever it holds."""
    if ref.startswith("-") or any(ord(c) < 0x20 or c == "\x7f" for c in ref):
        raise SpecError(f"{source}: {ref!r} is not a git revision")
    try:
        found = _git(
            ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"], top
        )
    except SpecError:
        raise SpecError(f"{source}: {ref!r} names no commit in this repository") from None
    return found.strip()


def _git(args: list[str], cwd: Path) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
        )
    except FileNotFoundError:
        raise SpecError("git is not installed; pass spec files instead of git: sources") from None
    except subprocess.TimeoutExpired:
        raise SpecError(f"git {' '.join(args)} did not finish in 60 s") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        detail = lines[0].removeprefix("fatal: ") if lines else f"exit {done.returncode}"
        raise SpecError(f"git {' '.join(args)}: {detail}")
    return done.stdout
