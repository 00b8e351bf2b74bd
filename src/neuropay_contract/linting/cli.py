"""``neuropay spec``: lint the spec and list the linter's rules."""

from __future__ import annotations

import time
from pathlib import Path

import click

from .._resources import default_spec_path
from ..errors import EXIT_OK, EXIT_VIOLATIONS
from ..project_config import read_project_config, read_project_config_file
from ..specdiff.cli import diff_command
from .output import FORMATS, render_lint
from .rules import LEVELS, SEVERITIES, lint_spec, summaries
from .ruleset import read_ruleset


@click.group("spec")
def spec_group() -> None:
    """Lint and inspect the OpenAPI spec."""


@spec_group.command("lint")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
    help="text for terminals, json for tools, sarif for code scanning, junit for test reports, "
    "github for GitHub Actions annotations.",
)  # fmt: skip
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
@click.option(
    "--config", "config_file", type=click.Path(path_type=Path),
    help="The ruleset's file (a pyproject.toml, or a TOML file with a [lint] table); default: "
    "neuropay.toml, then pyproject.toml, of the working directory.",
)  # fmt: skip
def lint_command(
    path: Path | None, fmt: str, fail_on: str, allow_local_refs: bool, config_file: Path | None
) -> int:
    """Validate PATH (default: the bundled spec) with openapi-spec-validator, then the project's
    rules (`neuropay spec rules`), each finding with a severity (error, warning, info). The
    ruleset in [tool.neuropay.lint] of pyproject.toml (or [lint] of neuropay.toml) turns rules
    off or changes their severity. External $refs are reported, never fetched. Exit 0 when
    nothing reaches --fail-on, 1 when something does, 2 unreadable file or configuration."""
    config = (
        read_project_config_file("lint", config_file)
        if config_file
        else read_project_config("lint")
    )
    ruleset = read_ruleset(config, SEVERITIES)
    started = time.perf_counter()
    report = lint_spec(
        path or default_spec_path(), allow_local_refs=allow_local_refs, ruleset=ruleset
    )
    click.echo(render_lint(report, fmt, fail_on, time.perf_counter() - started))
    return EXIT_VIOLATIONS if report.fails(fail_on) else EXIT_OK


@spec_group.command("rules")
def rules_command() -> None:
    """List the linter's rules with their severities."""
    for rule_id, summary in summaries().items():
        click.echo(f"{rule_id}  {SEVERITIES[rule_id]:<8} {summary}")


spec_group.add_command(diff_command)
