"""``neuropay report``: render reports from a results file."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..results import RESULTS_SCHEMA, RunResults
from .writer import redact


@click.command("report")
@click.argument("results_file", required=False, type=click.Path(path_type=Path))
@click.option(
    "--html", "html_path", type=click.Path(path_type=Path), help="Write the HTML report here."
)
@click.option(
    "--md", "md_path", type=click.Path(path_type=Path), help="Write the Markdown summary here."
)
@click.option(
    "--junit", "junit_path", type=click.Path(path_type=Path), help="Write JUnit XML here."
)
@click.option("--schema", is_flag=True, help="Print the JSON Schema of results files and exit.")
def report_command(
    results_file: Path | None,
    html_path: Path | None,
    md_path: Path | None,
    junit_path: Path | None,
    schema: bool,
) -> int:
    """Render RESULTS_FILE (results.json of `neuropay test`) as HTML, Markdown and JUnit XML.

    With no output option, all three are written beside the results file. Exit 0 when the run was
    conformant, 1 when it found violations, 2 when the file is missing or malformed."""
    from .render import render_html, render_junit, render_markdown

    if schema:
        click.echo(json.dumps(RESULTS_SCHEMA, indent=2))
        return 0
    if results_file is None:
        raise click.UsageError("give a RESULTS_FILE (or --schema)")
    results = RunResults.read(results_file)
    targets = {"html": html_path, "md": md_path, "junit": junit_path}
    if not any(targets.values()):
        base = results_file.parent
        targets = {
            "html": base / "report.html",
            "md": base / "report.md",
            "junit": base / "junit.xml",
        }
    renderers = {"html": render_html, "md": render_markdown, "junit": render_junit}
    for fmt, path in targets.items():
        if path is None:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(redact(renderers[fmt](results)), encoding="utf-8")
        click.echo(f"wrote {path}")
    return 0 if results.verdict == "conformant" else 1
