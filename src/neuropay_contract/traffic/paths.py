"""Which path of the spec a request's URL path is: exactly, through a template (``/pets/{petId}``),
and under a server's base path (a server ``https://api.example/v1`` serves ``/pets`` at
``/v1/pets``)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ..spec import ApiSpec


def base_paths(spec: ApiSpec) -> list[str]:
    """The path part of every server URL (top level and per path item), longest first, without
    a trailing slash; server variables stand for one path segment."""
    urls = [str(s.get("url", "")) for s in spec.servers]
    paths = spec.document.get("paths")
    for item in paths.values() if isinstance(paths, dict) else []:
        for server in item.get("servers") or [] if isinstance(item, dict) else []:
            if isinstance(server, dict):
                urls.append(str(server.get("url", "")))
    found: set[str] = set()
    for url in urls:
        path = urlsplit(url).path if "://" in url else url.split("?")[0]
        path = path.rstrip("/")
        if path and path.startswith("/"):
            found.add(path)
    return sorted(found, key=len, reverse=True)


def _template(path: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}/]+\})", path)
    return re.compile(
        "^" + "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$"
    )


class PathMatcher:
    """Resolves request paths to the spec's paths."""

    def __init__(self, spec: ApiSpec) -> None:
        self.paths = {op.path for op in spec.operations.values()}
        self.templates = [(_template(p), p) for p in sorted(self.paths) if "{" in p]
        self.bases = [_template(b) if "{" in b else b for b in base_paths(spec)]

    def _direct(self, path: str) -> str | None:
        if path in self.paths:
            return path
        for pattern, spec_path in self.templates:
            if pattern.match(path):
                return spec_path
        return None

    def spec_path(self, path: str) -> str | None:
        """The spec's path ``path`` is a request to, or None."""
        found = self._direct(path)
        if found is not None:
            return found
        for base in self.bases:
            if isinstance(base, str):
                rest = path[len(base) :] if path.startswith(base + "/") else None
            else:  # a base path with a server variable
                head = "/".join(path.split("/")[: base.pattern.count("/") + 1])
                rest = path[len(head) :] if base.match(head) else None
            if rest:
                found = self._direct(rest)
                if found is not None:
                    return found
        return None
