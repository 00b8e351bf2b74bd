"""What ``neuropay test`` shows in the terminal: a progress bar while the suite runs (on a
terminal only, so CI logs stay clean) and the summary afterwards, rendered from RunResults."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from rich.markup import escape as escape_markup
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..reports.formats import file_names
from ..results import NOT_IMPLEMENTED, CheckResult, RunResults
from ..untrusted import visible
from .root_causes import hung_operation, silent_operations

MAX_FAILURES_SHOWN = 25
SHORT = 160  # characters of expected / received shown per failure


class ProgressPlugin:
    """A pytest plugin that shows progress: on a terminal, a rich bar (one tick per check, the
    running category and the failures so far); elsewhere (a CI log), one line per finished test
    module, so a long run is visibly alive without redrawing anything."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress: Progress | None = None
        self.task: Any = None
        self.failed = 0
        self.category = ""
        self.total = 0
        self.done = 0
        self.module = ""
        self.module_checks = 0
        self.module_failed = 0
        self.module_started = 0.0

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.total = len(session.items)
        if not self.console.is_terminal or not session.items:
            return
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self.task = self.progress.add_task("checking", total=len(session.items), failed="")
        self.progress.start()

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        mark = item.get_closest_marker("np_check")
        if mark is not None and self.progress is not None:
            self.category = str(mark.kwargs.get("category") or "")
            self.progress.update(self.task, description=self.category)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # Lines are printed from here: pytest captures output during setup, call and teardown.
        if report.when == "setup":
            module = report.nodeid.split("::")[0].rsplit("/", 1)[-1].removesuffix(".py")
            if module != self.module:
                self._module_done()
                self.module, self.module_started = module, time.monotonic()
        if report.failed:
            self.failed += 1
            self.module_failed += 1
            if self.progress is not None:
                self.progress.update(self.task, failed=f"[red]{self.failed} failed[/red]")
        if report.when == "teardown":
            self.done += 1
            self.module_checks += 1
            if self.progress is not None:
                self.progress.advance(self.task)

    def _module_done(self) -> None:
        if self.progress is None and self.module and self.module_checks:
            name = self.module.removeprefix("test_")
            failed = f", [red]{self.module_failed} failed[/red]" if self.module_failed else ""
            self.console.print(
                f"[{self.done:>{len(str(self.total))}}/{self.total}] {escape(name)}: "
                f"{self.module_checks} check{'s' if self.module_checks != 1 else ''}{failed} "
                f"({time.monotonic() - self.module_started:.1f} s)"
            )
        self.module_checks = self.module_failed = 0

    def pytest_unconfigure(self) -> None:
        self.stop()

    def stop(self) -> None:
        self._module_done()
        self.module = ""
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


def escape(text: str) -> str:
    """Text from a run, safe for rich: no markup; ANSI escapes, other control characters and bidi
    overrides from the target (which could recolour, erase or forge lines) shown as \\xNN."""
    return escape_markup(visible(text))


def short(value: Any, limit: int = SHORT) -> str:
    """A value as one compact line of at most ``limit`` characters."""
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def category_table(results: RunResults) -> Table:
    table = Table(title="neuropay contract", title_justify="left")
    blocked = any(c.outcome == "blocked" for c in results.checks)
    columns = ["category", "checks", "passed", "failed", *(["blocked"] if blocked else [])]
    for column in (*columns, "not covered"):
        table.add_column(column, justify="left" if column == "category" else "right")
    categories: dict[str, list[CheckResult]] = {}
    for check in results.checks:
        categories.setdefault(check.category, []).append(check)
    for category, checks in sorted(categories.items()):
        failed = sum(c.outcome in ("failed", "error") for c in checks)
        stopped = sum(c.outcome == "blocked" for c in checks)
        table.add_row(
            category,
            str(len(checks)),
            str(sum(c.outcome == "passed" for c in checks)),
            f"[red]{failed}[/red]" if failed else "0",
            *([f"[yellow]{stopped}[/yellow]" if stopped else "0"] if blocked else []),
            str(sum(c.outcome == "not_covered" for c in checks)),
        )
    return table


def _more(ids: list[str]) -> str:
    return escape(ids[0]) + (f" and {len(ids) - 1} more" if len(ids) > 1 else "") if ids else ""


def print_root_causes(results: RunResults, console: Console) -> None:
    """What to fix first: the root causes, largest first, then the operations the target does
    not implement, then any failure no cause explains."""
    causes = results.root_causes
    if causes:
        console.print(f"[bold]Root causes[/bold] ({len(causes)}, largest first):")
    for index, cause in enumerate(causes[:MAX_FAILURES_SHOWN], start=1):
        failed, blocked = len(cause.failed), len(cause.blocked)
        explains = f"{failed} failed" + (f", {blocked} blocked" if blocked else "")
        console.print(
            f"[red]{index:>2}.[/red] [bold]{escape(cause.title)}[/bold] "
            f"[dim]({escape(cause.rule)}; {explains})[/dim]"
        )
        if cause.fix:
            console.print(f"    fix: {escape(short(cause.fix))}")
        if cause.expected is not None or cause.received is not None:
            console.print(f"    expected: {escape(short(cause.expected))}")
            console.print(f"    received: {escape(short(cause.received))}")
        console.print(f"    [dim]checks: {_more(cause.checks)}[/dim]")
    if len(causes) > MAX_FAILURES_SHOWN:
        console.print(
            f"… and {len(causes) - MAX_FAILURES_SHOWN} more root causes (see the reports)"
        )
    if results.not_implemented:
        blocked_by = sum(
            1 for c in results.checks if (c.root_cause or "").startswith(NOT_IMPLEMENTED)
        )
        console.print(
            f"[bold]Not implemented[/bold] ({len(results.not_implemented)} operations, their "
            f"paths answer like missing routes; {blocked_by} checks blocked): "
            + escape(", ".join(results.not_implemented))
        )
    rest = results.unexplained()
    for check in rest[:MAX_FAILURES_SHOWN]:
        failure = check.failure
        if failure is None:
            continue
        console.print(
            f"[red]✗[/red] [bold]{escape(failure.rule)}[/bold] {escape(failure.title)}"
            f" [dim]({escape(check.id)})[/dim]"
        )
        console.print(f"    {escape(short(failure.message, 300))}")
        if failure.expected is not None or failure.received is not None:
            console.print(f"    expected: {escape(short(failure.expected))}")
            console.print(f"    received: {escape(short(failure.received))}")
    if len(rest) > MAX_FAILURES_SHOWN:
        console.print(f"… and {len(rest) - MAX_FAILURES_SHOWN} more failures (see the reports)")


def _tally(results: RunResults) -> str:
    """ "372 passed, 0 failed, 0 not covered", and on a red run the blocked checks, root causes
    and operations not implemented."""
    counts = results.counts()
    parts = [f"{counts['passed']} passed", f"{counts['failed'] + counts['error']} failed"]
    if counts["blocked"]:
        parts.append(f"{counts['blocked']} blocked")
    parts.append(f"{counts['not_covered']} not covered")
    found = []
    if results.root_causes:
        n = len(results.root_causes)
        found.append(f"{n} root cause{'s' if n != 1 else ''}")
    if results.not_implemented:
        found.append(f"{len(results.not_implemented)} operations not implemented")
    return ", ".join(parts) + (f" ({', '.join(found)})" if found else "")


def print_summary(
    results: RunResults, report_dir: Path | None, console: Console | None = None
) -> None:
    """A line per category, the root causes (rule, title, expected vs received, the checks each
    explains), not-implemented operations, the verdict and where the reports are. Everything
    printed comes from the (already redacted) results."""
    console = console or Console(highlight=False, soft_wrap=True)
    counts = results.counts()
    console.print(category_table(results))
    print_root_causes(results, console)
    # One line per reason: a missing --second-api-key leaves a dozen checks uncovered at once.
    by_reason: dict[str, list[CheckResult]] = {}
    for check in results.not_covered:
        by_reason.setdefault(check.reason or "", []).append(check)
    for reason, checks in list(by_reason.items())[:MAX_FAILURES_SHOWN]:
        which = escape(checks[0].id) + (f" and {len(checks) - 1} more" if len(checks) > 1 else "")
        console.print(f"[yellow]-[/yellow] not covered: {which}: {escape(reason)}")
    verdict = (
        "[green]CONFORMANT[/green]"
        if results.verdict == "conformant"
        else "[red]CONTRACT VIOLATIONS[/red]"
    )
    console.print(
        f"{verdict} {escape(results.target_url)}"
        f"{' (embedded reference server)' if results.embedded_target else ''}: "
        f"{_tally(results)}; {counts['requests']} requests in "
        f"{results.duration_s:.1f} s (profile {results.profile}, seed {results.seed})"
    )
    failures = [c.failure for c in results.checks if c.failure is not None]
    hung = silent_operations(failures)
    silent = [
        i
        for i, c in enumerate(results.checks)
        if c.failure is not None
        and c.failure.rule == "transport.no-answer"
        and hung_operation(c.failure, hung) is None
    ]
    for operation in sorted(hung):
        console.print(
            f"[red]![/red] {escape(operation)} gave no answer twice: the checks that need it "
            "failed without sending it again"
        )
    if silent:
        first = silent[0]
        before = f" (the check before it: {escape(results.checks[first - 1].id)})" if first else ""
        console.print(
            f"[red]![/red] the target stopped answering at {escape(results.checks[first].id)}"
            f"{before}; {len(silent)} check{'s' if len(silent) != 1 else ''} got no answer"
        )
    if results.coverage:
        shard = f" (shard {results.shard}: its share of the checks)" if results.shard else ""
        console.print(
            f"contract coverage: {results.coverage['percent']:g}% of reachable cells "
            f"({results.coverage['covered']}/{results.coverage['reachable']}){shard}"
        )
    if results.operations_tested is not None:
        console.print(
            f"certified subset (--operations): {escape(', '.join(results.operations_tested))}; "
            "the verdict covers these operations only"
        )
    if results.differential is not None:
        counts = results.differential
        console.print(
            f"differential: {counts.get('exchanges', 0)} exchanges replayed on a fresh reference "
            f"server, {counts.get('differences', 0)} differences, "
            f"{counts.get('reference_bugs', 0)} reference bugs"
        )
    if results.verdict != "conformant" and results.seed is not None:
        console.print(f"replay the same generated data with --seed {results.seed}")
    if report_dir is not None:
        written = [name for name in file_names() if (report_dir / name).exists()]
        console.print(f"reports: {escape(str(report_dir))}/ ({', '.join(written)})")
