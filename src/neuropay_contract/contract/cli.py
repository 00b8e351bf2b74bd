"""``neuropay test``: run the contract suite (pytest) against a target and summarise the results."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
from rich.console import Console

from .._resources import contract_suite_path
from ..coverage import FAIL_UNDER_HELP, gate
from ..errors import EXIT_OK, EXIT_VIOLATIONS, NeuropayError, SuiteError, UsageError
from ..outputs import ensure_dir
from ..project_config import read_project_config
from ..results import RunResults
from ..spec import load_spec
from .options import click_options
from .plugin import FINAL_KEY, RESULTS_KEY, given_settings
from .settings import RunSettings
from .terminal import ProgressPlugin, print_summary


class _Collector:
    """Receives the run's results and error from the plugin's stash at the end of the session,
    and the first collection error (a suite that cannot be collected is "could not test")."""

    def __init__(self) -> None:
        self.results: RunResults | None = None
        self.error: NeuropayError | None = None
        self.collect_error: str | None = None

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed and self.collect_error is None:
            lines = [line for line in str(report.longrepr).splitlines() if line.strip()]
            errors = [line for line in lines if line.startswith("E ")]
            detail = (errors or lines or ["unknown error"])[-1].removeprefix("E ").strip()
            self.collect_error = f"{report.nodeid or 'the suite'}: {detail}"

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.results = session.config.stash.get(FINAL_KEY, None)
        state = session.config.stash.get(RESULTS_KEY, None)
        self.error = state.error if state is not None else None


def _hypothesis_home() -> None:
    """Hypothesis keeps caches (and would keep its example database) under ``./.hypothesis``: the
    caller's working directory is not ours to write, so they go to the user's cache folder
    ($HYPOTHESIS_STORAGE_DIRECTORY still wins)."""
    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        return
    from hypothesis.configuration import set_hypothesis_home_dir

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    set_hypothesis_home_dir(cache / "neuropay" / "hypothesis")


@dataclass(frozen=True)
class SuiteRun:
    """What an in-process run of the suite gives back: its exit code (0/1/2), its results and,
    when it could not test, the typed error that says why (raised at the CLI's edge)."""

    code: int
    results: RunResults | None
    error: NeuropayError | None = None


def run_suite(
    settings: RunSettings,
    keyword: str | None = None,
    verbose: bool = False,
    progress: Console | None = None,
) -> SuiteRun:
    """Run the suite in-process. With ``progress``, a rich progress bar replaces pytest's own
    output (unless ``verbose``)."""
    suite = contract_suite_path()
    args = [
        str(suite),
        "-c",
        os.devnull,
        "--rootdir",
        str(suite),
        "-p",
        "no:cacheprovider",
        # pytest's own output only when asked for (-v) or without our progress bar.
        *(
            ["-p", "no:terminal"]
            if progress is not None and not verbose
            else ["-v" if verbose else "-q", "--tb=no", "--no-header"]
        ),
        "-W",
        "ignore::DeprecationWarning",
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
    ]
    if keyword:
        args += ["-k", keyword]
    _hypothesis_home()
    collector = _Collector()
    plugins: list[object] = [collector, given_settings(settings)]
    bar = ProgressPlugin(progress) if progress is not None and not verbose else None
    if bar is not None:
        plugins.append(bar)
    try:
        code = pytest.main(args, plugins=plugins)
    finally:
        if bar is not None:
            bar.stop()
    results = collector.results
    if collector.error:
        return SuiteRun(collector.error.exit_code, results, collector.error)
    if code == pytest.ExitCode.OK:
        return SuiteRun(EXIT_OK, results)
    if code == pytest.ExitCode.TESTS_FAILED:
        return SuiteRun(EXIT_VIOLATIONS, results)
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        error: NeuropayError = UsageError("no contract check was selected")
    elif collector.collect_error:
        error = SuiteError(f"the contract suite could not be collected: {collector.collect_error}")
    else:
        error = SuiteError(f"the contract suite could not run (pytest exit {int(code)})")
    return SuiteRun(error.exit_code, results, error)


def run_suite_subprocess(
    url: str,
    keys: tuple[str, str, str],
    report_dir: Path,
    profile: str = "dev",
    seed: int = 1,
    select: str | None = None,
    extra: tuple[str, ...] = (),
    same_merchant_key: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """`neuropay test` in a fresh process against ``url`` with (test, second, live) keys and
    optionally another test key of the first merchant, only the checks ``select`` (a ``-k``
    expression) picks when given; the first key travels in the environment, as users are told
    to pass it."""
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
            *(["-k", select] if select else []),
            *(["--same-merchant-api-key", same_merchant_key] if same_merchant_key else []),
            *extra,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "NEUROPAY_API_KEY": keys[0]},
        timeout=900,
    )


@click.command("test")
@click_options
@click.option("-k", "keyword", default=None, help="Only checks matching this pytest -k expression.")
@click.option(
    "--fail-under",
    type=click.FloatRange(0, 100),
    default=None,
    metavar="PCT",
    help=FAIL_UNDER_HELP,
)
@click.option("-v", "--verbose", is_flag=True, help="One line per check (pytest's output).")
@click.option(
    "--list-rules",
    "list_format",
    flag_value="text",
    default=None,
    help="Print every rule a failure can name, with what it checks, and exit.",
)
@click.option(
    "--format",
    "rules_format",
    type=click.Choice(["text", "md"]),
    default=None,
    help="With --list-rules: text (default) or md (Markdown, as contract_tests/RULES.md).",
)
def test_command(
    keyword: str | None,
    fail_under: float | None,
    verbose: bool,
    list_format: str | None,
    rules_format: str | None,
    **options: Any,
) -> int:
    """Certify a server against the spec: fuzzing, auth, every lifecycle transition and forbidden
    move, money invariants, metadata, customers, idempotency.

    With no --target-url it starts the embedded reference server on a free loopback port.
    Options may also come from [tool.neuropay.test] of pyproject.toml or [test] of
    neuropay.toml (the command line wins, then the environment, then the file).
    Exit 0 conformant, 1 contract violations, 2 could not test.
    """
    if list_format is not None:
        from .rules import rules_markdown, rules_text

        click.echo(rules_markdown() if rules_format == "md" else rules_text(), nl=False)
        return 0
    if rules_format is not None:
        raise click.UsageError("--format goes with --list-rules")
    settings = RunSettings.from_options(
        options, config=read_project_config("test"), cli_defaults=True
    )
    spec = settings.spec_path
    if spec is not None and not spec.exists():
        raise NeuropayError(f"spec file {spec} does not exist")
    # An unreadable spec, or one without the lifecycle the suite is built from, stops here with
    # one line (the suite would otherwise fail while collecting).
    loaded = load_spec(spec)
    loaded.require_lifecycle()
    problem = settings.operations_problem(loaded)
    if problem:
        raise NeuropayError(problem)
    if loaded.test_mode is None:
        raise NeuropayError(
            f"{spec or 'the spec'} has no x-test-mode extension: the suite needs its test cards,"
            " helpers and key prefixes to reach the lifecycle; add it as spec/README.md shows"
        )
    if keyword:
        _check_keyword(keyword)
    report_dir = settings.report_dir or Path("reports")
    ensure_dir(report_dir, "the reports")
    console = Console(highlight=False, soft_wrap=True)
    run = run_suite(settings, keyword, verbose, Console(stderr=True))
    if run.error is not None:
        raise run.error
    code, results = run.code, run.results
    if results is not None:
        print_summary(results, report_dir, console)
        short = gate(results.coverage, fail_under)
        if short is not None:
            console.print(f"[red]{short}[/red]")
            code = max(code, EXIT_VIOLATIONS)
    return code


def _check_keyword(keyword: str) -> None:
    """A -k expression pytest cannot parse is a usage error to name here, not "pytest exit 4"."""
    try:
        from _pytest.mark.expression import Expression
    except ImportError:  # pytest moved it: pytest's own message will have to do
        return
    try:
        Expression.compile(keyword)
    except SyntaxError as exc:  # what pytest raises for a bad expression (ParseError before 8.4)
        raise NeuropayError(f"-k {keyword!r} is not a valid selection: {exc.msg}") from None
