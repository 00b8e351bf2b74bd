"""The linter's external ``$ref`` policy: an untrusted spec never makes it read a file or reach the
network.

By default no external ``$ref`` is followed: each one becomes a finding naming the ref, and the
node is replaced by ``{}`` so the validator and the rules see no reference they could resolve. With
``allow_local`` a ref to a relative file inside the spec's own folder is read (through the safe
document loader) and inlined; URLs, absolute paths, ``..`` escapes, symlinks leading outside and
anything but a regular file stay refused. A message never quotes a referenced file's content."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ..documents import DocumentError, escape_pointer, parse_document, read_text

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_CHAIN = 32  # refs followed from one node before giving up (cycles are caught before that)


@dataclass(frozen=True)
class RefProblem:
    """An external ``$ref`` that was not followed, at ``pointer`` of the spec."""

    pointer: str
    ref: str
    reason: str


def is_external(ref: str) -> bool:
    return not ref.startswith("#")


@dataclass
class _Bundler:
    root: Path
    allow_local: bool
    problems: list[RefProblem] = field(default_factory=list)
    files: dict[Path, Any] = field(default_factory=dict)

    def refuse(self, pointer: str, ref: str, reason: str) -> dict[str, Any]:
        self.problems.append(RefProblem(pointer, ref, reason))
        return {}

    def target_file(self, ref: str, base: Path) -> tuple[Path | None, str]:
        """The file an external ref names, or None and why it is refused."""
        parts = urlsplit(ref)
        if parts.scheme or parts.netloc:
            return None, f"{parts.scheme or 'network'} references are never followed"
        if not self.allow_local:
            return (
                None,
                "external references are not followed (--allow-local-refs reads files in the spec's folder)",
            )
        relative = unquote(parts.path)
        if not relative or relative.startswith(("/", "\\")) or Path(relative).is_absolute():
            return None, "absolute paths are never followed"
        try:
            target = (base / relative).resolve(strict=True)
        except (OSError, RuntimeError):
            return None, "the file does not exist"
        if not target.is_relative_to(self.root):
            return None, "the file is outside the spec's folder"
        if not target.is_file():
            return None, "not a regular file"
        if target.stat().st_size > MAX_FILE_BYTES:
            return None, f"the file is larger than {MAX_FILE_BYTES // 1024 // 1024} MiB"
        return target, ""

    def load(self, target: Path) -> Any:
        if target not in self.files:
            text = read_text(target, "referenced file")
            self.files[target] = parse_document(text, f"referenced file {target.name}")[0]
        return self.files[target]

    def inline(self, node: Any, file: Path | None, pointer: str, chain: tuple[str, ...]) -> Any:
        """``node`` with external refs inlined or refused. ``file`` is None for the spec itself,
        where local refs stay as they are; inside another file they are inlined too."""
        if isinstance(node, list):
            return [self.inline(v, file, f"{pointer}/{i}", chain) for i, v in enumerate(node)]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and (file is not None or is_external(ref)):
            return self.follow(ref, file, pointer, chain)
        return {
            k: self.inline(v, file, f"{pointer}/{escape_pointer(str(k))}", chain)
            for k, v in node.items()
        }

    def follow(self, ref: str, file: Path | None, pointer: str, chain: tuple[str, ...]) -> Any:
        location, _, fragment = ref.partition("#")
        base = file.parent if file is not None else self.root
        if location:
            target, reason = self.target_file(location, base)
            if target is None:
                return self.refuse(pointer, ref, reason)
        else:
            assert file is not None
            target = file
        key = f"{target}#{fragment}"
        if key in chain or len(chain) >= MAX_CHAIN:
            return self.refuse(pointer, ref, "a reference cycle through external files")
        try:
            document = self.load(target)
        except DocumentError as exc:
            return self.refuse(pointer, ref, str(exc).replace(str(target), target.name))
        value = document
        for token in [t for t in unquote(fragment).split("/") if t]:
            token = token.replace("~1", "/").replace("~0", "~")
            try:
                value = value[int(token)] if isinstance(value, list) else value[token]
            except (KeyError, IndexError, ValueError, TypeError):
                return self.refuse(pointer, ref, f"#{fragment} points at nothing in {target.name}")
        return self.inline(value, target, pointer, (*chain, key))


def isolate(document: Any, spec_path: Path, allow_local: bool) -> tuple[Any, list[RefProblem]]:
    """A copy of ``document`` without external refs (inlined when allowed, else ``{}``) and the
    refs that were not followed."""
    bundler = _Bundler(spec_path.resolve().parent, allow_local)
    if not any(True for _ in _external_refs(document)):
        return document, []
    return bundler.inline(document, None, "#", ()), bundler.problems


def _external_refs(node: Any) -> Iterator[str]:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and is_external(ref):
                yield ref
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
