"""``neuropay audit``: the proxy's checks on recorded traffic (HAR or ``--record`` JSON lines)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from ..cli_options import report_dir_option, spec_option
from ..contract.rules import list_rules_option, traffic_rules_text
from ..coverage import FAIL_UNDER_HELP
from ..spec import load_spec
from ..untrusted import visible
from .checker import TrafficChecker
from .cli import finish
from .exchange import KeyLabels, read_traffic


def audit_file(traffic: Path, spec_path: Path | None) -> TrafficChecker:
    """Check every exchange of a traffic file; raises NeuropayError when it cannot be read."""
    spec = load_spec(spec_path)
    prefixes = spec.test_mode.key_prefixes if spec.test_mode else None
    exchanges = read_traffic(traffic, KeyLabels(prefixes))
    checker = TrafficChecker(spec)
    for exchange in exchanges:
        checker.check(exchange)
    return checker


@click.command("audit")
@list_rules_option(traffic_rules_text)
@click.argument("traffic", type=click.Path(path_type=Path, dir_okay=False))
@spec_option
@report_dir_option("reports", "Where results.json, junit.xml, report.md and report.html go.")
@click.option("--quiet", is_flag=True, help="No line per finding, only the summary.")
@click.option(
    "--fail-under", type=click.FloatRange(0, 100), default=None, metavar="PCT", help=FAIL_UNDER_HELP
)
def audit_command(
    traffic: Path, spec_path: Path | None, report_dir: Path, quiet: bool, fail_under: float | None
) -> int:
    """Check recorded traffic (a HAR file, or `neuropay proxy --record` JSON lines) against the
    spec: each request and answer, and every object across the exchanges (lifecycle, money,
    idempotency, isolation). Keys and key-shaped values never reach the reports.

    Exit 0 no finding, 1 findings, 2 could not read the traffic or the spec.
    """
    started = time.time()
    checker = audit_file(traffic, spec_path)
    if not quiet:
        for finding in checker.findings:
            click.echo(visible(finding.line()))  # recorded ESC or U+202E never reach the terminal
    return finish(checker, str(traffic), started, report_dir, "audit", fail_under=fail_under)
