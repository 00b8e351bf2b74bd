"""``neuropay report merge``: the results of N ``--shard K/N`` runs as one run of the same seed.

Check ids and outcomes are the shards' own (each check ran in exactly one shard), counts are
summed, coverage is the union of what the shards saw, and root causes are computed again on the
merged checks (a cause may span shards). Shards of different specs, seeds, profiles or targets
are refused, as are a missing or repeated shard: the merge must stand for one whole run."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import click

from .._resources import default_spec_path
from ..coverage import Seen, build_coverage
from ..errors import NeuropayError
from ..reports.cli import report_command as plain_report
from ..results import NOT_IMPLEMENTED, OperationSummary, RunResults
from ..spec import ApiSpec, load_spec
from .results_builder import lifecycle_cells, spec_digest
from .root_causes import assign_root_causes


def _same(shards: list[tuple[Path, RunResults]], what: str, value: object, name: str) -> None:
    first_path, _ = shards[0]
    for path, results in shards[1:]:
        if getattr(results, name) != value:
            raise NeuropayError(
                f"cannot merge {path} with {first_path}: different {what} "
                f"({getattr(results, name)!r} vs {value!r})"
            )


def _spec_of(results: RunResults) -> ApiSpec:
    """The spec the shards ran against, found by its recorded path or the bundled one, and only
    when its digest is the recorded one."""
    for candidate in (Path(results.spec_path), default_spec_path()):
        if candidate.name and candidate.exists() and spec_digest(candidate) == results.spec_sha256:
            return load_spec(candidate)
    raise NeuropayError(
        f"the spec the shards ran against ({results.spec_path}, sha256 "
        f"{results.spec_sha256[:12]}) is not available here; merge where it is"
    )


def merge_results(shards: list[tuple[Path, RunResults]]) -> RunResults:
    """One run's results from its shards' ``(path, results)``; NeuropayError (one line) when
    they are not the shards of one run."""
    if not shards:
        raise NeuropayError("give the folders (or results.json files) of the shards to merge")
    _, first = shards[0]
    _same(shards, "specs", first.spec_sha256, "spec_sha256")
    _same(shards, "seeds", first.seed, "seed")
    _same(shards, "profiles", first.profile, "profile")
    _same(shards, "kinds of target", first.embedded_target, "embedded_target")
    if not first.embedded_target:  # an embedded server listens on a new port in every shard
        _same(shards, "targets", first.target_url, "target_url")
    _same(shards, "certified subsets", first.operations_tested, "operations_tested")
    taken: dict[int, Path] = {}
    counts = set()
    for path, results in shards:
        if results.shard is None:
            raise NeuropayError(f"{path} is not the results of a --shard run")
        k, n = (int(part) for part in results.shard.split("/"))
        counts.add(n)
        if k in taken:
            raise NeuropayError(f"shard {k}/{n} given twice: {taken[k]} and {path}")
        taken[k] = path
    if len(counts) != 1:
        raise NeuropayError(f"shards of different splits: {sorted(counts)} shards")
    total = counts.pop()
    missing = [str(k) for k in range(1, total + 1) if k not in taken]
    if missing:
        raise NeuropayError(f"shard {', '.join(missing)} of {total} missing: merge every shard")
    spec = _spec_of(first)
    ordered = sorted(shards, key=lambda pair: pair[1].shard or "")
    checks = [check for _path, results in ordered for check in results.checks]
    seen_ids: set[str] = set()
    for check in checks:
        if check.id in seen_ids:
            raise NeuropayError(f"check {check.id} ran in two shards: not shards of one split")
        seen_ids.add(check.id)
        if not (check.root_cause or "").startswith(NOT_IMPLEMENTED):
            check.root_cause = None
    operations: dict[str, OperationSummary] = {}
    for _path, results in ordered:
        for name, summary in results.operations.items():
            merged = operations.setdefault(name, OperationSummary())
            for counter in fields(OperationSummary):
                total_count = getattr(merged, counter.name) + getattr(summary, counter.name)
                setattr(merged, counter.name, total_count)
    seen = Seen()
    for _path, results in ordered:
        if results.coverage and isinstance(results.coverage.get("seen"), dict):
            seen.merge(Seen.from_dict(results.coverage["seen"]))
    not_implemented = [
        op for op in spec.operations if any(op in r.not_implemented for _p, r in ordered)
    ]
    failed = bool(not_implemented) or any(
        c.outcome in ("failed", "error", "blocked") for c in checks
    )
    errors = [r.error for _p, r in ordered if r.error]
    return RunResults(
        target_url=first.target_url,
        embedded_target=first.embedded_target,
        spec_path=first.spec_path,
        spec_title=first.spec_title,
        spec_version=first.spec_version,
        spec_sha256=first.spec_sha256,
        started=min(r.started for _p, r in ordered),
        finished=max(r.finished for _p, r in ordered),
        duration_s=round(sum(r.duration_s for _p, r in ordered), 3),
        seed=first.seed,
        profile=first.profile,
        verdict="error" if errors else ("violations" if failed else "conformant"),
        tool_version=first.tool_version,
        checks=checks,
        operations=operations,
        lifecycle=lifecycle_cells(spec, checks),
        error=errors[0] if errors else None,
        root_causes=assign_root_causes(checks, spec),
        not_implemented=not_implemented,
        operations_tested=first.operations_tested,
        coverage=build_coverage(spec, seen),
    )


def read_shards(locations: list[Path]) -> list[tuple[Path, RunResults]]:
    """Each location's results (a folder holding results.json, or the file itself)."""
    found = []
    for location in locations:
        path = location / "results.json" if location.is_dir() else location
        found.append((path, RunResults.read(path)))
    return found


@click.command("merge")
@click.argument("shards", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--report-dir",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="Where the merged results.json, report.html, report.md and junit.xml go.",
)
def merge_command(shards: tuple[Path, ...], report_dir: Path) -> int:
    """Merge the results of `neuropay test --shard K/N` runs (their report folders or
    results.json files) into the reports of one run: the same check ids and outcomes, summed
    counts, the union of coverage, root causes computed on the merged checks.

    Exit 0 conformant, 1 violations, 2 when the shards are not those of one run (different
    specs, seeds, profiles or targets, a shard missing or given twice)."""
    from ..reports.writer import write_reports

    merged = merge_results(read_shards(list(shards)))
    written = write_reports(merged, report_dir)
    counts = merged.counts()
    click.echo(
        f"merged {len(shards)} shards: {len(merged.checks)} checks ({counts['passed']} passed, "
        f"{counts['failed']} failed, {counts['blocked']} blocked, {counts['not_covered']} not "
        f"covered), {len(merged.root_causes)} root causes; reports in {written['html'].parent}"
    )
    return 0 if merged.verdict == "conformant" else 1


class _ReportCommand(click.Command):
    """`neuropay report RESULTS_FILE` renders one run; `neuropay report merge ...` merges shards
    (a results file named ``merge`` is still reachable as ``./merge``)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] == "merge":
            ctx.meta["neuropay.merge"] = args[1:]
            return []
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> object:
        if "neuropay.merge" in ctx.meta:
            return merge_command.main(
                ctx.meta["neuropay.merge"],
                prog_name=f"{ctx.command_path} merge",
                standalone_mode=False,
            )
        return super().invoke(ctx)


# `neuropay report`: the reports' own command, which also dispatches `merge` (the merge needs
# the engine, which the reports sit below).
report_command = _ReportCommand(
    name=plain_report.name,
    callback=plain_report.callback,
    params=plain_report.params,
    help=plain_report.help,
)
