"""Write the docs: one self-contained HTML page and a Markdown version (with the SVG beside it)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..outputs import ensure_dir, write_text
from ..spec import ApiSpec
from ..templating import make_environment
from ..untrusted import visible
from .model import DocsModel


def docs_html(spec: ApiSpec, base_url: str | None = None) -> str:
    """The self-contained HTML page, its samples aimed at ``base_url``."""
    context = DocsModel(spec, base_url).context()
    return make_environment().get_template("docs/page.html.j2").render(**context)


def render_docs(
    spec: ApiSpec,
    out_dir: Path,
    formats: Iterable[str] = ("html", "md"),
    base_url: str | None = None,
) -> list[Path]:
    """Write ``index.html`` (self-contained) and/or ``api.md`` (with ``lifecycle.svg`` beside it)
    into ``out_dir``; returns the files written."""
    model = DocsModel(spec, base_url)
    context = model.context()
    env = make_environment()
    ensure_dir(out_dir, "the docs")
    written = []
    for fmt in formats:
        if fmt == "html":
            path = out_dir / "index.html"
            write_text(path, env.get_template("docs/page.html.j2").render(**context))
        elif fmt == "md":
            path = out_dir / "api.md"
            # Markdown is read raw in terminals and editors: a spec's control and bidi
            # characters are written visibly (\x1b, \u202e), as every report writes them.
            write_text(path, visible(env.get_template("docs/page.md.j2").render(**context)))
            if context["lifecycle"] is not None:
                svg = out_dir / "lifecycle.svg"
                write_text(svg, context["lifecycle"]["svg"] + "\n")
                written.append(svg)
        else:
            raise ValueError(f"unknown docs format {fmt!r}")
        written.append(path)
    return written
