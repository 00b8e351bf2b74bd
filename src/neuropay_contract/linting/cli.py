"""``neuropay spec``: lint the spec and list the linter's rules."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .._resources import default_spec_path
from ..errors import EXIT_OK, EXIT_VIOLATIONS
from ..specdiff.cli import diff_command
from .rules import RULES, lint_spec


@click.group("spec")
def spec_group() -> None:
    """Lint and inspect the OpenAPI spec."""


@spec_group.command("lint")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def lint_command(path: Path | None, fmt: str) -> int:
    """Validate PATH (default: the bundled spec) with openapi-spec-validator, then the project's
    rules (`neuropay spec rules`). Exit 0 clean, 1 findings, 2 unreadable file."""
    report = lint_spec(path or default_spec_path())
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
            click.echo(f"{report.path}:{f.line or 1}: {f.rule} {f.pointer}: {f.message}")
        rules = len(RULES) + 1
        if report.clean:
            click.echo(f"{report.path}: clean ({rules} rules)")
        else:
            click.echo(f"{report.path}: {len(report.findings)} finding(s)")
    return EXIT_OK if report.clean else EXIT_VIOLATIONS


@spec_group.command("rules")
def rules_command() -> None:
    """List the linter's rules."""
    click.echo("NP000  openapi-spec-validator accepts the document (OpenAPI 3.0 or 3.1)")
    for rule_id, (summary, _fn) in RULES.items():
        click.echo(f"{rule_id}  {summary}")


spec_group.add_command(diff_command)
