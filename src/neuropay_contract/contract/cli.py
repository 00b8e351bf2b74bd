"""``neuropay test``: run the contract suite (pytest) against a target and summarise the results."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import click
import pytest

from .._resources import contract_suite_path
from ..errors import EXIT_ERROR, EXIT_OK, EXIT_VIOLATIONS, NeuropayError
from ..pytest_plugin import FINAL_KEY, PROFILES, RESULTS_KEY
from ..results import RunResults


class _Collector:
    """Receives the run's results and error from the plugin's stash at the end of the session."""

    def __init__(self) -> None:
        self.results: RunResults | None = None
        self.error: str | None = None

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.results = session.config.stash.get(FINAL_KEY, None)
        state = session.config.stash.get(RESULTS_KEY, None)
        self.error = state.error if state is not None else None


def run_suite(
    target_url: str | None,
    api_key: str | None,
    second_api_key: str | None,
    live_api_key: str | None,
    profile: str,
    seed: int | None,
    report_dir: Path | None,
    spec: Path | None,
    keyword: str | None = None,
    extra: dict[str, str | None] | None = None,
    verbose: bool = False,
) -> tuple[int, RunResults | None, str | None]:
    """Run the suite in-process; (exit code 0/1/2, results, error reason)."""
    suite = contract_suite_path()
    args = [
        str(suite),
        "-c",
        os.devnull,
        "--rootdir",
        str(suite),
        "-p",
        "no:cacheprovider",
        "-q" if not verbose else "-v",
        "--tb=no",
        "--no-header",
        "-W",
        "ignore::DeprecationWarning",
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        "--profile",
        profile,
    ]
    if target_url:
        args += ["--target-url", target_url]
    for flag, value in (
        ("--api-key", api_key),
        ("--second-api-key", second_api_key),
        ("--live-api-key", live_api_key),
        ("--np-spec", str(spec) if spec else None),
        ("--report-dir", str(report_dir) if report_dir else None),
        *((f"--{k}", v) for k, v in (extra or {}).items()),
    ):
        if value:
            args += [flag, value]
    if seed is not None:
        args += ["--seed", str(seed), f"--hypothesis-seed={seed}"]
    if keyword:
        args += ["-k", keyword]
    collector = _Collector()
    code = pytest.main(args, plugins=[collector])
    if collector.error:
        return EXIT_ERROR, collector.results, collector.error
    if code == pytest.ExitCode.OK:
        return EXIT_OK, collector.results, None
    if code == pytest.ExitCode.TESTS_FAILED:
        return EXIT_VIOLATIONS, collector.results, None
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        return EXIT_ERROR, collector.results, "no contract check was selected"
    return (
        EXIT_ERROR,
        collector.results,
        f"the contract suite could not run (pytest exit {int(code)})",
    )


def run_suite_subprocess(
    url: str, keys: tuple[str, str, str], report_dir: Path, profile: str = "dev", seed: int = 1
) -> subprocess.CompletedProcess[str]:
    """`neuropay test` in a fresh process against ``url`` with (test, second, live) keys; the
    first key travels in the environment, as users are told to pass it."""
    import sys

    return subprocess.run(
        [
            sys.executable,
            "-m",
            "neuropay_contract",
            "test",
            "--target-url",
            url,
            "--second-api-key",
            keys[1],
            "--live-api-key",
            keys[2],
            "--profile",
            profile,
            "--seed",
            str(seed),
            "--report-dir",
            str(report_dir),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "NEUROPAY_API_KEY": keys[0]},
        timeout=900,
    )


def print_summary(results: RunResults, report_dir: Path | None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=False, highlight=False)
    counts = results.counts()
    table = Table(title="neuropay contract", show_lines=False)
    for column in ("category", "checks", "passed", "failed", "not covered"):
        table.add_column(column, justify="left" if column == "category" else "right")
    categories: dict[str, list[Any]] = {}
    for check in results.checks:
        categories.setdefault(check.category, []).append(check)
    for category, checks in sorted(categories.items()):
        table.add_row(
            category,
            str(len(checks)),
            str(sum(c.outcome == "passed" for c in checks)),
            str(sum(c.outcome in ("failed", "error") for c in checks)),
            str(sum(c.outcome == "not_covered" for c in checks)),
        )
    console.print(table)
    for check in results.failures[:20]:
        f = check.failure
        if f is not None:
            console.print(
                f"[red]✗[/red] [bold]{f.rule}[/bold] {f.title}: {f.message[:200]}", markup=True
            )
    if len(results.failures) > 20:
        console.print(f"… and {len(results.failures) - 20} more failures")
    verdict = (
        "[green]CONFORMANT[/green]"
        if results.verdict == "conformant"
        else "[red]CONTRACT VIOLATIONS[/red]"
    )
    console.print(
        f"{verdict} {results.target_url}: {counts['passed']} passed, "
        f"{counts['failed'] + counts['error']} failed, {counts['not_covered']} not covered, "
        f"{counts['requests']} requests in {results.duration_s:.1f} s"
    )
    if report_dir is not None:
        console.print(f"reports: {report_dir}/report.html, report.md, junit.xml, results.json")


@click.command("test")
@click.option(
    "--target-url",
    envvar="NEUROPAY_TARGET_URL",
    help="Server to test (default: the embedded reference server).",
)
@click.option("--api-key", envvar="NEUROPAY_API_KEY", help="Test API key (or $NEUROPAY_API_KEY).")
@click.option(
    "--second-api-key", envvar="NEUROPAY_SECOND_API_KEY", help="Test key of another merchant."
)
@click.option(
    "--live-api-key", envvar="NEUROPAY_LIVE_API_KEY", help="Live key of the first merchant."
)
@click.option(
    "--profile",
    type=click.Choice(sorted(PROFILES)),
    default="ci",
    show_default=True,
    help="How hard to look: dev (fast), ci, deep.",
)
@click.option("--seed", type=int, default=None, help="Seed for generated data (reproducible runs).")
@click.option(
    "--report-dir",
    type=click.Path(path_type=Path),
    default=Path("reports"),
    show_default=True,
    help="Where results.json, report.html, report.md and junit.xml go.",
)
@click.option("--spec", type=click.Path(path_type=Path), default=None, help="Spec to test against.")
@click.option("-k", "keyword", default=None, help="Only checks matching this pytest -k expression.")
@click.option(
    "--card-number-success",
    default=None,
    help="Hosted-page card number that succeeds on the target.",
)
@click.option("--card-number-decline", default=None, help="Hosted-page card number that declines.")
@click.option(
    "--card-id-success", default=None, help="Card id that pays automatically on the target."
)
@click.option("--card-id-decline", default=None, help="Card id that declines automatic payment.")
@click.option("-v", "--verbose", is_flag=True, help="One line per check.")
def test_command(
    target_url: str | None,
    api_key: str | None,
    second_api_key: str | None,
    live_api_key: str | None,
    profile: str,
    seed: int | None,
    report_dir: Path,
    spec: Path | None,
    keyword: str | None,
    card_number_success: str | None,
    card_number_decline: str | None,
    card_id_success: str | None,
    card_id_decline: str | None,
    verbose: bool,
) -> int:
    """Certify a server against the spec: fuzzing, auth, every lifecycle transition and forbidden
    move, money invariants, metadata, customers, idempotency.

    With no --target-url it starts the embedded reference server on a free loopback port.
    Exit 0 conformant, 1 contract violations, 2 could not test.
    """
    if target_url and not api_key:
        raise NeuropayError("--target-url needs an API key: pass --api-key or set NEUROPAY_API_KEY")
    if spec is not None and not spec.exists():
        raise NeuropayError(f"spec file {spec} does not exist")
    code, results, error = run_suite(
        target_url,
        api_key,
        second_api_key,
        live_api_key,
        profile,
        seed,
        report_dir,
        spec,
        keyword,
        {
            "card-number-success": card_number_success,
            "card-number-decline": card_number_decline,
            "card-id-success": card_id_success,
            "card-id-decline": card_id_decline,
        },
        verbose,
    )
    if error:
        raise NeuropayError(error)
    if results is not None:
        print_summary(results, report_dir)
    return code
