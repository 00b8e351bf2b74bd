"""A run that cannot test says why with a typed error, from the engine through the plugin to the
CLI's edge: the kind and exit code travel with it (no reason flattened to a string and wrapped
again), and ``neuropay test`` prints it as its one line."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from neuropay_contract.contract.cli import SuiteRun, run_suite
from neuropay_contract.contract.settings import RunSettings
from neuropay_contract.errors import EXIT_ERROR, TargetError, UsageError


def _dead_url() -> str:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{unused.getsockname()[1]}"  # closed again: nobody listens


def _run(tmp_path: Path, keyword: str | None = None, **given: str) -> SuiteRun:
    settings = RunSettings(report_dir=tmp_path, profile="ci", seed=1, **given)  # type: ignore[arg-type]
    return run_suite(settings, keyword)


@pytest.mark.parametrize(
    ("given", "kind", "says"),
    [
        ({"target_url": "DEAD", "api_key": "sk_test_x"}, TargetError, "cannot reach"),
        ({"target_url": "DEAD", "api_key": "sk_live_x"}, UsageError, "refusing to run with a live"),
    ],
    ids=["unreachable-target", "live-key"],
)
def test_why_a_run_cannot_test_reaches_the_cli_typed(
    tmp_path: Path, given: dict[str, str], kind: type[Exception], says: str
) -> None:
    given = {name: _dead_url() if value == "DEAD" else value for name, value in given.items()}
    run = _run(tmp_path, "test_requires_valid_key", **given)
    assert type(run.error) is kind and says in str(run.error)
    assert run.code == EXIT_ERROR == run.error.exit_code
    assert run.results is None or run.results.error == str(run.error)


def test_a_selection_of_nothing_is_a_usage_error(tmp_path: Path) -> None:
    run = _run(tmp_path, "no_check_has_this_name")
    assert isinstance(run.error, UsageError) and run.code == EXIT_ERROR
    assert str(run.error) == "no contract check was selected"
