"""``neuropay spec``: lint the spec and list the linter's rules."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .._resources import default_spec_path
from ..errors import EXIT_OK, EXIT_VIOLATIONS
from ..specdiff.cli import diff_command
from .rules import LEVELS, RULES, SEVERITIES, lint_spec


@click.group("spec")
def spec_group() -> None:
    """Lint and inspect the OpenAPI spec."""


@spec_group.command("lint")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "--fail-on",
    type=click.Choice(list(LEVELS)),
    default="warning",
    show_default=True,
    help="Exit 1 when a finding has this severity or a higher one.",
)
@click.option(
    "--allow-local-refs",
    is_flag=True,
    help="Inline external $refs to relative files inside the spec's folder (never URLs, never "
    "files outside the folder). Without it no external $ref is followed.",
)
def lint_command(path: Path | None, fmt: str, fail_on: str, allow_local_refs: bool) -> int:
    """Validate PATH (default: the bundled spec) with openapi-spec-validator, then the project's
    rules (`neuropay spec rules`), each finding with a severity (error, warning, info). External
    $refs are reported, never fetched. Exit 0 when nothing reaches --fail-on, 1 when something
    does, 2 unreadable file."""
    report = lint_spec(path or default_spec_path(), allow_local_refs=allow_local_refs)
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "path": str(report.path),
                    "findings": [f.__dict__ for f in report.findings],
                },
                indent=2,
            )
        )
    else:
        for f in report.findings:
            click.echo(
                f"{report.path}:{f.line or 1}: {f.severity} {f.rule} {f.pointer}: {f.message}"
            )
        rules = len(RULES) + 2  # NP000 and NP012 run outside RULES
        if report.clean:
            click.echo(f"{report.path}: clean ({rules} rules)")
        else:
            counts = ", ".join(
                f"{n} {level}{'s' if n != 1 and level != 'info' else ''}"
                for level in reversed(LEVELS)
                for n in [report.count(level)]
            )
            click.echo(f"{report.path}: {len(report.findings)} finding(s): {counts}")
    return EXIT_VIOLATIONS if report.fails(fail_on) else EXIT_OK


@spec_group.command("rules")
def rules_command() -> None:
    """List the linter's rules with their severities."""
    click.echo("NP000  error    openapi-spec-validator accepts the document (OpenAPI 3.0 or 3.1)")
    for rule_id, (summary, _fn) in RULES.items():
        click.echo(f"{rule_id}  {SEVERITIES[rule_id]:<8} {summary}")
    click.echo("NP012  error    no external $ref is followed (files only with --allow-local-refs)")


spec_group.add_command(diff_command)
