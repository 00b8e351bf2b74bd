"""``neuropay report``: render reports from a results file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click

from ..outputs import write_text
from ..results import RESULTS_SCHEMA, RunResults
from .formats import FORMATS
from .writer import redact


def _format_options(command: Callable[..., int]) -> Callable[..., int]:
    """One ``--<format> PATH`` option per format rendered from a results file."""
    for report in reversed([f for f in FORMATS.values() if f.from_results]):
        command = click.option(
            f"--{report.name}",
            f"{report.name}_path",
            type=click.Path(path_type=Path),
            help=f"Write {report.description} here.",
        )(command)
    return command


@click.command("report")
@click.argument("results_file", required=False, type=click.Path(path_type=Path))
@_format_options
@click.option("--schema", is_flag=True, help="Print the JSON Schema of results files and exit.")
def report_command(results_file: Path | None, schema: bool, **paths: Path | None) -> int:
    """Render RESULTS_FILE (results.json of `neuropay test`) as HTML, Markdown and JUnit XML.

    With no output option, all of them are written beside the results file. Exit 0 when the run
    was conformant, 1 when it found violations, 2 when the file is missing or malformed.

    `neuropay report merge DIR... --report-dir OUT` merges the results of `neuropay test
    --shard K/N` runs into one run's reports (see `neuropay report merge --help`)."""
    if schema:
        click.echo(json.dumps(RESULTS_SCHEMA, indent=2))
        return 0
    if results_file is None:
        raise click.UsageError("give a RESULTS_FILE (or --schema)")
    results = RunResults.read(results_file)
    renderable = [f for f in FORMATS.values() if f.from_results]
    targets = {f.name: paths.get(f"{f.name}_path") for f in renderable}
    if not any(targets.values()):
        targets = {f.name: results_file.parent / f.file_name for f in renderable}
    for fmt, path in targets.items():
        if path is None:
            continue
        write_text(path, redact(FORMATS[fmt].render(results)))
        click.echo(f"wrote {path}")
    return 0 if results.verdict == "conformant" else 1
