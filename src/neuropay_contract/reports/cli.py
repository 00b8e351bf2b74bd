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


@click.command("merge")
@click.argument("shards", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--report-dir",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Where the merged results.json, report.html, report.md and junit.xml go.",
)
def merge_command(shards: tuple[Path, ...], report_dir: Path) -> int:
    """Merge the results of `neuropay test --shard K/N` runs (their report folders or
    results.json files) into the reports of one run: the same check ids and outcomes, summed
    counts, the union of coverage, root causes computed on the merged checks.

    Exit 0 conformant, 1 violations, 2 when the shards are not those of one run (different
    specs, seeds, profiles or targets, a shard missing or given twice)."""
    from ..contract.merge import merge_results, read_shards
    from .writer import write_reports

    merged = merge_results(read_shards(list(shards)))
    written = write_reports(merged, report_dir)
    counts = merged.counts()
    click.echo(
        f"merged {len(shards)} shards: {len(merged.checks)} checks ({counts['passed']} passed, "
        f"{counts['failed']} failed, {counts['blocked']} blocked, {counts['not_covered']} not "
        f"covered), {len(merged.root_causes)} root causes; reports in {written['html'].parent}"
    )
    return 0 if merged.verdict == "conformant" else 1


class _ReportCommand(click.Command):
    """`neuropay report RESULTS_FILE` renders one run; `neuropay report merge ...` merges shards
    (a results file named ``merge`` is still reachable as ``./merge``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] == "merge":
            ctx.meta["neuropay.merge"] = args[1:]
            return []
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> object:
        if "neuropay.merge" in ctx.meta:
            return merge_command.main(
                ctx.meta["neuropay.merge"],
                prog_name=f"{ctx.command_path} merge",
                standalone_mode=False,
            )
        return super().invoke(ctx)


@click.command("report", cls=_ReportCommand)
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
