"""pytest plugin of the contract suite: options, Hypothesis profiles and results.

Registered as the ``neuropay`` pytest11 entry point, so ``pytest contract_tests --target-url ...``
works from a checkout and ``neuropay test`` from an installed wheel. It does nothing for tests
that do not carry the ``np_check`` marker.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest

from ..errors import NeuropayError, SuiteError, TargetError, UsageError

if TYPE_CHECKING:
    import httpx
    from hypothesis import settings

    from .client import ContractClient
from .options import add_pytest_options
from .results_builder import RunState, build_results, check_result
from .settings import DEFAULT_PROFILE, PROFILES, RunSettings, RunTarget
from .sharding import split_items

RESULTS_KEY = pytest.StashKey[RunState]()


def run_client(config: pytest.Config, target: RunTarget, http: httpx.Client) -> ContractClient:
    """A client of the run's target that records into the run and stops at the operations the
    preflight found unavailable (``np_target`` made the recorder)."""
    from .client import ContractClient

    state = config.stash[RESULTS_KEY]
    assert state.recorder is not None  # np_target made it
    return ContractClient(
        target.url, target.api_key, target.spec, state.recorder, http, unavailable=state.unavailable
    )


SETTINGS_KEY = pytest.StashKey[RunSettings]()


GIVEN_KEY = pytest.StashKey[RunSettings]()


class given_settings:
    """A plugin object that hands a run's settings, built by ``neuropay test``, to this plugin:
    the object itself, not options serialised to strings and parsed again."""

    def __init__(self, settings: RunSettings) -> None:
        self.settings = settings

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[GIVEN_KEY] = self.settings


def pytest_addoption(parser: pytest.Parser) -> None:
    # One pytest option per row of the options table (defaults None: RunSettings fills them
    # from the environment and the configuration file, once for the CLI and pytest).
    add_pytest_options(parser.getgroup("neuropay", "neuropay contract suite"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "np_check(category, operation=None, status=None, needs=None): a check of the contract "
        "suite (needs: a run setting without which it is left out)",
    )
    from hypothesis import HealthCheck, Phase, settings

    for name, values in PROFILES.items():
        settings.register_profile(
            f"np-{name}",
            max_examples=values["examples"],
            # Stop at the first failure: shrinking replays examples against a live target whose
            # state has moved on (minutes of requests, then an "inconsistent data" error instead
            # of the violation found); the first counterexample is already reported in full.
            phases=(Phase.explicit, Phase.reuse, Phase.generate),
            report_multiple_bugs=False,
            deadline=None,
            # Explicit: Hypothesis's own "ci" profile (loaded when $CI is set) derandomizes, which
            # would make --seed a no-op on exactly the machines that need reproducible runs.
            derandomize=False,
            suppress_health_check=list(HealthCheck),
            database=None,
            print_blob=False,
        )
    state = RunState(started=time.time())
    config.stash[RESULTS_KEY] = state
    global ACTIVE_PROFILE, ACTIVE_SPEC_PATH
    run = config.stash.get(GIVEN_KEY, None)
    if run is None:
        try:
            run = RunSettings.from_pytest(config.getoption)
        except NeuropayError as exc:
            # Reported when the suite's first fixture asks for the settings (pytest.exit here
            # would stop runs of unrelated tests that merely have the plugin installed).
            state.error = exc
            run = None
    hypothesis_seed = config.getoption("--hypothesis-seed", None)
    if run is not None and run.seed is None:
        # Every run has a seed, shown in the header, the summary and the reports, so a red run
        # can be replayed with --seed (xdist workers receive the controller's choice).
        given = str(hypothesis_seed) if hypothesis_seed is not None else ""
        run = replace(run, seed=int(given) if given.isdigit() else secrets.randbelow(2**31))
        config.option.np_seed = run.seed  # what xdist workers read back
    if run is not None:
        config.stash[SETTINGS_KEY] = run
        if hypothesis_seed is None:
            # --seed alone makes every property and fuzz check reproducible, as
            # --hypothesis-seed does (the same global Hypothesis uses for it).
            from hypothesis import core

            core.global_force_seed = run.seed  # type: ignore[assignment]
        if run.max_failures:
            config.option.maxfail = run.max_failures  # pytest's own "stop after N failures"
        if run.max_examples:
            settings.register_profile(
                f"np-{run.profile}",
                settings.get_profile(f"np-{run.profile}"),
                max_examples=run.max_examples,
            )
    ACTIVE_PROFILE = run.profile if run else DEFAULT_PROFILE
    ACTIVE_SPEC_PATH = str(run.spec_path) if run and run.spec_path else None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Checks marked ``np_check(needs=SETTING)`` run only when the run has that setting (a
    retention shortened by the target's test configuration: without it, a run would wait a
    day); they are left out, not reported as not covered, since no run could cover them.
    Then --shard K/N: keep this shard's share of the checks (see :mod:`.sharding`); each check
    keeps its own setup, so it runs the same in any shard."""
    run = run_settings(config)
    unmet = [item for item in items if _needs_unmet(item, run)]
    if unmet:
        config.hook.pytest_deselected(items=unmet)
        items[:] = [item for item in items if item not in unmet]
    if run.shard is None or run.seed is None:
        return
    kept, dropped = split_items(items, run.shard, run.seed)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = kept


def _needs_unmet(item: pytest.Item, run: RunSettings) -> bool:
    mark = item.get_closest_marker("np_check")
    need = mark.kwargs.get("needs") if mark is not None else None
    return bool(need) and getattr(run, str(need), None) is None


def pytest_report_header(config: pytest.Config) -> str:
    run = config.stash.get(SETTINGS_KEY, None)
    seed = run.seed if run else None
    return f"neuropay: profile {ACTIVE_PROFILE}, seed {seed} (replay: --seed {seed})"


def run_settings(config: pytest.Config) -> RunSettings:
    """This run's validated settings; stops the run (exit 2, one line) when they are not valid."""
    settings = config.stash.get(SETTINGS_KEY, None)
    if settings is None:
        state = config.stash.get(RESULTS_KEY, None)
        error = state.error if state else None
        fail_run(config, error or UsageError("the run's options are not valid"))
    assert settings is not None
    return settings


def fail_run(config: pytest.Config, error: NeuropayError | str) -> None:
    """Stop the run as "could not test" with ``error``, kept typed in the run's state for the
    CLI (which raises it: one line, its exit code); a bare reason is a :class:`TargetError`."""
    if isinstance(error, str):
        error = TargetError(error)
    state = config.stash.get(RESULTS_KEY, None)
    if state is not None:
        state.error = error
    pytest.exit(str(error), returncode=error.exit_code)


ACTIVE_PROFILE = "dev"
ACTIVE_SPEC_PATH: str | None = None


def active_spec() -> Any:
    """The spec this run tests against (``--np-spec``, else the bundled one), for test modules
    that parametrize at collection time; loaded once."""
    from ..spec import load_spec

    global _ACTIVE_SPEC
    if _ACTIVE_SPEC is None or _ACTIVE_SPEC[0] != ACTIVE_SPEC_PATH:
        _ACTIVE_SPEC = (ACTIVE_SPEC_PATH, load_spec(ACTIVE_SPEC_PATH))
    return _ACTIVE_SPEC[1]


_ACTIVE_SPEC: tuple[str | None, Any] | None = None


def np_settings() -> settings:
    """Hypothesis settings of the active profile, for ``@np_settings()`` on suite properties
    (test modules import after pytest_configure, so the chosen profile is known)."""
    from hypothesis import settings as hypothesis_settings

    return hypothesis_settings(hypothesis_settings.get_profile(f"np-{ACTIVE_PROFILE}"))


def _marker(item: pytest.Item) -> pytest.Mark | None:
    return item.get_closest_marker("np_check")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Any:
    state = item.config.stash.get(RESULTS_KEY, None)
    if state is not None and state.recorder is not None and _marker(item) is not None:
        state.recorder.start_check()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    from .checks import forget_failures

    forget_failures()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    mark = _marker(item)
    state = item.config.stash.get(RESULTS_KEY, None)
    if mark is None or state is None:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        state.checks.append(check_result(item, mark, report, call, state))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash.get(RESULTS_KEY, None)
    if state is None or not state.checks:
        return
    settings = session.config.stash.get(SETTINGS_KEY, None) or RunSettings()
    results = build_results(state, settings)
    session.config.stash[FINAL_KEY] = results
    report_dir = settings.report_dir
    if report_dir:
        from ..reports import write_reports

        try:
            write_reports(
                results,
                report_dir,
                secrets=state.recorder.secrets if state.recorder else None,
            )
        except OSError as exc:
            state.error = SuiteError(
                f"cannot write the reports to {report_dir}: {exc.strerror or exc}"
            )
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR


FINAL_KEY = pytest.StashKey[Any]()
