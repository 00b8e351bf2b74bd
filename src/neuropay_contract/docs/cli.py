"""``neuropay docs``: developer docs from the spec."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import click

from ..errors import UsageError
from ..spec import load_spec
from .render import render_docs


@click.command("docs")
@click.option(
    "--spec",
    type=click.Path(path_type=Path),
    default=None,
    help="Spec to document (default: the bundled one).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("reports/docs"),
    show_default=True,
    help="Output folder.",
)
@click.option(
    "--format", "formats", default="html,md", show_default=True, help="Comma-separated: html, md."
)
@click.option(
    "--base-url",
    default=None,
    help="Base URL the code samples call (default: the spec's loopback server, else its first).",
)
def docs_command(spec: Path | None, out: Path, formats: str, base_url: str | None) -> int:
    """Generate an offline, self-contained HTML reference and a Markdown version of any OpenAPI 3.0
    or 3.1 document: overview, authentication, errors, the lifecycle diagram and matrix, every
    operation with fields, examples, errors and curl / Python / JavaScript samples, and search."""
    chosen = [f.strip() for f in formats.split(",") if f.strip()]
    unknown = set(chosen) - {"html", "md"}
    if unknown or not chosen:
        raise UsageError(
            f"--format takes html and/or md, not {','.join(sorted(unknown)) or 'nothing'}"
        )
    if base_url is not None and urlsplit(base_url).scheme not in ("http", "https"):
        raise UsageError(
            f"--base-url must be an http(s) URL such as http://127.0.0.1:8080, not {base_url!r}"
        )
    from ..linting.validator import STRUCTURE_ERRORS, structure_error

    loaded = load_spec(spec)
    try:
        written = render_docs(loaded, out, chosen, base_url)
    except STRUCTURE_ERRORS:
        raise structure_error(loaded.document, str(spec or loaded.path)) from None
    except OSError as exc:
        raise UsageError(
            f"cannot write the docs into {out}: {exc.strerror or exc}; pick another --out"
        ) from None
    for path in written:
        click.echo(f"wrote {path}")
    return 0
