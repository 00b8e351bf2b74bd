"""pytest plugin of the contract suite: options, Hypothesis profiles and results.

Registered as the ``neuropay`` pytest11 entry point, so ``pytest contract_tests --target-url ...``
works from a checkout and ``neuropay test`` from an installed wheel. It does nothing for tests
that do not carry the ``np_check`` marker.
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any

import pytest

from ..errors import NeuropayError

if TYPE_CHECKING:
    import httpx
    from hypothesis import settings

    from .client import ContractClient
from .results_builder import RunState, build_results, check_result
from .settings import DEFAULT_TIMEOUT, PROFILES, RunSettings, RunTarget

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


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("neuropay", "neuropay contract suite")
    # Defaults are None: RunSettings fills them from the environment, once for the CLI and pytest.
    group.addoption(
        "--target-url",
        default=None,
        help="base URL of the server under test (default: the embedded reference server)",
    )
    group.addoption("--api-key", default=None, help="test API key (default: $NEUROPAY_API_KEY)")
    group.addoption(
        "--second-api-key",
        default=None,
        help="test key of another merchant, for isolation checks ($NEUROPAY_SECOND_API_KEY)",
    )
    group.addoption(
        "--live-api-key",
        default=None,
        help="live key of the first merchant, for test/live isolation ($NEUROPAY_LIVE_API_KEY)",
    )
    group.addoption(
        "--profile",
        default=None,
        choices=sorted(PROFILES),
        help="how hard to look: dev (fast, the default), ci, deep ($NEUROPAY_PROFILE)",
    )
    group.addoption(
        "--seed", type=int, default=None, help="seed for generated data (reproducible runs)"
    )
    group.addoption("--report-dir", default=None, help="write results.json and reports here")
    group.addoption(
        "--operations",
        default=None,
        help="certify only these operations (comma-separated operationIds): checks of others "
        "are not covered and the verdict covers the subset",
    )
    group.addoption(
        "--request-timeout",
        type=float,
        default=None,
        help=f"seconds to wait for each answer of the target ($NEUROPAY_TIMEOUT, {DEFAULT_TIMEOUT:g})",
    )
    group.addoption(
        "--np-spec", default=None, help="spec to test against (default: the bundled spec)"
    )
    for name in (
        "card-number-success",
        "card-number-decline",
        "card-id-success",
        "card-id-decline",
    ):
        group.addoption(
            f"--{name}",
            default=None,
            help=f"override the spec's test-mode {name.replace('-', ' ')}",
        )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "np_check(category, operation=None, status=None): a check of the contract suite"
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
    hypothesis_seed = config.getoption("--hypothesis-seed", None)
    if config.getoption("--seed") is None:
        # Every run has a seed, shown in the header, the summary and the reports, so a red run
        # can be replayed with --seed (xdist workers receive the controller's choice).
        given = str(hypothesis_seed) if hypothesis_seed is not None else ""
        config.option.seed = int(given) if given.isdigit() else secrets.randbelow(2**31)
    if hypothesis_seed is None:
        # --seed alone makes every property and fuzz check reproducible, as --hypothesis-seed does
        # (the same global Hypothesis uses for it).
        from hypothesis import core

        core.global_force_seed = int(config.option.seed)  # type: ignore[assignment]
    state = RunState(started=time.time())
    config.stash[RESULTS_KEY] = state
    global ACTIVE_PROFILE, ACTIVE_SPEC_PATH
    try:
        run = RunSettings.from_pytest(config.getoption)
    except NeuropayError as exc:
        # Reported when the suite's first fixture asks for the settings (pytest.exit here would
        # stop runs of unrelated tests that merely have the plugin installed).
        state.error = str(exc)
        run = RunSettings()
    else:
        config.stash[SETTINGS_KEY] = run
    ACTIVE_PROFILE = run.profile
    ACTIVE_SPEC_PATH = str(run.spec_path) if run.spec_path else None


def pytest_report_header(config: pytest.Config) -> str:
    seed = config.getoption("--seed")
    return f"neuropay: profile {ACTIVE_PROFILE}, seed {seed} (replay: --seed {seed})"


def run_settings(config: pytest.Config) -> RunSettings:
    """This run's validated settings; stops the run (exit 2, one line) when they are not valid."""
    settings = config.stash.get(SETTINGS_KEY, None)
    if settings is None:
        state = config.stash.get(RESULTS_KEY, None)
        fail_run(config, (state.error if state else None) or "the run's options are not valid")
    assert settings is not None
    return settings


def fail_run(config: pytest.Config, reason: str) -> None:
    """Stop the run as "could not test" with ``reason`` (the CLI prints it as one line)."""
    state = config.stash.get(RESULTS_KEY, None)
    if state is not None:
        state.error = reason
    pytest.exit(reason, returncode=2)


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
            state.error = f"cannot write the reports to {report_dir}: {exc.strerror or exc}"
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR


FINAL_KEY = pytest.StashKey[Any]()
