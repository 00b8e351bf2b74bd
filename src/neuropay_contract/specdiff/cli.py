"""``neuropay spec diff``: classify the changes between two versions of an OpenAPI spec."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ..errors import EXIT_OK, EXIT_VIOLATIONS, UsageError
from .accept import apply_acceptances, read_accept_file
from .differ import diff_documents
from .gate import major_bumped
from .model import Severity, Side
from .render import CI_FORMATS, FORMATS, REPORT_SCHEMA_PATH, render, render_rules
from .rules import RULES
from .source import load_document


@click.command("diff")
@click.argument("old", required=False)
@click.argument("new", required=False)
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
    help="text for terminals, md for PR comments, json for tools (see --json-schema), sarif for "
    "code scanning, junit for test reports (a test case per rule), github for annotations.",
)  # fmt: skip
@click.option(
    "--fail-on", type=click.Choice(["breaking", "warning", "never"]), default="breaking",
    show_default=True, help="Exit 1 on breaking changes, on warnings too, or never (report only).",
)  # fmt: skip
@click.option(
    "--side", type=click.Choice(["client", "server", "both"]), default="both", show_default=True,
    help="Only changes that affect clients calling the API, servers implementing it, or all.",
)  # fmt: skip
@click.option(
    "--allow-major-bump", is_flag=True,
    help="Breaking changes pass (exit 0) when info.version's major version changed too.",
)  # fmt: skip
@click.option(
    "--accept", "accept_file", type=click.Path(path_type=Path),
    help="A reviewed list of known changes (lines 'RULE' or 'RULE #/pointer') that do not count.",
)  # fmt: skip
@click.option("--rules", "show_rules", is_flag=True, help="Print the rule table and exit.")
@click.option("--json-schema", is_flag=True, help="Print the JSON schema of --format json.")
def diff_command(
    old: str | None,
    new: str | None,
    fmt: str,
    fail_on: str,
    side: str,
    allow_major_bump: bool,
    accept_file: Path | None,
    show_rules: bool,
    json_schema: bool,
) -> int:
    """Classify every change from OLD to NEW as breaking, warning or safe, for clients, servers or
    both, following $refs and the x-lifecycle, x-test-mode, x-idempotency, x-limits and
    x-error-codes extensions.

    OLD and NEW are spec files or git:REF[:PATH] (PATH defaults to spec/openapi.yaml), e.g.
    `neuropay spec diff git:origin/main spec/openapi.yaml`. Exit 0 no breaking change, 1 breaking
    changes (or warnings with --fail-on warning), 2 could not compare.
    """
    if json_schema:
        click.echo(REPORT_SCHEMA_PATH.read_text(encoding="utf-8").rstrip())
        return EXIT_OK
    wanted = Side(side)
    concerned = [r for r in RULES.values() if r.side.concerns(wanted)]
    if show_rules:
        click.echo(render_rules(concerned, fmt if fmt in ("md", "json") else "text"))
        return EXIT_OK
    if old is None or new is None:
        raise UsageError("spec diff needs OLD and NEW (files or git:REF[:PATH]); see --help")
    cwd = Path.cwd()
    accepted = read_accept_file(accept_file) if accept_file else []
    lines = fmt in CI_FORMATS
    started = time.perf_counter()
    report = diff_documents(load_document(old, cwd, lines), load_document(new, cwd, lines))
    report = apply_acceptances(report, accepted).filtered(wanted)
    worst = report.worst()
    bump_accepted = allow_major_bump and major_bumped(report) and worst is Severity.BREAKING
    fail_rank = None if fail_on == "never" or bump_accepted else Severity(fail_on).rank
    click.echo(render(report, fmt, concerned, fail_rank, time.perf_counter() - started))
    if fail_on == "never":
        return EXIT_OK
    if bump_accepted:
        click.echo(
            f"breaking changes accepted: info.version {report.old.version} -> "
            f"{report.new.version} is a new major version",
            err=True,
        )
        return EXIT_OK
    threshold = Severity(fail_on).rank
    return EXIT_VIOLATIONS if worst is not None and worst.rank >= threshold else EXIT_OK
