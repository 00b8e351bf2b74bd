"""``neuropay proxy``: the validating reverse proxy, from start to the reports written on exit."""

from __future__ import annotations

import signal
import socket
import sys
import time
from pathlib import Path

import click

from ..cli_options import report_dir_option, spec_option
from ..contract.rules import list_rules_option, traffic_rules_text
from ..contract.settings import target_url_problem
from ..coverage import FAIL_UNDER_HELP, gate
from ..errors import EXIT_OK, EXIT_VIOLATIONS, NeuropayError, TargetError
from ..reports.writer import write_reports
from ..spec import load_spec
from .checker import TrafficChecker
from .results import build_results


def check_reachable(target: str, timeout: float) -> None:
    """Exit 2 at start when nothing answers at ``target`` (any HTTP answer will do)."""
    import httpx

    try:
        httpx.post(f"{target.rstrip('/')}/", timeout=timeout)
    except httpx.HTTPError as exc:
        raise TargetError(f"the target {target} does not answer: {type(exc).__name__}") from None


@click.command("proxy")
@list_rules_option(traffic_rules_text)
@click.option("--target", required=True, help="The API server to forward to (http or https URL).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option(
    "--port", default=8081, show_default=True, type=click.IntRange(0, 65535), help="0 = any."
)
@spec_option
@report_dir_option("reports", "Where the reports go on exit.")
@click.option(
    "--mode",
    type=click.Choice(["report", "enforce"]),
    default="report",
    show_default=True,
    help="report: forward everything unchanged; enforce: answer requests the spec refuses "
    "with its error envelope instead of forwarding them.",
)
@click.option(
    "--record",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Append every exchange to this file as JSON lines (keys as labels), for `neuropay audit`.",
)
@click.option("--timeout", default=30.0, show_default=True, help="Seconds to wait for the target.")
@click.option("--quiet", is_flag=True, help="No line per finding.")
@click.option(
    "--fail-under", type=click.FloatRange(0, 100), default=None, metavar="PCT", help=FAIL_UNDER_HELP
)
def proxy_command(
    target: str,
    host: str,
    port: int,
    spec_path: Path | None,
    report_dir: Path,
    mode: str,
    record: Path | None,
    timeout: float,
    quiet: bool,
    fail_under: float | None,
) -> int:
    """Put the contract between your client and a server: every request and answer is checked
    against the spec, and every checkout is followed across exchanges (lifecycle, money,
    idempotency, isolation). Each finding names its side: client or server.

    Runs until Ctrl-C or SIGTERM, then writes results.json, junit.xml, report.md and
    report.html. Exit 0 no finding, 1 findings, 2 could not start or the checking process
    died (the reports then hold what was checked).
    """
    import uvicorn

    from ..server.protocol import SandboxProtocol
    from .proxy import ValidatingProxy
    from .worker import CheckerProcess

    problem = target_url_problem(target, "--target")
    if problem:
        raise NeuropayError(problem)
    spec = load_spec(spec_path)
    check_reachable(target, min(timeout, 10.0))
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise NeuropayError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    if record is not None:
        try:
            record.open("a", encoding="utf-8").close()
        except OSError as exc:
            sock.close()
            raise NeuropayError(f"cannot write the recording {record}: {exc.strerror}") from None
    started = time.time()
    checker = TrafficChecker(spec)  # the enforce mode's judge; checking is the worker's

    def no_checks(error: str) -> None:
        write_reports(build_results(checker, target, started, "proxy", error=error), report_dir)

    worker = CheckerProcess(
        spec_path, target, report_dir, record, quiet, fail_under=fail_under, fallback=no_checks
    )
    proxy = ValidatingProxy(checker, target, mode, timeout=timeout, sink=worker.submit)
    click.echo(
        f"neuropay proxy: http://{host}:{sock.getsockname()[1]} -> {target} (mode {mode}); "
        f"Ctrl-C writes the reports to {report_dir}"
    )
    sys.stdout.flush()
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then raises the signal again: these
    # handlers take it, so the reports below are still written.
    stopped: list[int] = []
    previous = {
        s: signal.signal(s, lambda number, frame: stopped.append(number))
        for s in (signal.SIGINT, signal.SIGTERM)
    }
    # The reference server's HTTP protocol: the same bounded, timed request heads (a client
    # that never finishes its head is cut off) and enveloped protocol errors.
    config = uvicorn.Config(
        proxy,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
        http=SandboxProtocol,
        ws="none",
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
        for number, handler in previous.items():
            signal.signal(number, handler)
    return worker.finish()


def finish(
    checker: TrafficChecker,
    target: str,
    started: float,
    report_dir: Path,
    profile: str,
    unchecked: int = 0,
    fail_under: float | None = None,
) -> int:
    """Write the reports and the one-line summary; the exit code (1 also when the traffic's
    contract coverage is below ``fail_under``)."""
    scoped = profile if checker.validator.ours else f"{profile} (schema checks only)"
    results = build_results(checker, target, started, scoped)
    written = write_reports(results, report_dir)
    sides = checker.sides
    kept = len(checker.findings)
    total = checker.total_findings
    click.echo(
        f"neuropay {profile}: {checker.checked} API exchange(s), {checker.ignored} other, "
        f"{total} finding(s) ({sides['client']} client, {sides['server']} server)"
        + (f", the first {kept} in the reports" if kept < total else "")
        + f"; reports in {written['html'].parent}"
        + (f"; {unchecked} exchange(s) not checked (the checks fell behind)" if unchecked else "")
    )
    if not checker.validator.ours:
        click.echo(f"neuropay {profile}: {checker.scope}")
    short = gate(results.coverage, fail_under)
    if short is not None:
        click.echo(f"neuropay {profile}: {short}")
    return EXIT_VIOLATIONS if total or short else EXIT_OK
