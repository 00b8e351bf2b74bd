"""Read one side of a diff: a file, or ``git:REF[:PATH]`` from the repository around the cwd."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

from ..errors import SpecError
from .model import Document

DEFAULT_GIT_PATH = "spec/openapi.yaml"
# Deeper than any real spec; a document past it is a depth bomb, refused before it is walked.
MAX_DEPTH = 128
_YAML_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_document(source: str, cwd: Path | None = None) -> Document:
    """Parse ``source`` (a path or ``git:REF[:PATH]``) into a checked OpenAPI document."""
    if source.startswith("git:"):
        text = _git_text(source, cwd or Path.cwd())
    else:
        path = Path(source)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SpecError(f"{source} does not exist") from None
        except IsADirectoryError:
            raise SpecError(f"{source} is a directory, not a spec file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError(f"cannot read {source}: {exc}") from None
    return parse_document(text, source)


def parse_document(text: str, source: str) -> Document:
    """Parse YAML or JSON text and check it is an OpenAPI 3.x document of sane depth."""
    try:
        content: Any = None
        if text.lstrip().startswith("{"):
            try:
                content = json.loads(text)  # far faster than YAML on big documents
            except ValueError:
                content = None
        if content is None:
            content = yaml.load(text, Loader=_YAML_LOADER)
    except RecursionError:
        raise SpecError(f"{source} is nested too deeply to read (a depth bomb?)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SpecError(f"{source} is not valid YAML or JSON{where}") from None
    if not isinstance(content, dict) or "openapi" not in content:
        raise SpecError(f"{source} is not an OpenAPI document (no 'openapi' field)")
    version = str(content.get("openapi"))
    if not version.startswith("3."):
        raise SpecError(f"{source} is OpenAPI {version}; spec diff reads OpenAPI 3.0 and 3.1")
    _check_depth(content, source)
    return Document(source, content)


def _check_depth(root: Any, source: str) -> None:
    """Refuse documents nested deeper than MAX_DEPTH (iteratively: no recursion to blow)."""
    stack: list[tuple[Any, int]] = [(root, 0)]
    seen: set[int] = set()  # YAML anchors share nodes: visit each container once
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise SpecError(f"{source} is nested deeper than {MAX_DEPTH} levels (a depth bomb?)")
        if isinstance(node, dict | list):
            if id(node) in seen:
                continue
            seen.add(id(node))
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)


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
        return _git(["show", f"{ref}:{relative.as_posix()}"], Path(top))
    except ValueError:
        raise SpecError(f"{source}: {path} is outside the git repository") from None


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
