"""``neuropay load``: lifecycle journeys on Locust, every answer checked, SLO gates at the end."""

from __future__ import annotations

from pathlib import Path

import click

from ..cli_options import report_dir_option, spec_option
from ..contract.rules import list_rules_option, load_rules_text
from ..contract.settings import target_url_problem
from ..errors import EXIT_ERROR, EXIT_OK, EXIT_VIOLATIONS, NeuropayError
from ..spec import load_spec


@click.command("load")
@list_rules_option(load_rules_text)
@click.option("--target-url", envvar="NEUROPAY_TARGET_URL", help="The API server to load.")
@click.option("--api-key", envvar="NEUROPAY_API_KEY", help="Test API key ($NEUROPAY_API_KEY).")
@click.option(
    "--second-api-key",
    envvar="NEUROPAY_SECOND_API_KEY",
    help="Another merchant's test key ($NEUROPAY_SECOND_API_KEY): journeys read their checkouts "
    "with it too, which must answer 404.",
)
@spec_option
@click.option("--users", "-u", default=10, show_default=True, help="Simulated clients.")
@click.option("--spawn-rate", "-r", default=10.0, show_default=True, help="Users started per s.")
@click.option(
    "--run-time",
    "-t",
    help="How long the load runs (60, 60s, 5m, 1h30m). Required: a run is bounded by design.",
)
@click.option(
    "--mix",
    help="Journey weights, e.g. refunds=3,finals=2,metadata=1,retries=1,forbidden=1,race=1 "
    "(the default); journeys left out do not run.",
)
@click.option("--p95-ms", type=float, help="Gate: the 95th percentile latency at most this.")
@click.option("--p99-ms", type=float, help="Gate: the 99th percentile latency at most this.")
@click.option(
    "--max-error-rate",
    type=click.FloatRange(0, 1),
    help="Gate: failed requests / requests at most this (0.01 = 1%).",
)
@click.option("--min-rps", type=float, help="Gate: requests per second at least this.")
@click.option(
    "--processes", default=1, show_default=True, help="Local Locust workers under one master."
)
@click.option("--master", is_flag=True, help="Be the master of workers on other machines.")
@click.option(
    "--expect-workers", default=1, show_default=True, help="With --master: workers to wait for."
)
@click.option(
    "--master-bind-host",
    default="127.0.0.1",
    show_default=True,
    help="With --master: interface to listen on (0.0.0.0 for other machines).",
)
@click.option("--master-port", default=5557, show_default=True, help="Master's port.")
@click.option("--worker", is_flag=True, help="Be a worker of a master (--master-host).")
@click.option("--master-host", default="127.0.0.1", show_default=True, help="With --worker.")
@click.option("--ui", is_flag=True, help="Serve Locust's web UI on 127.0.0.1 during the run.")
@click.option("--ui-port", default=8089, show_default=True, help="Port of the web UI.")
@report_dir_option(
    "reports/load", "Where Locust's CSV and HTML and our load.html and load.json go."
)
@click.option("--quiet", is_flag=True, help="No Locust output.")
def load_command(
    target_url: str | None,
    api_key: str | None,
    second_api_key: str | None,
    spec_path: Path | None,
    users: int,
    spawn_rate: float,
    run_time: str | None,
    mix: str | None,
    p95_ms: float | None,
    p99_ms: float | None,
    max_error_rate: float | None,
    min_rps: float | None,
    processes: int,
    master: bool,
    expect_workers: int,
    master_bind_host: str,
    master_port: int,
    worker: bool,
    master_host: str,
    ui: bool,
    ui_port: int,
    report_dir: Path,
    quiet: bool,
) -> int:
    """Load a target with journeys derived from x-lifecycle (create, pay, capture, partial
    refunds; reserve and release; metaData updates; retries with one Idempotency-Key; forbidden
    moves; racing refunds and updates) on Locust. Every answer goes through the checker of
    `neuropay proxy`; at the end every checkout is read back and compared with its model.

    Exit 0 when no violation was found and every gate holds, 1 otherwise, 2 when the target
    cannot be tested (nothing answers, the key is refused) or the options are wrong.
    """
    from .config import LoadConfig
    from .journeys import Journeys, parse_mix
    from .report import LoadOutcome, gates, write_load_reports
    from .run import (
        LocustRun,
        gather,
        option_problems,
        parse_run_time,
        preflight,
        run_locust,
    )

    problems = list(option_problems(users, spawn_rate, processes, worker, master, ui))
    if not target_url:
        problems.append("--target-url is required (or $NEUROPAY_TARGET_URL)")
    elif problem := target_url_problem(target_url):
        problems.append(problem)
    if not api_key:
        problems.append("--api-key is required (or $NEUROPAY_API_KEY)")
    elif second_api_key == api_key:
        problems.append("--second-api-key must be another merchant's key, not --api-key")
    seconds = 0
    if not worker:
        if not run_time:
            problems.append("--run-time is required (a load run is bounded by design)")
        else:
            try:
                seconds = parse_run_time(run_time)
            except ValueError as exc:
                problems.append(f"--run-time {exc}")
    if problems:
        raise NeuropayError(problems[0])
    assert target_url is not None and api_key is not None
    from ..contract.reach import PaymentMeans

    spec = load_spec(spec_path)
    journeys = Journeys(spec, PaymentMeans.from_spec(spec))
    available = list(journeys.available())
    if not available:
        raise NeuropayError("the spec's x-lifecycle gives no journey to run")
    try:
        weights = parse_mix(mix, available)
    except ValueError as exc:
        raise NeuropayError(f"--mix {exc}") from None
    preflight(spec, target_url, api_key)
    if second_api_key:
        preflight(spec, target_url, second_api_key)
    report_dir = report_dir.resolve()
    config = LoadConfig(
        target_url=target_url,
        spec_path=str(spec_path.resolve()) if spec_path else None,
        mix=weights,
        parts_dir=str(report_dir / "parts"),
    )
    keys = {"NEUROPAY_API_KEY": api_key}
    if second_api_key:
        keys["NEUROPAY_SECOND_API_KEY"] = second_api_key
    run = LocustRun(
        target=target_url,
        users=users,
        spawn_rate=spawn_rate,
        run_time=seconds,
        report_dir=report_dir,
        processes=processes,
        ui=ui,
        ui_port=ui_port,
        master=master,
        expect_workers=expect_workers,
        master_bind_host=master_bind_host,
        master_port=master_port,
        worker=worker,
        master_host=master_host,
    )
    if worker:
        click.echo(f"neuropay load: worker of {master_host}:{master_port} -> {target_url}")
        code, _ = run_locust(run, config, keys, quiet)
        return EXIT_OK if code == 0 else EXIT_ERROR
    click.echo(
        f"neuropay load: {users} user(s), {processes if not master else expect_workers} "
        f"process(es), {seconds} s against {target_url}; journeys "
        + ", ".join(f"{k}={v}" for k, v in weights.items() if v)
        + (f"; web UI on http://127.0.0.1:{ui_port}" if ui else "")
    )
    code, interrupted = run_locust(run, config, keys, quiet)
    gathered = gather(report_dir / "parts")
    error = None
    if gathered.stats is None or not gathered.parts:
        error = f"Locust ended (exit {code}) without results; rerun without --quiet to see why"
    elif gathered.missing_parts:
        error = (
            f"{gathered.missing_parts} worker(s) did not hand their findings over in time: "
            "the run is incomplete"
        )
    outcome = LoadOutcome(
        target=target_url,
        run_time_s=seconds,
        users=users,
        processes=expect_workers if master else processes,
        interrupted=interrupted,
        gathered=gathered,
        gates=gates((gathered.stats or {}).get("total"), p95_ms, p99_ms, max_error_rate, min_rps),
        error=error,
    )
    written = write_load_reports(outcome, report_dir)
    total = (gathered.stats or {}).get("total") or {}
    model = outcome.model
    click.echo(
        f"neuropay load: {total.get('requests', 0)} request(s), {total.get('rps', 0)} req/s, "
        f"p95 {total.get('p95_ms')} ms, p99 {total.get('p99_ms')} ms, "
        f"{total.get('failures', 0)} failed; {outcome.total_findings} finding(s); "
        f"model check {model['compared'] - model['failed']}/{model['compared']} checkout(s) "
        f"as expected" + (f" ({model['uncertain']} cut by the end)" if model["uncertain"] else "")
    )
    for f in outcome.findings[:20]:
        obj = f" {f['object_id']}" if f.get("object_id") else ""
        click.echo(f"  {f['side']} [{f['rule']}] {f.get('operation') or ''}{obj}: {f['message']}")
    for g in outcome.gates:
        state = "holds" if g.holds else "FAILS"
        click.echo(f"  gate {g.option} {g.limit}: {g.value} {state}")
    click.echo(f"neuropay load: {outcome.verdict}; reports in {written['html'].parent}")
    if error:
        raise NeuropayError(error)
    return EXIT_VIOLATIONS if outcome.verdict != "passed" else EXIT_OK
